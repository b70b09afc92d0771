"""Issue 12's polish on the licensing side: entitlement names, "just now", an empty chart that says
so, one date format, and the validation log's codes in the admin."""

from datetime import date, timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone

from billing.templatetags.billing_tags import entitlement_label
from licensing.figures import bar_chart
from licensing.models import ValidationCode, ValidationEvent
from qualitybytes.admin_helpers import local_time
from qualitybytes.templatetags.qb_time import ago

EVENTS = "/admin/licensing/validationevent/"


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("sso", "SSO"),
        ("saml_sso", "SAML SSO"),
        ("api_access", "API access"),
        ("priority_support", "Priority support"),
        ("offline_tokens", "Offline tokens"),
    ],
)
def test_entitlements_read_as_people_write_them(name, label):
    assert entitlement_label(name) == label


def test_a_time_under_a_minute_ago_is_just_now_then_minutes_then_the_date():
    now = timezone.now()
    assert ago(now - timedelta(seconds=5)) == "just now"
    assert ago(now - timedelta(minutes=5)) == "5\xa0minutes ago"
    old = timezone.make_aware(timezone.datetime(2026, 3, 3, 14, 5))
    assert ago(old) == "3 Mar 2026, 14:05"
    assert ago(None) == "never"


def test_pages_and_the_admin_share_one_date_format():
    moment = timezone.make_aware(timezone.datetime(2026, 3, 3, 14, 5))
    rendered = Template("{{ d|date }} · {{ t|date:'DATETIME_FORMAT' }} · {{ t }}").render(
        Context({"d": moment.date(), "t": moment})
    )
    assert rendered == "3 Mar 2026 · 3 Mar 2026, 14:05 · 3 Mar 2026, 14:05"
    assert local_time(moment) == "3 Mar 2026, 14:05"


def test_a_chart_of_zeros_says_it_is_empty():
    days = [{"day": date(2026, 3, d), "count": 0} for d in range(1, 31)]
    assert bar_chart(days, width=600, height=140, top=20, gap=2)["empty"] is True
    days[3]["count"] = 2
    assert bar_chart(days, width=600, height=140, top=20, gap=2)["empty"] is False


@pytest.mark.django_db
def test_the_dashboard_says_no_validations_instead_of_an_empty_chart(client, license_key):
    client.force_login(license_key.holder)
    page = client.get("/dashboard/").content.decode()
    assert "No validations in the last 30 days." in page
    assert 'class="chart"' not in page


@pytest.mark.django_db
def test_the_validation_log_shows_codes_and_filters_by_code(admin_client, license_key):
    ValidationEvent.objects.create(key=license_key, code=ValidationCode.TOO_MANY_DEVICES)
    ValidationEvent.objects.create(key=license_key, code=ValidationCode.VALID)
    page = admin_client.get(EVENTS).content.decode()
    assert '<code title="The key has more devices than its plan allows.">TOO_MANY_DEVICES</code>' in page
    # The filter lists codes, not the choices' sentences.
    assert '?code__exact=TOO_MANY_DEVICES">TOO_MANY_DEVICES</a>' in page
    assert "allows.</a>" not in page
    response = admin_client.get(EVENTS, {"code__exact": "TOO_MANY_DEVICES"})
    assert [event.code for event in response.context["cl"].result_list] == ["TOO_MANY_DEVICES"]

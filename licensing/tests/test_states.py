"""One license-state vocabulary: each state reached with real licenses, and the per-object state,
the queryset filters, the admin filter and badge, the CSV export and the API agreeing on it."""

import csv
import io
from datetime import timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone

from licensing.api.serializers import LicenseBlock
from licensing.exports import licenses_csv_write
from licensing.models import License, LicenseKeyStatus, LicenseState, LicenseStatus, PaymentStatus, Tone
from licensing.tests.factories import LicenseFactory, LicenseKeyFactory

NOW = timezone.now()
DAY = timedelta(days=1)

# Each row: the fields of a license, and the state it is in at NOW. Several rows per state, so
# that every branch of the rule (and the order staff hold > end > billing state) is reached.
CASES = [
    ({}, LicenseState.ACTIVE),
    ({"expires_at": None}, LicenseState.ACTIVE),
    (
        {"status": LicenseStatus.GRACE, "grace_ends_at": NOW + DAY, "expires_at": NOW - DAY},
        LicenseState.GRACE,
    ),
    # Past due with no grace end recorded: the period end still applies.
    ({"status": LicenseStatus.GRACE, "grace_ends_at": None, "expires_at": NOW + DAY}, LicenseState.GRACE),
    ({"status": LicenseStatus.INACTIVE}, LicenseState.INACTIVE),
    ({"status": LicenseStatus.INACTIVE, "expires_at": None}, LicenseState.INACTIVE),
    ({"expires_at": NOW - DAY}, LicenseState.EXPIRED),
    ({"status": LicenseStatus.INACTIVE, "expires_at": NOW - DAY}, LicenseState.EXPIRED),
    (
        {"status": LicenseStatus.GRACE, "grace_ends_at": NOW - DAY, "expires_at": NOW + DAY},
        LicenseState.EXPIRED,
    ),
    ({"status": LicenseStatus.GRACE, "grace_ends_at": None, "expires_at": NOW - DAY}, LicenseState.EXPIRED),
    ({"suspended_at": NOW}, LicenseState.SUSPENDED),
    ({"suspended_at": NOW, "expires_at": NOW - DAY}, LicenseState.SUSPENDED),
    ({"revoked_at": NOW}, LicenseState.REVOKED),
    ({"revoked_at": NOW, "suspended_at": NOW, "status": LicenseStatus.INACTIVE}, LicenseState.REVOKED),
]


@pytest.fixture
def table(db):
    """One license per row of CASES: [(license, expected state)]."""
    return [(LicenseFactory(**fields), state) for fields, state in CASES]


def test_every_state_is_reached_and_has_a_label_and_a_tone():
    assert {state for _, state in CASES} == set(LicenseState)
    assert LicenseState.GRACE.label == "Past due"
    assert {state.tone for state in LicenseState} <= set(Tone.values)
    assert {status.tone for status in PaymentStatus} <= set(Tone.values)


def test_each_license_is_in_its_state(table):
    assert [(LicenseState.of(license_, NOW), license_.pk) for license_, _ in table] == [
        (state, license_.pk) for license_, state in table
    ]


@pytest.mark.parametrize("state", list(LicenseState))
def test_the_queryset_filter_agrees_with_the_per_license_state(table, state):
    expected = {license_.pk for license_, _ in table if LicenseState.of(license_, NOW) == state}
    assert expected, f"no license of the table is {state}"
    assert set(License.objects.in_state(state, NOW).values_list("pk", flat=True)) == expected


def test_live_ended_and_billed_agree_with_the_states(table):
    def ids(queryset):
        return set(queryset.values_list("pk", flat=True))

    states = {license_.pk: LicenseState.of(license_, NOW) for license_, _ in table}
    live = {pk for pk, state in states.items() if state in (LicenseState.ACTIVE, LicenseState.GRACE)}
    assert ids(License.objects.live(NOW)) == live
    ended = {license_.pk for license_, _ in table if license_.ends_at and license_.ends_at <= NOW}
    assert ids(License.objects.ended(NOW)) == ended
    assert ids(License.objects.in_state(LicenseState.EXPIRED, NOW)) == ended - {
        pk for pk, state in states.items() if state in (LicenseState.SUSPENDED, LicenseState.REVOKED)
    }
    billed = LicenseFactory(stripe_subscription_id="sub_billed", status=LicenseStatus.GRACE)
    LicenseFactory(stripe_subscription_id="sub_gone", status=LicenseStatus.INACTIVE)
    assert ids(License.objects.billed()) == {billed.pk}


def test_a_key_reads_as_its_license_unless_it_is_revoked(db):
    key = LicenseKeyFactory(license=LicenseFactory(status=LicenseStatus.GRACE, grace_ends_at=NOW + DAY))
    assert LicenseState.of(key, NOW) == LicenseState.GRACE
    key.status = LicenseKeyStatus.REVOKED
    assert LicenseState.of(key, NOW) == LicenseState.REVOKED


def test_the_admin_filter_offers_the_states_and_lists_each(admin_client, table):
    changelist = admin_client.get("/admin/licensing/license/")
    filters = changelist.context["cl"].filter_specs
    state_filter = next(spec for spec in filters if spec.parameter_name == "state")
    assert state_filter.lookup_choices == LicenseState.choices
    for state in LicenseState:
        response = admin_client.get("/admin/licensing/license/", {"state": state.value})
        listed = {obj.pk for obj in response.context["cl"].result_list}
        assert listed == {license_.pk for license_, expected in table if expected == state}, state
        assert f'qb-badge-{state.tone}">{state.label}<' in response.content.decode()


def test_the_csv_and_the_api_say_the_same_state(table):
    out = io.StringIO()
    licenses_csv_write(out, now=NOW)
    rows = {row["license_id"]: row["state"] for row in csv.DictReader(io.StringIO(out.getvalue()))}
    assert rows == {str(license_.public_id): state.value for license_, state in table}
    assert LicenseBlock().fields["status"].choices == dict(LicenseState.choices)


def test_the_status_line_is_the_states_label_and_tone(table):
    template = Template("{% load billing_tags %}{% license_status license %}")
    for license_, state in table:
        html = template.render(Context({"license": license_}))
        assert f'class="status status-{state.tone}" data-status="{state.value}"' in html


def test_a_scheduled_cancellation_is_a_neutral_line_not_a_green_one(table):
    license_ = next(license_ for license_, state in table if state == LicenseState.ACTIVE)
    license_.cancel_at_period_end = True
    template = Template("{% load billing_tags %}{% license_status license %}")
    html = template.render(Context({"license": license_}))
    assert 'class="status status-info" data-status="active"' in html
    assert "Cancels on" in html

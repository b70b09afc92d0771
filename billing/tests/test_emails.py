"""Each of billing's emails, rendered: subject, text and HTML, with what the reader needs."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from accounts.tests.factories import UserFactory
from billing import emails
from billing.models import PaymentEvent, PaymentEventKind
from billing.tests.factories import PlanFactory
from licensing.models import LicenseStatus
from licensing.tests.factories import LicenseFactory

pytestmark = pytest.mark.django_db

DISPUTE = {"id": "du_1", "amount": 4900, "currency": "usd", "reason": "fraudulent"}


@pytest.fixture
def license_(db):
    return LicenseFactory(
        owner=UserFactory(email="owner@example.com", name="Ada"),
        plan=PlanFactory(slug="team", name="Team", seats=5),
        status=LicenseStatus.GRACE,
        grace_ends_at=datetime(2027, 1, 8, tzinfo=UTC),
        expires_at=datetime(2027, 2, 1, tzinfo=UTC),
    )


def sent(django_capture_on_commit_callbacks, send) -> list:
    with django_capture_on_commit_callbacks(execute=True):
        send()
    for message in mail.outbox:
        [(html, kind)] = message.alternatives
        assert kind == "text/html" and html.strip()
        assert message.subject.strip() and message.body.strip()
    return mail.outbox


def test_the_key_email_carries_the_key(django_capture_on_commit_callbacks, license_):
    [message] = sent(
        django_capture_on_commit_callbacks,
        lambda: emails.send_license_key(license=license_, key="QB-TEST1-KEY"),
    )
    assert message.to == ["owner@example.com"] and "license key" in message.subject
    assert "QB-TEST1-KEY" in message.body and "QB-TEST1-KEY" in message.alternatives[0][0]


def test_payment_failed_shows_the_grace_end_and_where_to_fix_it(django_capture_on_commit_callbacks, license_):
    [message] = sent(django_capture_on_commit_callbacks, lambda: emails.send_payment_failed(license=license_))
    assert "8 January 2027" in message.body and "/billing/" in message.body
    assert "payment failed" in message.subject.lower()


def test_subscription_canceled(django_capture_on_commit_callbacks, license_):
    [message] = sent(
        django_capture_on_commit_callbacks, lambda: emails.send_subscription_canceled(license=license_)
    )
    assert "ended" in message.subject and "Team" in message.body


def test_plan_changed_names_both_plans(django_capture_on_commit_callbacks, license_):
    old = PlanFactory(slug="solo", name="Solo")
    [message] = sent(
        django_capture_on_commit_callbacks, lambda: emails.send_plan_changed(license=license_, old_plan=old)
    )
    assert "now Team" in message.subject and "Solo" in message.body


def test_a_refund_states_the_amount(django_capture_on_commit_callbacks, license_):
    event = PaymentEvent.objects.create(
        license=license_,
        kind=PaymentEventKind.REFUND,
        stripe_id="re_1",
        amount=4900,
        currency="usd",
        full=True,
        happened_at=datetime.now(tz=UTC),
    )
    [message] = sent(django_capture_on_commit_callbacks, lambda: emails.send_payment_refunded(event=event))
    assert "$49" in message.body and "in full" in message.body


@pytest.mark.parametrize("suspended", [True, False])
def test_a_dispute_says_whether_the_license_is_suspended(
    django_capture_on_commit_callbacks, license_, suspended
):
    [message] = sent(
        django_capture_on_commit_callbacks,
        lambda: emails.send_payment_disputed(license=license_, dispute=DISPUTE, suspended=suspended),
    )
    assert "$49" in message.body
    assert ("suspended" in message.body) is suspended


@pytest.mark.parametrize("won, words", [(True, "works again"), (False, "stays suspended")])
def test_a_closed_dispute_says_what_follows(django_capture_on_commit_callbacks, license_, won, words):
    license_.suspended_at = None if won else datetime.now(tz=UTC) - timedelta(days=1)
    [message] = sent(
        django_capture_on_commit_callbacks,
        lambda: emails.send_dispute_closed(license=license_, dispute=DISPUTE, won=won),
    )
    assert words in message.body


def test_staff_alerts_go_to_the_configured_addresses_or_the_superusers(
    django_capture_on_commit_callbacks, license_, settings
):
    UserFactory(email="boss@example.com", is_superuser=True, is_staff=True)

    def alert():
        emails.send_staff_payment_alert(license=license_, subject="A full refund", lines=["Line one."])

    messages = sent(django_capture_on_commit_callbacks, alert)
    assert [m.to for m in messages] == [["boss@example.com"]]
    assert f"/admin/licensing/license/{license_.pk}/change/" in messages[0].body
    assert "Line one." in messages[0].alternatives[0][0]
    mail.outbox.clear()
    settings.STAFF_NOTIFICATION_EMAILS = ["billing@example.com", "ops@example.com"]
    assert [m.to for m in sent(django_capture_on_commit_callbacks, alert)] == [
        ["billing@example.com"],
        ["ops@example.com"],
    ]

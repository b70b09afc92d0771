"""Money coming back: refunds and disputes made on Stripe's side reach the license and the
people concerned, whatever the order and number of the events; staff actions in the admin reach
Stripe. Real HTTP to the simulator, signed webhooks, the validation API's answer at the end."""

import pytest
import stripe
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.urls import reverse

from accounts.tests.factories import UserFactory
from billing import payments
from billing.models import PaymentEvent, PaymentEventKind
from billing.tests.lifecycle import buy, subscribe_in_stripe_dashboard, validate
from licensing.models import License, LicenseStatus
from licensing.services import license_suspend

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)


def latest_invoice(license_: License) -> str:
    return stripe.Subscription.retrieve(license_.stripe_subscription_id)["latest_invoice"]


def mails_to(address: str) -> list:
    return [message for message in mail.outbox if address in message.to]


def test_a_full_refund_in_stripe_is_recorded_once_and_told_to_customer_and_staff(
    client, catalogue, buyer, staff
):
    license_ = buy(client, catalogue, buyer, plan="team")
    mail.outbox.clear()
    mark = catalogue.mark()
    catalogue.refund(latest_invoice(license_))
    [event] = PaymentEvent.objects.filter(license=license_)
    assert (event.kind, event.amount, event.full) == (PaymentEventKind.REFUND, 4900, True)
    assert [m.subject for m in mails_to("buyer@example.com")] == [
        "A refund for your QualityBytes Team subscription"
    ]
    [alert] = mails_to("staff@example.com")
    assert "full refund" in alert.subject.lower() and f"/admin/licensing/license/{license_.pk}/" in alert.body
    # Staff decide: the license keeps working until they revoke it.
    assert validate(client, license_)["code"] == "VALID"

    # Every event again, twice and concurrently: nothing is recorded or sent twice.
    mail.outbox.clear()
    catalogue.deliver(catalogue.events(since=mark), times=2, concurrently=True)
    catalogue.flush()
    assert PaymentEvent.objects.filter(license=license_).count() == 1
    assert mail.outbox == []

    client.force_login(staff)
    listing = client.get(reverse("admin:licensing_license_changelist"), {"money_back": "refunded"})
    assert buyer.email in listing.content.decode() and "refunded</span>" in listing.content.decode()
    page = client.get(reverse("admin:licensing_license_change", args=[license_.pk])).content.decode()
    assert "Refund (full)" in page and "$49" in page and "Revoke…" in page


def test_a_partial_refund_is_not_a_full_one(client, catalogue, buyer, staff):
    license_ = buy(client, catalogue, buyer, plan="team")
    catalogue.refund(latest_invoice(license_), amount=1000)
    [event] = PaymentEvent.objects.filter(license=license_)
    assert (event.amount, event.full) == (1000, False)
    assert "partial refund" in mails_to("staff@example.com")[0].subject.lower()


def test_an_open_dispute_suspends_and_a_won_dispute_reinstates(client, catalogue, buyer, staff):
    license_ = buy(client, catalogue, buyer)
    mail.outbox.clear()
    dispute = catalogue.dispute(latest_invoice(license_))
    license_.refresh_from_db()
    assert license_.suspended_reason == payments.DISPUTE_REASON and license_.suspended_by is None
    answer = validate(client, license_)
    assert (answer["valid"], answer["code"]) == (False, "SUSPENDED")
    assert [m.subject for m in mails_to("buyer@example.com")] == ["Your bank disputes a QualityBytes payment"]
    assert "Dispute opened" in mails_to("staff@example.com")[0].subject

    catalogue.close_dispute(dispute["id"], won=True)
    license_.refresh_from_db()
    assert license_.suspended_at is None
    assert validate(client, license_)["code"] == "VALID"
    kinds = set(PaymentEvent.objects.filter(license=license_).values_list("kind", flat=True))
    assert kinds == {PaymentEventKind.DISPUTE_OPENED, PaymentEventKind.DISPUTE_WON}
    assert any("works again" in m.subject for m in mails_to("buyer@example.com"))


def test_a_lost_dispute_keeps_the_license_suspended(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer)
    dispute = catalogue.dispute(latest_invoice(license_))
    catalogue.close_dispute(dispute["id"], won=False)
    license_.refresh_from_db()
    assert license_.suspended_reason == payments.DISPUTE_LOST_REASON
    assert validate(client, license_)["code"] == "SUSPENDED"


def test_dispute_events_in_any_order_end_in_the_same_state(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer)
    with catalogue.hold_webhooks():
        dispute = catalogue.dispute(latest_invoice(license_))
        catalogue.close_dispute(dispute["id"], won=True)
        events = catalogue.pending_events()
    catalogue.deliver(list(reversed(events)), times=2, concurrently=True)
    catalogue.flush()
    license_.refresh_from_db()
    # Seen first as already won: recorded as opened and won, never suspended.
    assert license_.suspended_at is None
    assert PaymentEvent.objects.filter(license=license_).count() == 2
    assert validate(client, license_)["code"] == "VALID"


def test_a_won_dispute_never_lifts_a_suspension_made_by_staff(client, catalogue, buyer, staff):
    license_ = buy(client, catalogue, buyer)
    license_suspend(license=license_, reason="abuse report", by=staff)
    dispute = catalogue.dispute(latest_invoice(license_))
    catalogue.close_dispute(dispute["id"], won=True)
    license_.refresh_from_db()
    assert license_.suspended_reason == "abuse report"
    assert validate(client, license_)["code"] == "SUSPENDED"


def test_suspension_on_dispute_can_be_turned_off(client, catalogue, buyer, settings):
    settings.BILLING_SUSPEND_ON_DISPUTE = False
    license_ = buy(client, catalogue, buyer)
    catalogue.dispute(latest_invoice(license_))
    license_.refresh_from_db()
    assert license_.suspended_at is None
    assert PaymentEvent.objects.filter(license=license_, kind=PaymentEventKind.DISPUTE_OPENED).exists()
    assert validate(client, license_)["code"] == "VALID"


def test_a_refund_of_a_charge_no_license_knows_changes_nothing(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer)
    charge_id = stripe.Charge.list().data[0]["id"]
    License.objects.filter(pk=license_.pk).update(stripe_subscription_id="sub_somebody_else")
    catalogue.refund(charge_id)  # the webhook answers 2xx and records nothing
    assert catalogue.failed_deliveries() == []
    assert not PaymentEvent.objects.exists()
    assert payments.charge_refunds_reconcile(charge_id=charge_id) == []


# --- staff actions reach Stripe -----------------------------------------------------------------


def staff_action(client, license_: License, name: str, **form):
    url = reverse("admin:licensing_license_staff_action", args=[license_.pk, name])
    return client.post(url, {"confirm": "yes", "reason": "customer asked", **form})


def test_staff_refund_the_last_payment_once_with_a_reason_in_the_history(client, catalogue, buyer, staff):
    license_ = buy(client, catalogue, buyer, plan="team")
    client.force_login(staff)
    response = staff_action(client, license_, "refund_last_payment")
    assert response.status_code == 302
    [refund] = stripe.Refund.list().data
    assert refund["amount"] == 4900
    assert PaymentEvent.objects.get(license=license_).stripe_id == refund["id"]
    assert "Refunded $49" in LogEntry.objects.get(object_id=str(license_.pk)).change_message
    # Pressed again: Stripe is not asked to refund twice, and the admin says why.
    follow = staff_action(client, license_, "refund_last_payment")
    assert follow.status_code == 302
    assert len(stripe.Refund.list().data) == 1
    messages = [str(m) for m in client.get(reverse("admin:index")).context["messages"]]
    assert any("already refunded" in m for m in messages)


@pytest.mark.parametrize(
    "when, status, code", [("now", "canceled", "INACTIVE"), ("period_end", "active", "VALID")]
)
def test_staff_cancel_the_subscription(client, catalogue, buyer, staff, when, status, code):
    license_ = buy(client, catalogue, buyer)
    client.force_login(staff)
    assert staff_action(client, license_, "cancel_subscription", when=when).status_code == 302
    data = stripe.Subscription.retrieve(license_.stripe_subscription_id)
    assert data["status"] == status
    assert data["cancel_at_period_end"] is (when == "period_end")
    assert validate(client, license_)["code"] == code
    assert LogEntry.objects.filter(object_id=str(license_.pk)).exists()


def test_staff_revoke_and_cancel_in_one_step(client, catalogue, buyer, staff):
    license_ = buy(client, catalogue, buyer)
    client.force_login(staff)
    assert staff_action(client, license_, "revoke", subscription="cancel_now").status_code == 302
    license_.refresh_from_db()
    assert license_.revoked_at is not None and license_.status == LicenseStatus.INACTIVE
    assert stripe.Subscription.retrieve(license_.stripe_subscription_id)["status"] == "canceled"
    assert validate(client, license_)["code"] == "REVOKED"


def test_staff_cancel_and_refund_a_duplicate_subscription(client, catalogue, buyer, staff):
    first = buy(client, catalogue, buyer, plan="team")
    second = subscribe_in_stripe_dashboard(catalogue, first)
    client.force_login(staff)
    listing = client.get(
        reverse("admin:licensing_license_changelist"), {"billed_twice": "yes"}
    ).content.decode()
    assert "billed twice</span>" in listing
    page = client.get(reverse("admin:licensing_license_change", args=[second.pk])).content.decode()
    assert "Cancel and refund (billed twice)" in page

    assert staff_action(client, second, "cancel_and_refund").status_code == 302
    second.refresh_from_db()
    assert second.status == LicenseStatus.INACTIVE
    assert [r["amount"] for r in stripe.Refund.list().data] == [1200]
    first.refresh_from_db()
    assert first.status == LicenseStatus.ACTIVE and validate(client, first)["code"] == "VALID"
    assert (
        client.get(reverse("admin:licensing_license_changelist"), {"billed_twice": "yes"})
        .context["cl"]
        .result_count
        == 0
    )

"""The lifecycle matrix: every Stripe path a payments engineer replays, each delivered three ways —
late (held until the whole path is over, then in order), shuffled, and duplicated concurrently
(every event three times at once, shuffled) — and each ends with the validation API's answer.

A path starts after a paid Team subscription (its webhooks delivered as usual); its Stripe-side
actions then run with webhooks held, and the held events are delivered in the mode under test.
"""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import stripe
from django.core import mail

from billing.models import PaymentEvent, Plan
from billing.tests.lifecycle import buy, change_plan, validate
from licensing.models import License, LicenseStatus

pytestmark = pytest.mark.django_db(transaction=True)


def latest_invoice(sim, license_) -> str:
    return stripe.Subscription.retrieve(license_.stripe_subscription_id)["latest_invoice"]


def price_id(lookup_key: str) -> str:
    return stripe.Price.list(lookup_keys=[lookup_key]).data[0]["id"]


@dataclass(frozen=True)
class Path:
    name: str
    steps: callable
    status: str
    code: str
    plan: str = "team"
    payment_events: int = 0
    grace_days: int | None = None


def _renew(client, sim, license_, buyer):
    sim.renew(license_.stripe_subscription_id)


def _fail(client, sim, license_, buyer):
    sim.fail_payment(license_.stripe_subscription_id)


def _fail_then_cancel(client, sim, license_, buyer):
    sim.fail_payment(license_.stripe_subscription_id)
    sim.exhaust_retries(license_.stripe_subscription_id, outcome="cancel")


def _fail_then_unpaid(client, sim, license_, buyer):
    sim.fail_payment(license_.stripe_subscription_id)
    sim.exhaust_retries(license_.stripe_subscription_id, outcome="mark_unpaid")


def _fail_then_recover(client, sim, license_, buyer):
    sim.fail_payment(license_.stripe_subscription_id)
    sim.retry_payment(license_.stripe_subscription_id, succeed=True)


def _cancel_at_period_end(client, sim, license_, buyer):
    sim.cancel_at_period_end(license_.stripe_subscription_id)


def _cancel_at_period_end_then_end(client, sim, license_, buyer):
    sim.cancel_at_period_end(license_.stripe_subscription_id)
    sim.end_period(license_.stripe_subscription_id)


def _cancel_now(client, sim, license_, buyer):
    sim.cancel_now(license_.stripe_subscription_id)


def _declined_upgrade(client, sim, license_, buyer):
    sim.fail_next_payments(1)
    client.force_login(buyer)
    change_plan(client, "enterprise", "month")


def _paid_upgrade(client, sim, license_, buyer):
    client.force_login(buyer)
    change_plan(client, "enterprise", "month")


def _portal_downgrade(client, sim, license_, buyer):
    sim.change_price(license_.stripe_subscription_id, price_id("qb_solo_monthly"))


def _price_change_then_renewals(client, sim, license_, buyer):
    from django.core.management import call_command

    Plan.objects.filter(slug="team").update(monthly_amount=5900)
    call_command("sync_plans")
    sim.renew(license_.stripe_subscription_id)
    sim.renew(license_.stripe_subscription_id)


def _full_refund(client, sim, license_, buyer):
    sim.refund(latest_invoice(sim, license_))


def _dispute_open(client, sim, license_, buyer):
    sim.dispute(latest_invoice(sim, license_))


def _dispute_won(client, sim, license_, buyer):
    dispute = sim.dispute(latest_invoice(sim, license_))
    sim.close_dispute(dispute["id"], won=True)


def _dispute_lost(client, sim, license_, buyer):
    dispute = sim.dispute(latest_invoice(sim, license_))
    sim.close_dispute(dispute["id"], won=False)


def _customer_deleted(client, sim, license_, buyer):
    sim.delete_customer(stripe.Subscription.retrieve(license_.stripe_subscription_id)["customer"])


ACTIVE, GRACE, INACTIVE = LicenseStatus.ACTIVE, LicenseStatus.GRACE, LicenseStatus.INACTIVE
PATHS = [
    Path("renewal", _renew, ACTIVE, "VALID"),
    Path("failed renewal", _fail, GRACE, "GRACE", grace_days=7),
    Path("failed, retries exhausted, canceled", _fail_then_cancel, INACTIVE, "INACTIVE"),
    Path("failed, retries exhausted, unpaid", _fail_then_unpaid, INACTIVE, "INACTIVE"),
    Path("failed, then paid", _fail_then_recover, ACTIVE, "VALID"),
    Path("cancel at period end", _cancel_at_period_end, ACTIVE, "VALID"),
    Path("cancel at period end, period ends", _cancel_at_period_end_then_end, INACTIVE, "INACTIVE"),
    Path("canceled now", _cancel_now, INACTIVE, "INACTIVE"),
    Path("upgrade declined", _declined_upgrade, ACTIVE, "VALID"),
    Path("upgrade paid", _paid_upgrade, ACTIVE, "VALID", plan="enterprise"),
    Path("downgrade in the portal", _portal_downgrade, ACTIVE, "VALID", plan="solo"),
    Path("price change, renewals on the old price", _price_change_then_renewals, ACTIVE, "VALID"),
    Path("full refund", _full_refund, ACTIVE, "VALID", payment_events=1),
    Path("dispute open", _dispute_open, ACTIVE, "SUSPENDED", payment_events=1),
    Path("dispute won", _dispute_won, ACTIVE, "VALID", payment_events=2),
    Path("dispute lost", _dispute_lost, ACTIVE, "SUSPENDED", payment_events=2),
    Path("customer deleted", _customer_deleted, INACTIVE, "INACTIVE"),
]


def deliver(sim, events: list[dict], mode: str) -> None:
    if mode == "late":
        sim.deliver(events)
    elif mode == "shuffled":
        random.Random(11).shuffle(events)
        sim.deliver(events)
    else:
        random.Random(13).shuffle(events)
        sim.deliver(events, times=3, concurrently=True)
    sim.flush()


@pytest.mark.parametrize("mode", ["late", "shuffled", "duplicated concurrently"])
@pytest.mark.parametrize("path", PATHS, ids=[path.name for path in PATHS])
def test_the_license_follows_the_money(client, catalogue, buyer, path, mode):
    license_ = buy(client, catalogue, buyer, plan="team")
    started = datetime.now(tz=UTC)
    with catalogue.hold_webhooks():
        path.steps(client, catalogue, license_, buyer)
        events = catalogue.pending_events()
    deliver(catalogue, events, mode)
    assert catalogue.failed_deliveries() == []

    license_.refresh_from_db()
    assert License.objects.filter(owner=buyer).count() == 1
    assert license_.keys.count() == 1
    assert (license_.status, license_.plan.slug) == (path.status, path.plan)
    answer = validate(client, license_)
    assert answer["code"] == path.code
    assert PaymentEvent.objects.filter(license=license_).count() == path.payment_events
    assert len([m for m in mail.outbox if "license key" in m.subject]) == 1
    if path.grace_days is not None:
        grace = started + timedelta(days=path.grace_days)
        assert abs(license_.grace_ends_at - grace) < timedelta(seconds=30)
        assert answer["license"]["grace_ends_at"] is not None
    else:
        assert license_.grace_ends_at is None

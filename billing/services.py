"""Stripe workflows: Checkout, the one reconcile, plan changes, cancel / resume, the portal.

Every Stripe event we handle ends in `subscription_reconcile`, which re-fetches the
subscription and derives the whole license from it, so events may come late, twice, in any
order or not at all (`reconcile_subscriptions` repairs the last case).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from djstripe.models import Customer
from djstripe.models import Subscription as DjstripeSubscription
from djstripe.settings import djstripe_settings

from accounts.models import User
from billing.models import Interval, Plan
from licensing.models import License, LicenseStatus
from licensing.services import license_key_issue
from qualitybytes.emails import send_on_commit
from teams.services import notify_owner_seat_limit_exceeded, team_create_for_license
from teams.services import seats_in_use as teams_seats_in_use

logger = logging.getLogger(__name__)

LIVE_STATUSES = {"active", "trialing", "past_due"}
INACTIVE_STATUSES = {"unpaid", "canceled", "incomplete", "incomplete_expired", "paused"}


class BillingError(Exception):
    """A billing request the current state does not allow; the message is for the customer."""


def stripe_options(idempotency_key: str | None = None) -> dict:
    options = {
        "api_key": djstripe_settings.get_default_api_key(livemode=djstripe_settings.STRIPE_LIVE_MODE),
        "stripe_version": djstripe_settings.STRIPE_API_VERSION,
    }
    if idempotency_key:
        options["idempotency_key"] = idempotency_key
    return options


def _site_url(path: str) -> str:
    return settings.SITE_URL + path


def plan_for_price(price: dict) -> tuple[Plan, str]:
    """The catalogue plan and interval of a Stripe price, found by its lookup key."""
    lookup_key = price.get("lookup_key") or ""
    plan = Plan.objects.filter(Q(monthly_lookup_key=lookup_key) | Q(yearly_lookup_key=lookup_key)).first()
    if plan is None:
        raise BillingError(f"No plan in the catalogue has the Stripe price lookup key {lookup_key!r}.")
    interval = Interval.YEAR if plan.yearly_lookup_key == lookup_key else Interval.MONTH
    return plan, interval


def price_for(plan: Plan, interval: str) -> dict:
    """The active Stripe price for a plan and interval (created by `sync_plans`)."""
    lookup_key = plan.lookup_key_for(interval)
    prices = stripe.Price.list(lookup_keys=[lookup_key], active=True, limit=1, **stripe_options())
    if not prices.data:
        raise BillingError(
            f"Stripe has no active price {lookup_key!r} for {plan.name}. Run `manage.py sync_plans`."
        )
    return prices.data[0]


def live_license_for(user: User) -> License | None:
    """The user's license bought through a subscription that still bills."""
    return (
        License.objects.filter(owner=user, stripe_subscription_id__isnull=False, revoked_at__isnull=True)
        .exclude(status=LicenseStatus.INACTIVE)
        .select_related("plan")
        .first()
    )


# --- Checkout ---------------------------------------------------------------------------------


def checkout_create(*, user: User, plan: Plan, interval: str) -> str:
    """A Checkout Session in subscription mode for `user`; returns the URL to send them to."""
    if interval not in Interval.values:
        raise BillingError("Choose monthly or yearly billing.")
    if live_license_for(user):
        raise BillingError("You already have a subscription: change its plan instead.")
    customer, _ = Customer.get_or_create(subscriber=user)
    price = price_for(plan, interval)
    metadata = {"user_id": str(user.public_id), "plan": plan.slug, "interval": interval}
    # One idempotency key per attempt: a double click within Stripe's window reuses the session.
    attempt = uuid.uuid5(uuid.NAMESPACE_URL, f"{user.public_id}:{plan.slug}:{interval}:{_minute()}")
    session = stripe.checkout.Session.create(
        mode="subscription",
        customer=customer.id,
        client_reference_id=str(user.public_id),
        line_items=[{"price": price["id"], "quantity": 1}],
        metadata=metadata,
        subscription_data={"metadata": metadata},
        success_url=_site_url(reverse("billing:success")) + "?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=_site_url(reverse("billing:cancel")),
        **stripe_options(idempotency_key=f"checkout-{attempt}"),
    )
    return session["url"]


def _minute() -> str:
    return datetime.now(tz=UTC).strftime("%Y%m%d%H%M")


def checkout_complete(*, user: User, session_id: str) -> License | None:
    """The success page: fetch the session and reconcile at once, before any webhook."""
    try:
        session = stripe.checkout.Session.retrieve(session_id, **stripe_options())
    except stripe.InvalidRequestError as exc:
        raise BillingError("This checkout session does not exist.") from exc
    if session.get("client_reference_id") != str(user.public_id):
        raise BillingError("This checkout session belongs to another account.")
    if session.get("status") != "complete" or not session.get("subscription"):
        return None
    subscription_id = session["subscription"]
    if not isinstance(subscription_id, str):
        subscription_id = subscription_id["id"]
    return subscription_reconcile(subscription_id=subscription_id)


# --- the one reconcile ------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionFacts:
    """What a Stripe subscription says about a license, read from its current shape."""

    subscription_id: str
    customer_id: str
    status: str
    plan: Plan
    interval: str
    period_end: datetime | None
    cancel_at_period_end: bool

    @classmethod
    def from_stripe(cls, data: dict) -> SubscriptionFacts:
        items = data["items"]["data"]
        if not items:
            raise BillingError(f"Subscription {data['id']} has no items.")
        plan, interval = plan_for_price(items[0]["price"])
        # Under current API versions the period lives on the items, not the subscription.
        ends = [item.get("current_period_end") for item in items if item.get("current_period_end")]
        customer = data["customer"]
        return cls(
            subscription_id=data["id"],
            customer_id=customer if isinstance(customer, str) else customer["id"],
            status=data["status"],
            plan=plan,
            interval=interval,
            period_end=datetime.fromtimestamp(max(ends), tz=UTC) if ends else None,
            cancel_at_period_end=bool(data.get("cancel_at_period_end") or data.get("cancel_at")),
        )

    def license_status(self) -> str:
        if self.status in ("active", "trialing"):
            return LicenseStatus.ACTIVE
        if self.status == "past_due":
            return LicenseStatus.GRACE
        return LicenseStatus.INACTIVE

    def grace_ends_at(self) -> datetime | None:
        if self.status != "past_due" or self.period_end is None:
            return None
        return self.period_end + timedelta(days=self.plan.grace_days)


def subscription_fetch(subscription_id: str) -> dict:
    return stripe.Subscription.retrieve(subscription_id, **stripe_options())


def subscription_reconcile(*, subscription_id: str) -> License | None:
    """Re-fetch the subscription from Stripe and make its license match it."""
    data = subscription_fetch(subscription_id)
    DjstripeSubscription.sync_from_stripe_data(data, api_key=stripe_options()["api_key"])
    return license_apply(data=data)


def _owner_for(facts: SubscriptionFacts, data: dict) -> User:
    customer = Customer.objects.filter(id=facts.customer_id).select_related("subscriber").first()
    if customer and customer.subscriber:
        return customer.subscriber
    user_id = (data.get("metadata") or {}).get("user_id")
    user = User.objects.filter(public_id=user_id).first() if user_id else None
    if user is None:
        raise BillingError(f"No user for Stripe customer {facts.customer_id}.")
    return user


def license_apply(*, data: dict) -> License | None:
    """Derive the license of one subscription from its Stripe data (idempotent).

    Exactly one license per subscription: the unique subscription id plus a row lock. Staff
    revocation and suspension live in their own fields, which this never touches.
    """
    facts = SubscriptionFacts.from_stripe(data)
    if (
        facts.status in ("incomplete", "incomplete_expired")
        and not License.objects.filter(stripe_subscription_id=facts.subscription_id).exists()
    ):
        return None  # Never paid: no license to make.
    owner = _owner_for(facts, data)
    with transaction.atomic():
        license_, created = _get_or_create_locked(facts, owner)
        old_plan, old_status = license_.plan, license_.status
        license_.plan = facts.plan
        license_.billing_interval = facts.interval
        license_.status = facts.license_status()
        license_.expires_at = facts.period_end
        license_.grace_ends_at = facts.grace_ends_at()
        license_.cancel_at_period_end = facts.cancel_at_period_end
        license_.save()
        if created:
            issued = license_key_issue(license=license_, holder=owner)
            send_on_commit(
                "license-key",
                to=owner.email,
                context={"user": owner, "plan": facts.plan, "key": issued.plaintext, "license": license_},
            )
        if license_.seats_total > 1:
            team_create_for_license(license=license_)
        if not created and old_plan.seats > license_.plan.seats:
            excess = teams_seats_in_use(license=license_) - license_.seats_total
            if excess > 0:
                # Changed in the portal or by staff: the newest keys beyond the limit stop validating.
                notify_owner_seat_limit_exceeded(license=license_, excess=excess)
        _notify_changes(
            license_, owner=owner, facts=facts, old_plan=old_plan, old_status=old_status, created=created
        )
    return license_


def _get_or_create_locked(facts: SubscriptionFacts, owner: User) -> tuple[License, bool]:
    license_ = (
        License.objects.select_for_update().filter(stripe_subscription_id=facts.subscription_id).first()
    )
    if license_:
        return license_, False
    try:
        with transaction.atomic():
            return (
                License.objects.create(
                    owner=owner,
                    plan=facts.plan,
                    stripe_subscription_id=facts.subscription_id,
                    billing_interval=facts.interval,
                ),
                True,
            )
    except IntegrityError:
        # A concurrent delivery created it first; take its row and carry on as an update.
        return License.objects.select_for_update().get(stripe_subscription_id=facts.subscription_id), False


def _notify_changes(
    license_: License,
    *,
    owner: User,
    facts: SubscriptionFacts,
    old_plan: Plan,
    old_status: str,
    created: bool,
) -> None:
    context = {"user": owner, "plan": license_.plan, "license": license_}
    if license_.status == LicenseStatus.GRACE and old_status != LicenseStatus.GRACE:
        send_on_commit(
            "payment-failed", to=owner.email, context={**context, "fix_url": reverse("billing:manage")}
        )
    if facts.status == "canceled" and (created or old_status != LicenseStatus.INACTIVE):
        send_on_commit("subscription-canceled", to=owner.email, context=context)
    if not created and old_plan.pk != license_.plan_id:
        send_on_commit("plan-changed", to=owner.email, context={**context, "old_plan": old_plan})


def subscription_id_of_event(event_type: str, obj: dict) -> str | None:
    """Which subscription a handled event is about, under the current object shapes."""
    if event_type.startswith("customer.subscription."):
        return obj["id"]
    if event_type == "checkout.session.completed":
        subscription = obj.get("subscription")
        return subscription if isinstance(subscription, str) or subscription is None else subscription["id"]
    if event_type.startswith("invoice."):
        details = ((obj.get("parent") or {}).get("subscription_details") or {}).get("subscription")
        return details if isinstance(details, str) or details is None else details["id"]
    return None


# --- self-service -----------------------------------------------------------------------------


def subscription_change_plan(*, license: License, plan: Plan, interval: str) -> License:
    """Move the subscription to another price, with proration; refuse going below seats in use."""
    if interval not in Interval.values:
        raise BillingError("Choose monthly or yearly billing.")
    if license.plan_id == plan.pk and license.billing_interval == interval:
        raise BillingError(f"You are already on {plan.name}, billed {Interval(interval).label.lower()}.")
    used = teams_seats_in_use(license=license)
    if plan.seats < used:
        excess = used - plan.seats
        raise BillingError(
            f"{plan.name} has {plan.seats} seat{'s' if plan.seats != 1 else ''} but {used} are in use: "
            f"remove {excess} member{'s' if excess != 1 else ''} first."
        )
    data = subscription_fetch(license.stripe_subscription_id)
    item = data["items"]["data"][0]
    price = price_for(plan, interval)
    stripe.Subscription.modify(
        license.stripe_subscription_id,
        items=[{"id": item["id"], "price": price["id"]}],
        proration_behavior="create_prorations",
        cancel_at_period_end=False,
        metadata={**(data.get("metadata") or {}), "plan": plan.slug, "interval": interval},
        **stripe_options(),
    )
    return subscription_reconcile(subscription_id=license.stripe_subscription_id)


def subscription_cancel(*, license: License) -> License:
    """Cancel at the end of the paid period; the license works until then."""
    if license.cancel_at_period_end:
        raise BillingError("Your subscription is already set to end at the end of the period.")
    stripe.Subscription.modify(license.stripe_subscription_id, cancel_at_period_end=True, **stripe_options())
    return subscription_reconcile(subscription_id=license.stripe_subscription_id)


def subscription_resume(*, license: License) -> License:
    if not license.cancel_at_period_end:
        raise BillingError("Your subscription is not set to end.")
    stripe.Subscription.modify(license.stripe_subscription_id, cancel_at_period_end=False, **stripe_options())
    return subscription_reconcile(subscription_id=license.stripe_subscription_id)


def portal_session_create(*, user: User) -> str:
    """A Stripe Customer Portal session for the user; returns its URL."""
    customer = Customer.objects.filter(subscriber=user).first()
    if customer is None:
        raise BillingError("You have no billing account yet: choose a plan first.")
    session = stripe.billing_portal.Session.create(
        customer=customer.id, return_url=_site_url(reverse("billing:manage")), **stripe_options()
    )
    return session["url"]


# --- operators --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncedPrice:
    lookup_key: str
    price_id: str
    created: bool


def plan_sync(*, plan: Plan) -> list[SyncedPrice]:
    """Create or update the Stripe product and prices of one plan, keyed by lookup key.

    The product is the one the plan's existing prices belong to; a plan with no price yet gets
    a new product (created under an idempotency key, so a retried run makes no duplicate).
    """
    options = stripe_options()
    existing = {
        interval: next(
            iter(stripe.Price.list(lookup_keys=[plan.lookup_key_for(interval)], limit=1, **options).data),
            None,
        )
        for interval in (Interval.MONTH, Interval.YEAR)
    }
    known = next((price for price in existing.values() if price), None)
    name = f"QualityBytes {plan.name}"
    if known:
        product_id = known["product"] if isinstance(known["product"], str) else known["product"]["id"]
        stripe.Product.modify(product_id, name=name, active=True, **options)
    else:
        product_id = stripe.Product.create(
            name=name,
            metadata={"plan": plan.slug},
            **stripe_options(idempotency_key=f"product-{plan.slug}-{plan.monthly_lookup_key}"),
        )["id"]
    synced = []
    for interval, price in existing.items():
        amount = plan.amount_for(interval)
        lookup_key = plan.lookup_key_for(interval)
        if (
            price
            and price["active"]
            and price["unit_amount"] == amount
            and price["currency"] == plan.currency
        ):
            synced.append(SyncedPrice(lookup_key, price["id"], False))
            continue
        # Prices are immutable in Stripe: a new amount is a new price that takes the lookup key over.
        price = stripe.Price.create(
            product=product_id,
            unit_amount=amount,
            currency=plan.currency,
            recurring={"interval": interval},
            lookup_key=lookup_key,
            transfer_lookup_key=True,
            metadata={"plan": plan.slug, "interval": interval},
            **options,
        )
        synced.append(SyncedPrice(lookup_key, price["id"], True))
    return synced

"""Stripe workflows: Checkout, the one reconcile, plan changes, cancel / resume, the portal.

Every Stripe event we handle ends in `subscription_reconcile`, which re-fetches the
subscription and derives the whole license from it, so events may come late, twice, in any
order or not at all (`reconcile_subscriptions` repairs the last case).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import stripe
from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.formats import date_format
from djstripe.models import Customer
from djstripe.models import Subscription as DjstripeSubscription
from djstripe.settings import djstripe_settings

from accounts.models import User
from billing import emails
from billing.models import Interval, Plan, PlanPrice
from licensing.models import License, LicenseStatus
from licensing.selectors import live_license_for
from licensing.services import license_key_issue, license_keys_carry_over
from teams.selectors import seats_in_use as teams_seats_in_use
from teams.services import (
    notify_owner_seat_limit_exceeded,
    team_create_for_license,
    team_move_to_license,
)

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
    """The catalogue plan and interval of a Stripe price.

    A plan is recognised by every price that was ever its own: the price id recorded by
    `sync_plans`, then the price's metadata, then its current lookup key. Subscribers stay on
    an old price after a price change, and that price has lost its lookup key by then.
    """
    price_id = price.get("id") or ""
    known = PlanPrice.objects.filter(stripe_price_id=price_id).select_related("plan").first()
    if known:
        return known.plan, known.interval
    metadata = price.get("metadata") or {}
    recurring = price.get("recurring") or {}
    plan = Plan.objects.filter(slug=metadata.get("plan") or "").first()
    if plan is not None:
        interval = metadata.get("interval") or recurring.get("interval")
        if interval in Interval.values:
            _remember_price(plan, interval, price)
            return plan, interval
    lookup_key = price.get("lookup_key") or ""
    plan = Plan.objects.filter(Q(monthly_lookup_key=lookup_key) | Q(yearly_lookup_key=lookup_key)).first()
    if plan is None:
        raise BillingError(
            f"Stripe price {price_id or '?'} (lookup key {lookup_key!r}) belongs to no plan of the catalogue."
        )
    interval = Interval.YEAR if plan.yearly_lookup_key == lookup_key else Interval.MONTH
    _remember_price(plan, interval, price)
    return plan, interval


def _remember_price(plan: Plan, interval: str, price: dict) -> None:
    if not price.get("id") or price.get("unit_amount") is None:
        return
    PlanPrice.objects.get_or_create(
        stripe_price_id=price["id"],
        defaults={
            "plan": plan,
            "interval": interval,
            "unit_amount": price["unit_amount"],
            "currency": price.get("currency") or plan.currency,
        },
    )


def _charges_as_shown(price: dict, plan: Plan, interval: str) -> bool:
    """Whether a Stripe price charges what the catalogue shows for the plan and interval."""
    return price["unit_amount"] == plan.amount_for(interval) and price["currency"] == plan.currency


def price_for(plan: Plan, interval: str) -> dict:
    """The active Stripe price for a plan and interval (created by `sync_plans`).

    Refuses a price whose amount is not the one the catalogue shows: nobody is charged an
    amount they were not told (a plan edited but not yet synced, or edited in Stripe).
    """
    lookup_key = plan.lookup_key_for(interval)
    prices = stripe.Price.list(lookup_keys=[lookup_key], active=True, limit=1, **stripe_options())
    if not prices.data:
        raise BillingError(
            f"Stripe has no active price {lookup_key!r} for {plan.name}. Run `manage.py sync_plans`."
        )
    price = prices.data[0]
    if not _charges_as_shown(price, plan, interval):
        logger.error(
            "Stripe price %s of %s charges %s %s but the catalogue shows %s %s: run sync_plans",
            price["id"],
            lookup_key,
            price["unit_amount"],
            price["currency"],
            plan.amount_for(interval),
            plan.currency,
        )
        raise BillingError(
            f"The price of {plan.name} is being updated, so nothing was charged. "
            "Please try again in a few minutes."
        )
    _remember_price(plan, interval, price)
    return price


# --- Checkout ---------------------------------------------------------------------------------


def checkout_create(*, user: User, plan: Plan, interval: str) -> str:
    """A Checkout Session in subscription mode for `user`; returns the URL to send them to."""
    try:
        return _checkout_create(user=user, plan=plan, interval=interval)
    except stripe.StripeError as exc:
        logger.warning("Checkout for user %s could not start: %s", user.public_id, exc)
        raise BillingError("Stripe could not be reached, so nothing was charged. Please try again.") from exc


def _checkout_create(*, user: User, plan: Plan, interval: str) -> str:
    if interval not in Interval.values:
        raise BillingError("Choose monthly or yearly billing.")
    if live_license_for(user):
        raise BillingError("You already have a subscription: change its plan instead.")
    customer, _ = Customer.get_or_create(subscriber=user)
    _refuse_if_stripe_bills(customer.id)
    price = price_for(plan, interval)
    metadata = {"user_id": str(user.public_id), "plan": plan.slug, "interval": interval}
    # One idempotency key per attempt: a double click within Stripe's window reuses the session.
    # The user's newest license is part of it: once a Checkout was paid (and its subscription
    # has ended since), resubscribing within the minute must not replay that completed session.
    newest = License.objects.filter(owner=user).order_by("-pk").values_list("pk", flat=True).first()
    attempt = uuid.uuid5(
        uuid.NAMESPACE_URL, f"{user.public_id}:{plan.slug}:{interval}:{_minute()}:{newest or 0}"
    )
    with transaction.atomic():
        # One Checkout at a time per customer: the user's row lock orders two tabs, and the
        # later one expires the earlier, so two tabs can never both be paid.
        User.objects.select_for_update().filter(pk=user.pk).first()
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
        _expire_other_checkouts(customer_id=customer.id, keep=session["id"])
    return session["url"]


def _refuse_if_stripe_bills(customer_id: str) -> None:
    """Stripe knows of a live subscription whose webhook has not reached us yet (paid in another
    tab a moment ago): reconcile it now and send the customer to it, not to a second Checkout."""
    live = [
        data
        for data in stripe.Subscription.list(
            customer=customer_id, limit=100, **stripe_options()
        ).auto_paging_iter()
        if data["status"] in LIVE_STATUSES
    ]
    for data in live:
        try:
            subscription_data_apply(data)
        except Exception:  # noqa: BLE001 - the refusal stands; the webhook will retry the reconcile
            logger.exception("Live subscription %s could not be reconciled at checkout", data["id"])
    if live:
        raise BillingError("You already have a subscription: change its plan instead.")


def checkout_sessions_expire(*, customer_id: str) -> None:
    """Expire every open subscription Checkout of the customer (nothing may be bought for an
    account being deleted)."""
    _expire_other_checkouts(customer_id=customer_id, keep="")


def _expire_other_checkouts(*, customer_id: str, keep: str) -> None:
    open_sessions = stripe.checkout.Session.list(
        customer=customer_id, status="open", limit=100, **stripe_options()
    )
    for other in open_sessions.auto_paging_iter():
        if other["id"] == keep or other.get("mode") != "subscription":
            continue
        try:
            stripe.checkout.Session.expire(other["id"], **stripe_options())
        except stripe.InvalidRequestError:
            # Completed or expired meanwhile: a completed one becomes a flagged duplicate.
            logger.info("Checkout session %s could not be expired", other["id"])


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
    payment_failed_at: datetime | None = None

    @classmethod
    def from_stripe(cls, data: dict, *, payment_failed_at: datetime | None = None) -> SubscriptionFacts:
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
            payment_failed_at=payment_failed_at if data["status"] == "past_due" else None,
        )

    def license_status(self) -> str:
        if self.status in ("active", "trialing"):
            return LicenseStatus.ACTIVE
        if self.status == "past_due":
            return LicenseStatus.GRACE
        return LicenseStatus.INACTIVE


def payment_failed_at(data: dict) -> datetime | None:
    """When the payment of a past-due subscription first failed: the earliest open invoice of
    the subscription that Stripe has attempted, at its finalization (automatic collection
    attempts the charge when it finalizes the invoice)."""
    if data["status"] != "past_due":
        return None
    invoices = stripe.Invoice.list(subscription=data["id"], status="open", limit=100, **stripe_options())
    moments = [
        (invoice.get("status_transitions") or {}).get("finalized_at") or invoice["created"]
        for invoice in invoices.auto_paging_iter()
        if invoice.get("attempted") or invoice.get("attempt_count")
    ]
    return datetime.fromtimestamp(min(moments), tz=UTC) if moments else None


def subscription_fetch(subscription_id: str) -> dict:
    return stripe.Subscription.retrieve(subscription_id, **stripe_options())


def subscription_reconcile(*, subscription_id: str) -> License | None:
    """Re-fetch the subscription from Stripe and make its license (and dj-stripe's mirror,
    which the figures and exports read) match it. Webhooks, the success page, plan changes
    and `reconcile_subscriptions` all come here."""
    return subscription_data_apply(subscription_fetch(subscription_id))


def subscription_data_apply(data: dict) -> License | None:
    """The reconcile for subscription data just fetched from Stripe."""
    try:
        DjstripeSubscription.sync_from_stripe_data(data, api_key=stripe_options()["api_key"])
    except Exception:
        # The mirror serves figures and exports; the license must follow Stripe even when the
        # mirror cannot (e.g. its customer was deleted in Stripe before we ever saw it).
        logger.exception(
            "dj-stripe could not mirror subscription %s; the license is reconciled anyway", data["id"]
        )
    return license_apply(data=data)


def _owner_for(facts: SubscriptionFacts, data: dict) -> User:
    """Who owns the license of a new subscription: the Stripe customer's user, else the user
    named in the subscription's metadata (set at Checkout)."""
    customer = Customer.objects.filter(id=facts.customer_id).select_related("subscriber").first()
    if customer and customer.subscriber:
        return customer.subscriber
    user_id = (data.get("metadata") or {}).get("user_id")
    user = User.objects.filter(public_id=user_id).first() if user_id else None
    if user is None:
        raise BillingError(
            f"No user for Stripe customer {facts.customer_id} of subscription {facts.subscription_id}."
        )
    return user


def license_apply(*, data: dict) -> License | None:
    """Derive the license of one subscription from its Stripe data (idempotent).

    Exactly one license per subscription: the unique subscription id plus a row lock. An
    existing license keeps its owner whatever happens to the Stripe customer (deleted, its
    user unlinked). Staff revocation and suspension live in their own fields, which this never
    touches.
    """
    facts = SubscriptionFacts.from_stripe(data, payment_failed_at=payment_failed_at(data))
    existing = (
        License.objects.filter(stripe_subscription_id=facts.subscription_id).select_related("owner").first()
    )
    if existing is None and facts.status in ("incomplete", "incomplete_expired"):
        return None  # Never paid: no license to make.
    owner = existing.owner if existing else _owner_for(facts, data)
    with transaction.atomic():
        license_, created = _get_or_create_locked(facts, owner)
        old_plan, old_status = license_.plan, license_.status
        was_ending = license_.cancel_at_period_end
        license_.plan = facts.plan
        license_.billing_interval = facts.interval
        license_.status = facts.license_status()
        license_.expires_at = facts.period_end
        license_.payment_failed_at = _first_failure(license_, facts, old_status)
        license_.grace_ends_at = (
            license_.payment_failed_at + timedelta(days=facts.plan.grace_days)
            if license_.status == LicenseStatus.GRACE
            else None
        )
        license_.cancel_at_period_end = facts.cancel_at_period_end
        license_.save()
        owner = license_.owner
        if created:
            _keys_for_new_license(license_)
        if license_.seats_total > 1:
            team_create_for_license(license=license_)
        if not created and old_plan.seats > license_.plan.seats:
            excess = teams_seats_in_use(license=license_) - license_.seats_total
            if excess > 0:
                # Changed in the portal or by staff: the newest keys beyond the limit stop validating.
                notify_owner_seat_limit_exceeded(license=license_, excess=excess)
        _notify_changes(
            license_,
            facts=facts,
            old_plan=old_plan,
            old_status=old_status,
            created=created,
            was_ending=was_ending,
        )
    return license_


def _keys_for_new_license(license_: License) -> None:
    """The keys of a new subscription's license. A returning customer whose previous license
    ended gets its keys back (same key text, devices, team and members) and an email saying so;
    anyone else gets a new key by email. Runs once per license: only the delivery that created
    it under the subscription's lock comes here."""
    owner = license_.owner
    carried = license_keys_carry_over(license=license_)
    if carried.source is not None and license_.seats_total > 1:
        team_move_to_license(source=carried.source, target=license_)
    if owner.pk not in carried.holder_ids:
        issued = license_key_issue(license=license_, holder=owner)
        emails.send_license_key(license=license_, key=issued.plaintext)
        return
    excess = teams_seats_in_use(license=license_) - license_.seats_total
    emails.send_keys_restored(license=license_, keys=list(carried.keys), excess=max(excess, 0))
    if excess > 0:
        # A smaller plan than before: the newest keys beyond its seats stop validating.
        notify_owner_seat_limit_exceeded(license=license_, excess=excess)


def _first_failure(license_: License, facts: SubscriptionFacts, old_status: str) -> datetime | None:
    """The moment grace counts from: Stripe's first failed attempt of the unpaid invoice; while
    the license stays past due it never moves later (a second failed invoice adds no grace)."""
    if facts.status != "past_due":
        return None
    known = license_.payment_failed_at if old_status == LicenseStatus.GRACE else None
    candidates = [moment for moment in (facts.payment_failed_at, known) if moment]
    return min(candidates) if candidates else datetime.now(tz=UTC)


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
    facts: SubscriptionFacts,
    old_plan: Plan,
    old_status: str,
    created: bool,
    was_ending: bool = False,
) -> None:
    # The cancellation email is keyed on the flag's flip, under the license's row lock: our
    # page and the webhook that follows it (or the portal's change and its webhook) see it flip once.
    if not created and not was_ending and license_.cancel_at_period_end and facts.status in LIVE_STATUSES:
        emails.send_cancellation_scheduled(license=license_)
    if license_.status == LicenseStatus.GRACE and old_status != LicenseStatus.GRACE:
        emails.send_payment_failed(license=license_)
    if facts.status == "canceled" and (created or old_status != LicenseStatus.INACTIVE):
        emails.send_subscription_canceled(license=license_)
    if not created and old_plan.pk != license_.plan_id:
        emails.send_plan_changed(license=license_, old_plan=old_plan)


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


def _plan_change_checked(*, license: License, plan: Plan, interval: str) -> dict:
    """The subscription as Stripe has it now, once the change is allowed: another plan or
    interval, enough seats for the members, paid up, no earlier change waiting for its payment."""
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
    if data["status"] == "past_due":
        raise BillingError("Your last payment failed: pay the open invoice before changing plan.")
    if data.get("pending_update"):
        raise PaymentRequired(
            "A plan change is waiting for its payment: pay that invoice to finish it, or wait a day "
            "for it to lapse before choosing again.",
            invoice=_open_invoice(data),
        )
    return data


def subscription_change_plan(
    *,
    license: License,
    plan: Plan,
    interval: str,
    proration_date: int | None = None,
    idempotency_key: str | None = None,
) -> License:
    """Move the subscription to another price; the prorations are invoiced at once
    (PLAN_CHANGE_PRORATION), computed for `proration_date` (the preview's, so that the charge
    is the amount shown). Refuses going below the seats in use."""
    data = _plan_change_checked(license=license, plan=plan, interval=interval)
    item = data["items"]["data"][0]
    price = price_for(plan, interval)
    extra = {"proration_date": proration_date} if proration_date else {}
    try:
        # Charged now, and applied only if that charge succeeds (Stripe's pending updates):
        # a declined card leaves the subscription, the plan and the license as they were.
        updated = stripe.Subscription.modify(
            license.stripe_subscription_id,
            items=[{"id": item["id"], "price": price["id"]}],
            proration_behavior=PLAN_CHANGE_PRORATION,
            payment_behavior="pending_if_incomplete",
            **extra,
            **stripe_options(idempotency_key=idempotency_key),
        )
    except stripe.CardError as exc:
        raise BillingError(
            f"Your card was declined ({exc.user_message or 'no reason given'}): nothing changed."
        ) from exc
    if updated.get("pending_update"):
        subscription_reconcile(subscription_id=license.stripe_subscription_id)
        raise PaymentRequired(
            f"Your card was declined, so you are still on {license.plan.name}. "
            f"Pay the invoice to switch to {plan.name}, or update your card and try again.",
            invoice=_open_invoice(updated),
        )
    if updated.get("cancel_at_period_end") or updated.get("cancel_at"):
        # A new plan is a decision to stay: the pending cancellation goes (a separate call,
        # since a pending update accepts no other parameter).
        stripe.Subscription.modify(
            license.stripe_subscription_id,
            cancel_at_period_end=False,
            **stripe_options(idempotency_key=f"{idempotency_key}-stay" if idempotency_key else None),
        )
    return subscription_reconcile(subscription_id=license.stripe_subscription_id)


# --- plan changes: a preview from Stripe, then a confirmation ---------------------------------

# The prorations of a plan change are invoiced at once: the preview shows that invoice, and the
# confirmation sends the same behaviour and proration date, so the charge is the amount shown.
PLAN_CHANGE_PRORATION = "always_invoice"
PLAN_CHANGE_MAX_AGE = timedelta(minutes=10)
_PLAN_CHANGE_SALT = "billing.plan-change"


class PlanChangeStale(BillingError):
    """The confirmation no longer matches what was previewed (or was tampered with): nothing was
    charged, and the customer reviews an up-to-date preview."""


class PlanChangeAlreadyMade(BillingError):
    """The confirmation was used already (a double submit or a replay): nothing more is charged."""


@dataclass(frozen=True)
class ChangeLine:
    """One line of the invoice a plan change creates, in words."""

    description: str
    amount: int  # cents; negative for a credit

    @property
    def is_credit(self) -> bool:
        return self.amount < 0

    @property
    def magnitude(self) -> int:
        return abs(self.amount)


@dataclass(frozen=True)
class PlanChangePreview:
    """What Stripe will do when the change is confirmed: the invoice now, and the next one."""

    plan: Plan
    interval: str
    current_plan: Plan
    current_interval: str
    currency: str
    lines: tuple[ChangeLine, ...]
    total: int  # of the lines; negative when the change leaves a credit
    credit_used: int  # the customer's earlier credit that pays part of it
    amount_due: int  # charged now
    credit_left: int  # credit that goes to the next invoices
    next_amount: int
    next_date: datetime
    restarts_cycle: bool  # monthly <-> yearly: a new period starts now
    proration_date: int
    token: str

    new_amount: int = 0  # the new plan's price for its interval

    @property
    def interval_label(self) -> str:
        return Interval(self.interval).label.lower()

    @property
    def target(self) -> str:
        """What the customer switches to, in words: "Team", "yearly billing", "Team, billed yearly"."""
        if self.plan.pk == self.current_plan.pk:
            return f"{self.interval_label} billing"
        if self.interval == self.current_interval:
            return self.plan.name
        return f"{self.plan.name}, billed {self.interval_label}"

    @property
    def credit_after_next(self) -> int:
        """Credit still left once the next invoice has used what it can."""
        return max(0, self.credit_left - self.new_amount)

    @property
    def computed_at(self) -> datetime:
        return datetime.fromtimestamp(self.proration_date, tz=UTC)

    @property
    def current_interval_label(self) -> str:
        return Interval(self.current_interval).label.lower()


def _preview_invoice(*, subscription_id: str, item_id: str, price_id: str, proration_date: int) -> dict:
    return stripe.Invoice.create_preview(
        subscription=subscription_id,
        subscription_details={
            "items": [{"id": item_id, "price": price_id}],
            "proration_behavior": PLAN_CHANGE_PRORATION,
            "proration_date": proration_date,
        },
        **stripe_options(),
    )


def _day(timestamp: int) -> str:
    return date_format(datetime.fromtimestamp(timestamp, tz=UTC), "j M Y")


def _change_lines(invoice: dict) -> tuple[ChangeLine, ...]:
    lines = invoice["lines"]["data"]
    price_ids = [((line.get("pricing") or {}).get("price_details") or {}).get("price") for line in lines]
    known = {
        price.stripe_price_id: price
        for price in PlanPrice.objects.filter(stripe_price_id__in=[p for p in price_ids if p]).select_related(
            "plan"
        )
    }
    described = []
    for line, price_id in zip(lines, price_ids, strict=True):
        price = known.get(price_id)
        if price is None:
            described.append(ChangeLine(line.get("description") or "Subscription", line["amount"]))
            continue
        name = f"{price.plan.name} ({Interval(price.interval).label.lower()})"
        period = line["period"]
        proration = ((line.get("parent") or {}).get("subscription_item_details") or {}).get("proration")
        if proration and line["amount"] < 0:
            text = f"Unused time on {name} from {_day(period['start'])} to {_day(period['end'])}"
        elif proration:
            text = f"Remaining time on {name} from {_day(period['start'])} to {_day(period['end'])}"
        else:
            text = f"{name} from {_day(period['start'])} to {_day(period['end'])}"
        described.append(ChangeLine(text, line["amount"]))
    return tuple(described)


def plan_change_preview(
    *, license: License, plan: Plan, interval: str, proration_date: int | None = None
) -> PlanChangePreview:
    """Ask Stripe what changing to `plan` and `interval` charges now and on the next invoice,
    with the parameters the confirmation will send; the preview carries the signed token the
    confirmation needs."""
    try:
        data = _plan_change_checked(license=license, plan=plan, interval=interval)
        item = data["items"]["data"][0]
        price = price_for(plan, interval)
        current_plan, current_interval = plan_for_price(item["price"])
        proration_date = proration_date or int(datetime.now(tz=UTC).timestamp())
        invoice = _preview_invoice(
            subscription_id=data["id"],
            item_id=item["id"],
            price_id=price["id"],
            proration_date=proration_date,
        )
    except stripe.StripeError as exc:
        logger.warning("Plan change preview for license %s failed: %s", license.public_id, exc)
        raise BillingError(
            "Stripe could not be reached, so nothing can be shown or charged. Try again."
        ) from exc
    total = invoice["total"]
    starting = invoice.get("starting_balance") or 0
    after = total + starting
    credit_left = max(0, -after)
    restarts = current_interval != interval
    new_amount = price["unit_amount"] * (item.get("quantity") or 1)
    if restarts:
        renewal = [line for line in invoice["lines"]["data"] if line["amount"] > 0]
        next_ts = max(line["period"]["end"] for line in renewal) if renewal else item["current_period_end"]
    else:
        next_ts = item["current_period_end"]
    payload = {
        "l": str(license.public_id),
        "f": item["price"]["id"],
        "p": plan.slug,
        "i": interval,
        "d": proration_date,
        "a": invoice["amount_due"],
    }
    return PlanChangePreview(
        plan=plan,
        interval=interval,
        current_plan=current_plan,
        current_interval=current_interval,
        currency=invoice["currency"],
        lines=_change_lines(invoice),
        total=total,
        credit_used=min(-starting, total) if starting < 0 and total > 0 else 0,
        amount_due=invoice["amount_due"],
        credit_left=credit_left,
        next_amount=max(0, new_amount - credit_left),
        new_amount=new_amount,
        next_date=datetime.fromtimestamp(next_ts, tz=UTC),
        restarts_cycle=restarts,
        proration_date=proration_date,
        token=signing.dumps(payload, salt=_PLAN_CHANGE_SALT),
    )


def _plan_change_token_read(*, token: str, license: License, plan: Plan, interval: str) -> dict:
    try:
        payload = signing.loads(token, salt=_PLAN_CHANGE_SALT, max_age=PLAN_CHANGE_MAX_AGE)
    except signing.SignatureExpired as exc:
        minutes = int(PLAN_CHANGE_MAX_AGE.total_seconds() // 60)
        raise PlanChangeStale(
            f"That preview was more than {minutes} minutes old, so nothing was charged. "
            "Here is an up-to-date one: check it and confirm again."
        ) from exc
    except signing.BadSignature as exc:
        raise PlanChangeStale(
            "That confirmation could not be verified, so nothing was charged. "
            "Check this preview and confirm again."
        ) from exc
    expected = {"l": str(license.public_id), "p": plan.slug, "i": interval}
    if any(payload.get(name) != value for name, value in expected.items()):
        raise PlanChangeStale(
            "That confirmation was for another change, so nothing was charged. "
            "Check this preview and confirm again."
        )
    return payload


def plan_change_confirm(*, license: License, plan: Plan, interval: str, token: str) -> License:
    """Make the change a preview showed, once: the token (signed, with the preview's proration
    date) must match the choice, the subscription must still be on the price it was previewed
    from, and Stripe must still charge the amount shown. The token is the idempotency key of
    the update, and the license's row lock orders two submissions of the same confirmation, so
    a double submit or a replay charges once."""
    payload = _plan_change_token_read(token=token, license=license, plan=plan, interval=interval)
    key = "plan-change-" + hashlib.sha256(token.encode()).hexdigest()[:40]
    with transaction.atomic():
        # No join in the locking query: a concurrent confirmation that committed meanwhile moved
        # the row to another plan, and Postgres re-checks a join against the old plan row.
        license = License.objects.select_for_update().get(pk=license.pk)
        data = subscription_fetch(license.stripe_subscription_id)
        item = data["items"]["data"][0]
        if item["price"]["id"] != payload["f"]:
            now_plan, now_interval = plan_for_price(item["price"])
            if (now_plan.pk, now_interval) == (plan.pk, interval):
                raise PlanChangeAlreadyMade(
                    f"Your plan is already {plan.name}, billed {Interval(interval).label.lower()}: "
                    "this confirmation was used once and nothing more was charged."
                )
            raise PlanChangeStale(
                "Your subscription changed since that preview, so nothing was charged. "
                "Check this preview and confirm again."
            )
        if data["status"] != "past_due" and not data.get("pending_update"):
            invoice = _preview_invoice(
                subscription_id=data["id"],
                item_id=item["id"],
                price_id=price_for(plan, interval)["id"],
                proration_date=payload["d"],
            )
            if invoice["amount_due"] != payload["a"]:
                raise PlanChangeStale(
                    "The amount due changed since that preview, so nothing was charged. "
                    "Check this preview and confirm again."
                )
        try:
            return subscription_change_plan(
                license=license,
                plan=plan,
                interval=interval,
                proration_date=payload["d"],
                idempotency_key=key,
            )
        except stripe.StripeError as exc:
            logger.warning("Plan change of license %s failed at Stripe: %s", license.public_id, exc)
            raise BillingError(
                "Stripe could not be reached to finish the change. Check your billing page before "
                "trying again: the same confirmation never charges twice."
            ) from exc


class PaymentRequired(BillingError):
    """A charge was declined or is waiting: the customer can pay the open invoice."""

    def __init__(self, message: str, *, invoice: dict | None):
        super().__init__(message)
        self.invoice_url = (invoice or {}).get("hosted_invoice_url")
        self.amount_due = (invoice or {}).get("amount_due")
        self.currency = (invoice or {}).get("currency")


def _open_invoice(data: dict) -> dict | None:
    latest = data.get("latest_invoice")
    if not latest:
        return None
    invoice = latest if isinstance(latest, dict) else stripe.Invoice.retrieve(latest, **stripe_options())
    return invoice if invoice.get("status") == "open" else None


@dataclass(frozen=True)
class OpenInvoice:
    """The invoice a past-due customer has to pay, as Stripe has it now."""

    invoice_id: str
    number: str
    amount: int  # what is still to pay: Stripe's amount_remaining
    currency: str
    url: str  # Stripe's hosted invoice page
    created: datetime
    others: int = 0  # further open invoices of the subscription


def open_invoice_for(*, license: License) -> OpenInvoice | None:
    """The subscription's latest open invoice (None when nothing is due); BillingError when
    Stripe cannot be reached, with a message for the customer."""
    if not license.stripe_subscription_id:
        return None
    try:
        invoices = stripe.Invoice.list(
            subscription=license.stripe_subscription_id, status="open", limit=20, **stripe_options()
        ).data
    except stripe.StripeError as exc:
        logger.warning("Open invoice of license %s could not be read: %s", license.public_id, exc)
        raise BillingError(
            "Stripe could not be reached just now, so we cannot show the open invoice. "
            "Please reload the page in a minute."
        ) from exc
    payable = [invoice for invoice in invoices if invoice.get("hosted_invoice_url")]
    if not payable:
        return None
    latest = max(payable, key=lambda invoice: invoice["created"])
    return OpenInvoice(
        invoice_id=latest["id"],
        number=latest.get("number") or latest["id"],
        amount=latest.get("amount_remaining", latest.get("amount_due")) or 0,
        currency=latest["currency"],
        url=latest["hosted_invoice_url"],
        created=datetime.fromtimestamp(latest["created"], tz=UTC),
        others=len(payable) - 1,
    )


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
        if price and price["active"] and _charges_as_shown(price, plan, interval):
            _remember_price(plan, interval, price)
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
        # Recorded for good: subscribers keep this price after the next change, for years.
        _remember_price(plan, interval, price)
        synced.append(SyncedPrice(lookup_key, price["id"], True))
    return synced

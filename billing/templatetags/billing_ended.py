"""What happened to a subscription that ended, for the plan card of the dashboard and the billing
page (both render it through `billing/_ended.html`): when it ended and why, in words, read from
the license and dj-stripe's mirror of the subscription (no Stripe call)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django import template
from django.template.defaultfilters import date
from django.utils import timezone
from djstripe.models import Subscription as DjstripeSubscription

from licensing.models import License, ValidationCode

register = template.Library()

# Stripe's `cancellation_details.reason`, and `unpaid` (retries exhausted, kept but not charged).
PAYMENT_FAILED = "payment_failed"
CANCELLED = "cancellation_requested"
DISPUTED = "payment_disputed"
ENDED_CODES = frozenset({ValidationCode.EXPIRED, ValidationCode.INACTIVE})


@dataclass(frozen=True)
class SubscriptionEnd:
    license: License
    ended_at: datetime | None
    reason: str

    @property
    def involuntary(self) -> bool:
        return self.reason in (PAYMENT_FAILED, DISPUTED)

    @property
    def sentence(self) -> str:
        when = f" on {date(self.ended_at, 'j M Y')}" if self.ended_at else ""
        match self.reason:
            case "payment_failed":
                return f"Your subscription ended{when} after the payment failed."
            case "payment_disputed":
                return f"Your subscription ended{when} after the payment was disputed."
            case "cancellation_requested":
                return f"Your subscription ended{when} as you cancelled it."
            case _:
                return f"Your subscription ended{when}."


def _stripe_end(subscription_id: str) -> tuple[datetime | None, str]:
    data = (
        DjstripeSubscription.objects.filter(id=subscription_id).values_list("stripe_data", flat=True).first()
        or {}
    )
    if data.get("status") == "unpaid":
        # Retries ran out and Stripe keeps the subscription unpaid: it stopped, with no end date.
        return None, PAYMENT_FAILED
    reason = (data.get("cancellation_details") or {}).get("reason") or ""
    if not reason and data.get("cancel_at_period_end"):
        reason = CANCELLED  # ended at the period end before Stripe's deletion reached us
    ended = data.get("ended_at") or data.get("canceled_at")
    return (datetime.fromtimestamp(ended, tz=UTC) if ended else None), reason


def subscription_end_of(license_: License | None, now: datetime | None = None) -> SubscriptionEnd | None:
    """How the owner's Stripe subscription of `license_` ended, or None when it is live, was
    never a subscription, or is held by staff (the status line says why then)."""
    now = now or timezone.now()
    if license_ is None or not license_.stripe_subscription_id or license_.state(now) not in ENDED_CODES:
        return None
    ended_at, reason = _stripe_end(license_.stripe_subscription_id)
    if ended_at is None and reason != PAYMENT_FAILED and license_.expires_at and license_.expires_at <= now:
        ended_at = license_.expires_at
    return SubscriptionEnd(license=license_, ended_at=ended_at, reason=reason)


@register.simple_tag
def subscription_end(license_: License | None, user=None) -> SubscriptionEnd | None:
    """`subscription_end_of` for a license its owner `user` is looking at (None for anyone else)."""
    if license_ is None or user is None or license_.owner_id != user.pk:
        return None
    return subscription_end_of(license_)


@register.simple_tag
def last_subscription_end(user) -> SubscriptionEnd | None:
    """How the user's most recent subscription ended, when none is live (the billing page)."""
    if not user.is_authenticated:
        return None
    latest = (
        License.objects.filter(owner=user, stripe_subscription_id__isnull=False)
        .select_related("plan")
        .order_by("-created_at", "-pk")
        .first()
    )
    return subscription_end_of(latest)

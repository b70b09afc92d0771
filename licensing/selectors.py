"""Licensing's read side: every query here is scoped to the user it is for (services push)."""

from datetime import timedelta

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from djstripe.models import Invoice

from accounts.models import User
from licensing.models import (
    Device,
    License,
    LicenseKey,
    LicenseKeyStatus,
    UsageDaily,
    stale_cutoff,
)


def keys_held_by(user: User) -> QuerySet[LicenseKey]:
    """The user's own keys (each team member holds one), newest license first."""
    return (
        LicenseKey.objects.filter(holder=user)
        .select_related("license__plan", "license__owner")
        .annotate(
            devices_used=Count(
                "devices", filter=Q(devices__last_heartbeat_at__gte=stale_cutoff()), distinct=True
            ),
            seats_used=Count(
                "license__keys", filter=Q(license__keys__status=LicenseKeyStatus.ACTIVE), distinct=True
            ),
        )
        .order_by("-license__created_at", "created_at")
    )


def devices_of(user: User) -> QuerySet[Device]:
    """Devices on the user's active keys."""
    return (
        Device.objects.filter(key__holder=user, key__status=LicenseKeyStatus.ACTIVE)
        .select_related("key")
        .order_by("key_id", "-last_heartbeat_at")
    )


def usage_summary(user: User, *, days: int = 30) -> dict:
    """Validations per day on the user's keys (every day of the window, zeros included) and
    feature totals."""
    today = timezone.now().date()
    start = today - timedelta(days=days - 1)
    rows = UsageDaily.objects.filter(key__holder=user, day__gte=start)
    per_day = dict(
        rows.filter(feature=UsageDaily.VALIDATIONS)
        .values_list("day")
        .annotate(total=Sum("count"))
        .values_list("day", "total")
    )
    features = (
        rows.exclude(feature=UsageDaily.VALIDATIONS)
        .values("feature")
        .annotate(count=Sum("count"))
        .order_by("-count", "feature")
    )
    series = [
        {"day": start + timedelta(days=n), "validations": per_day.get(start + timedelta(days=n), 0)}
        for n in range(days)
    ]
    return {"days": series, "features": list(features)}


def invoices_of(user: User, *, limit: int = 12) -> QuerySet[Invoice]:
    """The user's latest Stripe invoices (dj-stripe's mirror), newest first."""
    return Invoice.objects.filter(customer__subscriber=user).order_by("-created")[:limit]


def billed_licenses(user: User) -> QuerySet[License]:
    """The user's licenses whose Stripe subscription still bills (active or past due), oldest
    first, whatever staff did to them: a revoked license can still be billed, and its owner
    must still see the subscription and be able to cancel it."""
    return License.objects.billed().filter(owner=user).select_related("plan").order_by("created_at", "pk")


def live_license_for(user: User) -> License | None:
    """The one subscription the customer pages act on: the oldest that still bills.

    A second live subscription (two Checkout tabs, one made in the Stripe dashboard) is flagged
    for staff (`duplicate_subscriptions`) and never chosen by chance.
    """
    return billed_licenses(user).first()


def duplicate_subscriptions(user: User) -> list[License]:
    """Live subscriptions beyond the first: billed twice, for staff to cancel and refund."""
    return list(billed_licenses(user)[1:])


def had_subscription(user: User) -> bool:
    """Whether the user ever paid for a Stripe subscription (live or ended): /pricing/ then says
    "Resubscribe" once none bills any more."""
    return License.objects.filter(owner=user, stripe_subscription_id__isnull=False).exists()

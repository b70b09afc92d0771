"""Scoped reads of licenses that the pages of several apps need (the pull side; services push)."""

from accounts.models import User
from licensing.models import License, LicenseStatus


def billed_licenses(user: User):
    """The user's licenses whose Stripe subscription still bills (active or past due), oldest
    first, whatever staff did to them: a revoked license can still be billed, and its owner
    must still see the subscription and be able to cancel it."""
    return (
        License.objects.filter(
            owner=user,
            stripe_subscription_id__isnull=False,
            status__in=[LicenseStatus.ACTIVE, LicenseStatus.GRACE],
        )
        .select_related("plan")
        .order_by("created_at", "pk")
    )


def live_license_for(user: User) -> License | None:
    """The one subscription the customer pages act on: the oldest that still bills.

    A second live subscription (two Checkout tabs, one made in the Stripe dashboard) is flagged
    for staff (`duplicate_subscriptions`) and never chosen by chance.
    """
    return billed_licenses(user).first()


def duplicate_subscriptions(user: User) -> list[License]:
    """Live subscriptions beyond the first: billed twice, for staff to cancel and refund."""
    return list(billed_licenses(user)[1:])

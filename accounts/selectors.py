"""Accounts' read side: every query here is scoped to the user it is for."""

from django.db.models import Q, QuerySet

from accounts.models import ApiToken, User


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    """The user's tokens that still authenticate (the page lists them; only they can be revoked)."""
    return ApiToken.objects.active().filter(user=user)


def account_for_address(address: str) -> User | None:
    """The active account whose primary address, or one of its verified addresses, is `address`."""
    by_address = Q(email__iexact=address) | Q(
        emailaddress__email__iexact=address, emailaddress__verified=True
    )
    return User.objects.filter(by_address, is_active=True).distinct().first()


def keys_to_send(user: User) -> list:
    """The keys the user holds that still can work (not revoked), with their plan and team."""
    return list(
        user.license_keys.active()
        .select_related("license__plan", "license__team")
        .order_by("-license__created_at", "created_at")
    )

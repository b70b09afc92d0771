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


def account_security(user: User) -> dict:
    """What the account page shows about the address and the second factor: two queries."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    pending = [address for address in EmailAddress.objects.filter(user=user) if not address.verified]
    authenticators = {item.type: item for item in Authenticator.objects.filter(user=user)}
    recovery = authenticators.get(Authenticator.Type.RECOVERY_CODES)
    return {
        "pending_email": pending[0].email if pending else None,
        "totp_on": Authenticator.Type.TOTP in authenticators,
        "recovery_codes_left": len(recovery.wrap().get_unused_codes()) if recovery else None,
    }

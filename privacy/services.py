"""Deleting an account (issue 12 item 7): what the confirmation page says, and the deletion.

Deletion is refused while a paid subscription still bills. Otherwise it ends what the account
can do and removes its personal data, keeping what invoices legally need: the licenses, the
Stripe customer and its invoices stay attached to the User row (License.owner is PROTECT), which
is kept anonymised and inactive: email `deleted-<id>@invalid`, no name, no usable password.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import stripe
from allauth.account.models import EmailAddress
from django.apps import apps
from django.db import transaction
from django.utils import timezone
from djstripe.models import Customer

from accounts.models import ApiToken, User
from billing import services as billing_services
from licensing.models import LicenseKey, LicenseKeyStatus
from licensing.selectors import live_license_for
from licensing.services import license_key_revoke
from qualitybytes.emails import send_on_commit
from teams import services as team_services
from teams.models import Invitation, Membership, Role

logger = logging.getLogger(__name__)


class DeletionRefused(Exception):
    """The account cannot be deleted now; the message says why, for its owner."""


@dataclass
class OwnedTeam:
    name: str
    members: list[str] = field(default_factory=list)  # emails of the other members


@dataclass
class DeletionCheck:
    refusal: str
    owned_teams: list[OwnedTeam]


def tombstone_email(user: User) -> str:
    return f"deleted-{user.pk}@invalid"


def deletion_check(user: User) -> DeletionCheck:
    """Whether the account can be deleted now (`refusal` is "" then) and whom it affects."""
    refusal = ""
    live = live_license_for(user)
    if live is not None:
        ends = f"{live.expires_at:%-d %b %Y}" if live.expires_at else "at the end of the paid period"
        if live.cancel_at_period_end:
            refusal = (
                f"Your {live.plan.name} subscription is paid until {ends}, when it ends. "
                "You can delete your account after that date."
            )
        else:
            refusal = (
                f"Your {live.plan.name} subscription is still live. Cancel your subscription first; "
                f"it ends on {ends}, and you can delete your account after that."
            )
    owned = []
    for membership in Membership.objects.filter(user=user, role=Role.OWNER).select_related("team"):
        others = membership.team.memberships.exclude(pk=membership.pk).select_related("user")
        owned.append(OwnedTeam(name=membership.team.name, members=[other.user.email for other in others]))
    return DeletionCheck(refusal=refusal, owned_teams=owned)


def _expire_open_checkouts(user: User) -> None:
    """Nothing may be bought for a deleted account: expire its Checkout sessions still open."""
    customer = Customer.objects.filter(subscriber=user).first()
    if customer is not None:
        billing_services.checkout_sessions_expire(customer_id=customer.id)


def account_delete(*, user: User, now: datetime | None = None) -> None:
    """Delete the account (see the module's docstring). Raises DeletionRefused, changing nothing."""
    now = now or timezone.now()
    if not user.is_active:
        raise DeletionRefused("This account is already deleted.")
    refusal = deletion_check(user).refusal
    if refusal:
        raise DeletionRefused(refusal)
    try:
        _expire_open_checkouts(user)
    except stripe.StripeError as exc:
        logger.warning("Deleting user %s: open checkouts could not be expired: %s", user.public_id, exc)
        raise DeletionRefused(
            "Stripe could not be reached, so nothing was changed. Please try again."
        ) from exc
    with transaction.atomic():
        _delete(user_id=user.pk, now=now)


def _delete(*, user_id: int, now: datetime) -> None:
    user = User.objects.select_for_update().get(pk=user_id)
    if not user.is_active:
        raise DeletionRefused("This account is already deleted.")
    if deletion_check(user).refusal:  # a subscription started meanwhile
        raise DeletionRefused(deletion_check(user).refusal)
    # The confirmation goes to the address the account had, before it is replaced.
    send_on_commit("account-deleted", to=user.email, context={"user": user})
    for membership in Membership.objects.filter(user=user).select_related("team"):
        team = membership.team
        if membership.is_owner:
            for other in team.memberships.exclude(pk=membership.pk):
                team_services.member_remove(membership=other, by=user, now=now)
            for invitation in Invitation.objects.filter(team=team).open():
                team_services.invitation_revoke(invitation=invitation, by=user, now=now)
        else:
            team_services.member_leave(team=team, user=user, now=now)
    for key in LicenseKey.objects.filter(holder=user, status=LicenseKeyStatus.ACTIVE):
        license_key_revoke(key=key, reason="The account was deleted.", now=now)
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    EmailAddress.objects.filter(user=user).delete()
    if apps.is_installed("allauth.mfa"):
        from allauth.mfa.models import Authenticator

        Authenticator.objects.filter(user=user).delete()
    if apps.is_installed("allauth.usersessions"):
        from allauth.usersessions.models import UserSession

        for session in UserSession.objects.filter(user=user):
            session.end()
    user.email = tombstone_email(user)
    user.name = ""
    user.set_unusable_password()
    user.is_active = user.is_staff = user.is_superuser = False
    user.save(update_fields=["email", "name", "password", "is_active", "is_staff", "is_superuser"])
    logger.info("User %s deleted their account.", user.public_id)

"""Team workflows: creation with the license, invitations, invite codes, members and seats.

The seat rule: active keys on the license plus pending (unexpired, open) invitations may not
exceed the license's seats. Every workflow that takes a seat locks the License row first and
counts inside the lock, so two people cannot take the last seat at once.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from licensing.models import VALID_CODES, KeyEndReason, License, LicenseKey
from licensing.services import license_key_issue, license_key_revoke
from teams import emails
from teams.models import (
    MANAGER_ROLES,
    Invitation,
    InvitationStatus,
    Membership,
    Role,
    Team,
    code_digest,
    generate_code,
    invitation_token_digest,
)
from teams.selectors import invitation_for_digest, seats_count
from teams.validators import validate_invitation_email

logger = logging.getLogger(__name__)


class TeamErrorCode(models.TextChoices):
    """Why a team action was refused (the `code` of the team API's errors)."""

    ALREADY_INVITED = "ALREADY_INVITED"
    ALREADY_MEMBER = "ALREADY_MEMBER"
    INVALID_CODE = "INVALID_CODE"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_INVITATION = "INVALID_INVITATION"
    INVALID_NAME = "INVALID_NAME"
    INVALID_ROLE = "INVALID_ROLE"
    LICENSE_INACTIVE = "LICENSE_INACTIVE"
    NOT_A_TEAM_PLAN = "NOT_A_TEAM_PLAN"
    NOT_PENDING = "NOT_PENDING"
    OWNER_CANNOT_LEAVE = "OWNER_CANNOT_LEAVE"
    OWNER_ROLE_FIXED = "OWNER_ROLE_FIXED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    SEAT_LIMIT_REACHED = "SEAT_LIMIT_REACHED"
    TEAM_ERROR = "TEAM_ERROR"
    USE_LEAVE = "USE_LEAVE"
    WRONG_EMAIL = "WRONG_EMAIL"


class TeamError(Exception):
    """A team action the current state does not allow; the message is for the person acting."""

    code = TeamErrorCode.TEAM_ERROR

    def __init__(self, message: str, *, code: TeamErrorCode | None = None):
        super().__init__(message)
        if code:
            self.code = code


class TeamPermissionDenied(TeamError):
    code = TeamErrorCode.PERMISSION_DENIED


class SeatLimitReached(TeamError):
    code = TeamErrorCode.SEAT_LIMIT_REACHED


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}{'*' * max(len(local) - 1, 2)}@{domain}"


# --- seats -----------------------------------------------------------------------------------


def _lock_license(license: License) -> License:
    return License.objects.select_for_update(of=("self",)).select_related("plan", "owner").get(pk=license.pk)


def _require_usable(license: License, now: datetime) -> None:
    if license.state(now) not in VALID_CODES:
        raise TeamError(
            "This team's license is not active, so nobody can join it right now.",
            code=TeamErrorCode.LICENSE_INACTIVE,
        )


def _require_free_seat(license: License, *, now: datetime) -> None:
    seats = seats_count(license=license, now=now)
    if seats.used >= seats.total:
        raise SeatLimitReached(
            f"{seats.all_taken} "
            f"({_plural(seats.keys, 'member key')}, {_plural(seats.pending, 'pending invitation')}). "
            "The owner can remove a member, revoke an invitation or move to a bigger plan."
        )


def _require_seat_for_invitation(license: License, *, now: datetime) -> None:
    """An accepted invitation turns its reserved seat into a key; only keys compete here.

    Normally its seat is free by construction. After the seats went down (a plan change or
    staff) more invitations may be pending than seats are free: the first to accept wins.
    """
    seats = seats_count(license=license, now=now)
    if seats.keys >= seats.total:
        raise SeatLimitReached(
            f"{seats.all_taken} by members, so this invitation cannot be accepted now. "
            "Ask the team's owner to free a seat."
        )


# --- the team --------------------------------------------------------------------------------


@transaction.atomic
def team_create_for_license(*, license: License) -> Team:
    """The team of a multi-seat license, with its owner as the owner member (idempotent).

    Billing calls this when a license with more than one seat is created and when a plan change
    takes a license from one seat to more. The owner's existing active key on the license
    becomes their membership key (one is issued if they have none).
    """
    license = _lock_license(license)
    team = Team.objects.filter(license=license).first()
    if team is not None:
        return team
    if license.seats_total < 2:
        raise TeamError("A team needs a license with more than one seat.", code=TeamErrorCode.NOT_A_TEAM_PLAN)
    owner = license.owner
    team = Team.objects.create(license=license, name=f"{owner.get_full_name()}'s team")
    key = LicenseKey.objects.filter(license=license, holder=owner).active().first()
    if key is None:
        key = license_key_issue(license=license, holder=owner).key
    Membership.objects.create(team=team, user=owner, role=Role.OWNER, key=key)
    logger.info("Team %s created for license %s.", team.public_id, license.public_id)
    return team


@transaction.atomic
def team_move_to_license(*, source: License, target: License) -> Team | None:
    """A returning customer's team comes back: re-attach the team of the ended license `source`
    to the new license `target` (with its members, roles, invitations and code) instead of
    making a new one. Their keys are moved by `licensing.services.license_keys_carry_over`.

    Nothing happens when `target` has one seat (the owner's key goes alone), when `source` has no
    team, or when `target` already has one (a duplicate delivery). Returns the team on `target`.
    """
    target = _lock_license(target)
    existing = Team.objects.filter(license=target).first()
    if existing is not None or target.seats_total < 2:
        return existing
    team = Team.objects.select_for_update().filter(license=source).first()
    if team is None:
        return None
    team.license = target
    team.save(update_fields=["license"])
    logger.info(
        "Team %s moved from ended license %s to license %s.",
        team.public_id,
        source.public_id,
        target.public_id,
    )
    return team


TEAM_NAME_MAX_LENGTH = Team._meta.get_field("name").max_length


def clean_team_name(name) -> str:
    """A team name as people type it: stripped, not empty, at most 100 characters, no control
    characters. Raises ValidationError with the message shown beside the field."""
    name = " ".join(str(name or "").split())
    if not name:
        raise ValidationError("Enter a name for the team.", code="required")
    if len(name) > TEAM_NAME_MAX_LENGTH:
        raise ValidationError(
            f"Keep the name to {TEAM_NAME_MAX_LENGTH} characters or fewer (it has {len(name)}).",
            code="max_length",
        )
    if any(not ch.isprintable() for ch in name):
        raise ValidationError("The name contains characters that cannot be shown.", code="invalid")
    return name


@transaction.atomic
def team_rename(*, team: Team, name: str, by: User) -> Team:
    """Rename a team (owner or admin). Bad input raises TeamError and changes nothing."""
    team = Team.objects.select_for_update().get(pk=team.pk)
    _require_manager(team, by)
    try:
        name = clean_team_name(name)
    except ValidationError as exc:
        raise TeamError(exc.messages[0], code=TeamErrorCode.INVALID_NAME) from None
    if name != team.name:
        old = team.name
        team.name = name
        team.save(update_fields=["name"])
        logger.info("Team %s renamed by %s (%r to %r).", team.public_id, by.public_id, old, name)
    return team


def _membership_of(team: Team, user: User) -> Membership:
    membership = Membership.objects.filter(team=team, user=user).first()
    if membership is None:
        raise TeamPermissionDenied("You are not a member of this team.")
    return membership


def _require_manager(team: Team, user: User) -> Membership:
    membership = _membership_of(team, user)
    if membership.role not in MANAGER_ROLES:
        raise TeamPermissionDenied("Only the team's owner and admins can do this.")
    return membership


@dataclass(frozen=True)
class NewCode:
    team: Team
    code: str


@transaction.atomic
def team_code_regenerate(*, team: Team, by: User) -> NewCode:
    """A new invite code; the old one stops working at once. The plaintext is returned once."""
    team = Team.objects.select_for_update().get(pk=team.pk)
    _require_manager(team, by)
    code = generate_code()
    team.set_code(code)
    team.save(update_fields=["code_digest", "code_hint", "code_created_at"])
    return NewCode(team=team, code=code)


@transaction.atomic
def team_code_disable(*, team: Team, by: User) -> Team:
    team = Team.objects.select_for_update().get(pk=team.pk)
    _require_manager(team, by)
    team.code_digest = None
    team.code_hint = ""
    team.code_created_at = None
    team.save(update_fields=["code_digest", "code_hint", "code_created_at"])
    return team


def _join(*, team: Team, user: User, role: str, now: datetime) -> Membership:
    """Make `user` a member with their own key; the caller holds the license lock."""
    if Membership.objects.filter(team=team, user=user).exists():
        raise TeamError("You are already a member of this team.", code=TeamErrorCode.ALREADY_MEMBER)
    key = LicenseKey.objects.filter(license=team.license, holder=user).active().first()
    if key is None:
        key = license_key_issue(license=team.license, holder=user).key
    try:
        with transaction.atomic():
            membership = Membership.objects.create(team=team, user=user, role=role, key=key)
    except IntegrityError:
        raise TeamError("You are already a member of this team.", code=TeamErrorCode.ALREADY_MEMBER) from None
    emails.send_member_key(membership=membership)
    return membership


# --- invitations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SentInvitation:
    invitation: Invitation
    token: str


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, invitation_token_digest(token)


def invitation_url(token: str) -> str:
    return settings.SITE_URL + reverse("teams:join", kwargs={"token": token})


def _send_invitation(invitation: Invitation, token: str) -> None:
    emails.send_invitation(invitation=invitation, url=invitation_url(token))


def _expiry(now: datetime) -> datetime:
    return now + timedelta(days=settings.TEAM_INVITATION_DAYS)


@transaction.atomic
def team_invite_member(
    *, team: Team, email: str, by: User, role: str = Role.MEMBER, now: datetime | None = None
) -> SentInvitation:
    """Invite `email` by a single-use link (the pending invitation holds a seat)."""
    now = _now(now)
    email = email.strip().lower()
    try:
        validate_invitation_email(email)
    except ValidationError as exc:
        raise TeamError(exc.messages[0], code=TeamErrorCode.INVALID_EMAIL) from None
    if role not in (Role.ADMIN, Role.MEMBER):
        raise TeamError("Invite people as an admin or a member.", code=TeamErrorCode.INVALID_ROLE)
    license = _lock_license(team.license)
    team = Team.objects.select_related("license__plan").get(pk=team.pk)
    inviter = _require_manager(team, by)
    if role == Role.ADMIN and not inviter.is_owner:
        raise TeamPermissionDenied("Only the owner can invite admins.")
    _require_usable(license, now)
    if Membership.objects.filter(team=team, user__email__iexact=email).exists():
        raise TeamError(f"{email} is already a member of this team.", code=TeamErrorCode.ALREADY_MEMBER)
    existing = Invitation.objects.filter(team=team, email__iexact=email).open().first()
    if existing is not None and existing.status(now) == InvitationStatus.PENDING:
        raise TeamError(
            f"{email} already has a pending invitation; resend it instead.",
            code=TeamErrorCode.ALREADY_INVITED,
        )
    _require_free_seat(license, now=now)
    token, digest = _new_token()
    if existing is not None:
        # An expired invitation to the same address: renew it rather than keep two.
        existing.token_digest = digest
        existing.role = role
        existing.invited_by = by
        existing.created_at = now
        existing.sent_at = now
        existing.expires_at = _expiry(now)
        existing.save()
        invitation = existing
    else:
        invitation = Invitation.objects.create(
            team=team,
            email=email,
            role=role,
            token_digest=digest,
            invited_by=by,
            created_at=now,
            sent_at=now,
            expires_at=_expiry(now),
        )
    _send_invitation(invitation, token)
    return SentInvitation(invitation=invitation, token=token)


@transaction.atomic
def invitation_resend(*, invitation: Invitation, by: User, now: datetime | None = None) -> SentInvitation:
    """A fresh link and expiry for an open invitation; the old link stops working."""
    now = _now(now)
    license = _lock_license(invitation.team.license)
    invitation = (
        Invitation.objects.select_related("team").select_for_update(of=("self",)).get(pk=invitation.pk)
    )
    _require_manager(invitation.team, by)
    status = invitation.status(now)
    if status in (InvitationStatus.ACCEPTED, InvitationStatus.REVOKED):
        raise TeamError(
            f"This invitation was {status.label.lower()}; it cannot be resent.",
            code=TeamErrorCode.NOT_PENDING,
        )
    if status == InvitationStatus.EXPIRED:
        _require_usable(license, now)
        _require_free_seat(license, now=now)
    token, digest = _new_token()
    invitation.token_digest = digest
    invitation.invited_by = by
    invitation.sent_at = now
    invitation.expires_at = _expiry(now)
    invitation.save(update_fields=["token_digest", "invited_by", "sent_at", "expires_at"])
    _send_invitation(invitation, token)
    return SentInvitation(invitation=invitation, token=token)


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, by: User, now: datetime | None = None) -> Invitation:
    """Withdraw an open invitation; its link stops working and its seat is freed."""
    invitation = (
        Invitation.objects.select_related("team").select_for_update(of=("self",)).get(pk=invitation.pk)
    )
    _require_manager(invitation.team, by)
    if invitation.accepted_at:
        raise TeamError(
            "This invitation was already accepted: remove the member instead.", code=TeamErrorCode.NOT_PENDING
        )
    if invitation.revoked_at:
        raise TeamError("This invitation is already revoked.", code=TeamErrorCode.NOT_PENDING)
    invitation.revoked_at = _now(now)
    invitation.save(update_fields=["revoked_at"])
    return invitation


def invitation_problem(
    invitation: Invitation | None, *, user: User | None = None, now: datetime | None = None
) -> str:
    """Why this invitation cannot be accepted (by `user`), or "" when it can."""
    if invitation is None:
        return "This invitation link is not valid. Check that you copied all of it, or ask for a new one."
    status = invitation.status(now)
    if status == InvitationStatus.ACCEPTED:
        return "This invitation has already been used."
    if status == InvitationStatus.REVOKED:
        return "This invitation was withdrawn. Ask the team's owner for a new one."
    if status == InvitationStatus.EXPIRED:
        return "This invitation has expired. Ask the team's owner to send it again."
    if user is not None and user.is_authenticated and user.email.lower() != invitation.email.lower():
        return (
            f"This invitation was sent to {mask_email(invitation.email)}, but you are logged in as "
            f"{user.email}. Log in with the invited address to accept it."
        )
    return ""


def invitation_accept(*, token: str, user: User, now: datetime | None = None) -> Membership:
    """Join the team the invitation is for, with a key of one's own. Single use."""
    return invitation_accept_by_digest(digest=invitation_token_digest(token), user=user, now=now)


@transaction.atomic
def invitation_accept_by_digest(*, digest: str, user: User, now: datetime | None = None) -> Membership:
    """`invitation_accept` for a link opened before logging in, of which the session keeps the digest."""
    now = _now(now)
    invitation = invitation_for_digest(digest)
    if invitation is None:
        raise TeamError(invitation_problem(None), code=TeamErrorCode.INVALID_INVITATION)
    license = _lock_license(invitation.team.license)
    # Re-read under the lock: a concurrent accept, revoke or resend may have got there first.
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("team")
        .filter(pk=invitation.pk, token_digest=digest)
        .first()
    )
    problem = invitation_problem(invitation, user=user, now=now)
    if problem:
        pending = invitation and invitation.status(now) == InvitationStatus.PENDING
        code = TeamErrorCode.WRONG_EMAIL if pending else TeamErrorCode.INVALID_INVITATION
        raise TeamError(problem, code=code)
    _require_usable(license, now)
    team = invitation.team
    team.license = license
    _require_seat_for_invitation(license, now=now)
    membership = _join(team=team, user=user, role=invitation.role, now=now)
    invitation.accepted_at = now
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    logger.info("Invitation %s accepted; membership %s.", invitation.public_id, membership.public_id)
    return membership


@transaction.atomic
def team_join_by_code(*, code: str, user: User, now: datetime | None = None) -> Membership:
    """Join a team with its invite code, as a member, if a seat is free."""
    now = _now(now)
    team = (
        Team.objects.filter(code_digest=code_digest(code)).select_related("license").first() if code else None
    )
    if team is None:
        raise TeamError(
            "This invite code is not valid. Check it, or ask the team's owner for the current code.",
            code=TeamErrorCode.INVALID_CODE,
        )
    license = _lock_license(team.license)
    team = Team.objects.filter(pk=team.pk, code_digest=code_digest(code)).first()
    if team is None:
        raise TeamError(
            "This invite code was just replaced. Ask the team's owner for the new one.",
            code=TeamErrorCode.INVALID_CODE,
        )
    team.license = license
    _require_usable(license, now)
    if Membership.objects.filter(team=team, user=user).exists():
        raise TeamError("You are already a member of this team.", code=TeamErrorCode.ALREADY_MEMBER)
    # A pending invitation for this very person holds their seat: use it up rather than count twice.
    own = (
        Invitation.objects.filter(team=team, email__iexact=user.email)
        .pending(now)
        .select_for_update()
        .first()
    )
    if own is not None:
        _require_seat_for_invitation(license, now=now)
    else:
        _require_free_seat(license, now=now)
    membership = _join(team=team, user=user, role=own.role if own else Role.MEMBER, now=now)
    if own is not None:
        own.accepted_at = now
        own.accepted_by = user
        own.save(update_fields=["accepted_at", "accepted_by"])
    return membership


# --- members ---------------------------------------------------------------------------------


def _release(membership: Membership, *, reason: str, cause: KeyEndReason, by: User, now: datetime) -> None:
    """Revoke the member's key (its devices go with it) and end the membership. The key keeps
    why, when and by whom: the member's dashboard says so instead of showing the team's plan."""
    key = membership.key
    membership.delete()
    if key is not None and key.status == "active":
        license_key_revoke(key=key, reason=reason, cause=cause, by=by, now=now)


@transaction.atomic
def member_remove(*, membership: Membership, by: User, now: datetime | None = None) -> None:
    """Remove a member: their key stops working at once and their devices are released."""
    now = _now(now)
    membership = (
        Membership.objects.select_related("team", "user", "key")
        .select_for_update(of=("self",))
        .get(pk=membership.pk)
    )
    actor = _membership_of(membership.team, by)
    if membership.is_owner:
        raise TeamPermissionDenied("The team's owner cannot be removed.")
    if membership.pk == actor.pk:
        raise TeamError("To leave the team, use Leave team.", code=TeamErrorCode.USE_LEAVE)
    if not actor.can_remove(membership):
        raise TeamPermissionDenied(
            "Only the owner can remove admins."
            if actor.role == Role.ADMIN
            else "Only the team's owner and admins can remove members."
        )
    team, user = membership.team, membership.user
    _release(
        membership, reason=f"Removed from the team by {by.email}.", cause=KeyEndReason.REMOVED, by=by, now=now
    )
    emails.send_member_removed(user=user, team=team, by=by)
    logger.info(
        "Membership of user %s in team %s removed by %s.", user.public_id, team.public_id, by.public_id
    )


@transaction.atomic
def member_leave(*, team: Team, user: User, now: datetime | None = None) -> None:
    """Leave a team; one's key stops working. The owner cannot leave their own team."""
    now = _now(now)
    membership = (
        Membership.objects.select_related("key")
        .select_for_update(of=("self",))
        .filter(team=team, user=user)
        .first()
    )
    if membership is None:
        raise TeamPermissionDenied("You are not a member of this team.")
    if membership.is_owner:
        raise TeamError(
            "The owner cannot leave the team: the team belongs to your license. Cancel the plan instead.",
            code=TeamErrorCode.OWNER_CANNOT_LEAVE,
        )
    _release(membership, reason="Left the team.", cause=KeyEndReason.LEFT, by=user, now=now)


@transaction.atomic
def member_set_role(*, membership: Membership, role: str, by: User) -> Membership:
    """Make a member an admin or back; only the owner decides, and the owner's role is fixed."""
    membership = (
        Membership.objects.select_related("team").select_for_update(of=("self",)).get(pk=membership.pk)
    )
    actor = _membership_of(membership.team, by)
    if not actor.is_owner:
        raise TeamPermissionDenied("Only the team's owner can change roles.")
    if membership.is_owner:
        raise TeamError("The owner's role cannot be changed.", code=TeamErrorCode.OWNER_ROLE_FIXED)
    if role not in (Role.ADMIN, Role.MEMBER):
        raise TeamError("Choose admin or member.", code=TeamErrorCode.INVALID_ROLE)
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


# --- notifications ---------------------------------------------------------------------------


def notify_owner_seat_limit_exceeded(*, license: License, excess: int) -> None:
    """Tell the owner that more seats are in use than the plan now has (sent on commit).

    Billing calls this when Stripe reports fewer seats than are in use (a portal or staff change).
    """
    if excess < 1:
        return
    emails.send_seat_limit_exceeded(license=license, excess=excess)

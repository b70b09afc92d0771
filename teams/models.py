"""Teams: a multi-seat license's people. One Team per License; each member holds their own key.

Secrets (invitation tokens and invite codes) are stored only as HMAC-SHA256 digests; the
plaintext is shown once (in the invitation email, or on the page right after a code is made).
"""

import secrets
import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from licensing import keys

# Codes use the license keys' Crockford base32 (no I, L, O, U): nothing to misread out loud.
CODE_GROUPS = 4
CODE_GROUP_LENGTH = 4
CODE_PREFIX = "TEAM"
CODE_HINT_LENGTH = 4


def _digest(purpose: str, value: str) -> str:
    return salted_hmac(f"teams.{purpose}", value, algorithm="sha256").hexdigest()


def normalise_code(code: str) -> str:
    """Upper case, without separators or the TEAM prefix; O/I/L read as 0/1/1 as Crockford says."""
    text = "".join(ch for ch in code.upper() if ch.isalnum())
    if text.startswith(CODE_PREFIX):
        text = text[len(CODE_PREFIX) :]
    return text.translate(keys.MISREADS)


def generate_code() -> str:
    """80 bits from `secrets`, shown as TEAM-XXXX-XXXX-XXXX-XXXX."""
    chars = "".join(secrets.choice(keys.ALPHABET) for _ in range(CODE_GROUPS * CODE_GROUP_LENGTH))
    groups = [chars[i : i + CODE_GROUP_LENGTH] for i in range(0, len(chars), CODE_GROUP_LENGTH)]
    return "-".join([CODE_PREFIX, *groups])


def code_digest(code: str) -> str:
    return _digest("invite-code", normalise_code(code))


def invitation_token_digest(token: str) -> str:
    return _digest("invitation", token.strip())


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


MANAGER_ROLES = (Role.OWNER, Role.ADMIN)


class TeamQuerySet(models.QuerySet):
    def for_user(self, user):
        """Teams the user belongs to, whatever their role; nothing for an anonymous visitor."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user)

    def managed_by(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user, memberships__role__in=MANAGER_ROLES)


class Team(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    license = models.OneToOneField("licensing.License", on_delete=models.CASCADE, related_name="team")
    name = models.CharField(max_length=100)
    code_digest = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    code_hint = models.CharField(
        max_length=CODE_HINT_LENGTH, blank=True, editable=False, help_text="Last characters of the code."
    )
    code_created_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code_digest__isnull=True, code_hint="") | Q(code_digest__isnull=False),
                name="team_code_hint_only_with_code",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def set_code(self, code: str) -> None:
        self.code_digest = code_digest(code)
        self.code_hint = normalise_code(code)[-CODE_HINT_LENGTH:]
        self.code_created_at = timezone.now()

    @property
    def code_display(self) -> str:
        return f"{CODE_PREFIX}-…-{self.code_hint}" if self.code_hint else ""


class MembershipQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Memberships of the user's teams: what an action may be attempted on (then checked)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(team__memberships__user=user)

    def managed_by(self, user):
        """Memberships of teams where the user is owner or admin."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(team__memberships__user=user, team__memberships__role__in=MANAGER_ROLES)


class Membership(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    key = models.OneToOneField(
        "licensing.LicenseKey",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="membership",
        help_text="The member's own key on the team's license.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="membership_unique_user_per_team"),
            models.UniqueConstraint(
                fields=["team"], condition=Q(role="owner"), name="membership_one_owner_per_team"
            ),
            models.CheckConstraint(
                condition=Q(role__in=["owner", "admin", "member"]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) in {self.team}"

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER

    @property
    def can_manage(self) -> bool:
        return self.role in MANAGER_ROLES

    def can_remove(self, other: "Membership") -> bool:
        """Owners remove anyone but themselves; admins remove plain members; nobody removes the owner."""
        if other.pk == self.pk or other.is_owner or other.team_id != self.team_id:
            return False
        if self.is_owner:
            return True
        return self.role == Role.ADMIN and other.role == Role.MEMBER


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    EXPIRED = "expired", "Expired"
    ACCEPTED = "accepted", "Accepted"
    REVOKED = "revoked", "Revoked"


class InvitationQuerySet(models.QuerySet):
    def open(self):
        """Neither accepted nor revoked (possibly expired)."""
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True)

    def pending(self, now: datetime | None = None):
        """Open and unexpired: these hold a seat."""
        return self.open().filter(expires_at__gt=now or timezone.now())

    def managed_by(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(team__memberships__user=user, team__memberships__role__in=MANAGER_ROLES)

    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(team__memberships__user=user)


class Invitation(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | Q(revoked_at__isnull=True),
                name="invitation_not_accepted_and_revoked",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="invitation_expires_after_creation"
            ),
            models.CheckConstraint(
                condition=Q(role__in=["admin", "member"]), name="invitation_role_not_owner"
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.team}"

    def status(self, now: datetime | None = None) -> InvitationStatus:
        if self.accepted_at:
            return InvitationStatus.ACCEPTED
        if self.revoked_at:
            return InvitationStatus.REVOKED
        if self.expires_at <= (now or timezone.now()):
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING

    @property
    def is_expired(self) -> bool:
        return self.status() == InvitationStatus.EXPIRED

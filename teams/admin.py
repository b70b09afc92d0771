from django.contrib import admin
from django.db.models import OuterRef, Q
from django.utils import timezone

from licensing.models import LicenseKey
from qualitybytes.admin_helpers import OptionsFilter, ReadOnlyAdmin, ReadOnlyInline, count_of
from teams.models import Invitation, InvitationStatus, Membership, Team


def _masked_key(membership) -> str:
    return membership.key.masked if membership.key else "—"


class MembershipInline(ReadOnlyInline):
    """Members join through invitations or codes, which issue their keys: only the role is edited here."""

    model = Membership
    fields = ["user", "role", "masked_key", "created_at"]
    editable = ["role"]
    # Each row's title is str(membership), which names the team: fetch it with the rows, so the
    # page costs the same queries for 1 member or 31.
    select = ["team", "user", "key"]

    @admin.display(description="key")
    def masked_key(self, obj):
        return _masked_key(obj)


class InvitationInline(ReadOnlyInline):
    model = Invitation
    fields = ["email", "role", "invited_by", "sent_at", "expires_at", "accepted_at", "revoked_at"]
    select = ["team", "invited_by"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "owner_email", "plan", "seat_use", "pending", "created_at"]
    list_select_related = ["license__owner", "license__plan"]
    list_filter = ["license__plan"]
    search_fields = ["name", "license__owner__email", "memberships__user__email", "=public_id"]
    readonly_fields = ["public_id", "license", "code_hint", "code_created_at", "created_at"]
    fields = ["name", *readonly_fields]
    inlines = [MembershipInline, InvitationInline]

    def get_queryset(self, request):
        now = timezone.now()
        return (
            super()
            .get_queryset(request)
            .annotate(
                # Seats as everywhere else (licensing.models.seats_used_sql): the license's active
                # keys, the owner's included, plus the team's pending invitations.
                key_count=count_of(
                    LicenseKey.objects.filter(license=OuterRef("license")).active(), "license"
                ),
                pending_count=count_of(Invitation.objects.filter(team=OuterRef("pk")).pending(now), "team"),
            )
        )

    @admin.display(description="Owner", ordering="license__owner__email")
    def owner_email(self, team):
        return team.license.owner.email

    @admin.display(description="Plan", ordering="license__plan__name")
    def plan(self, team):
        return team.license.plan.name

    @admin.display(description="seats used", ordering="key_count")
    def seat_use(self, team):
        return f"{team.key_count + team.pending_count} / {team.license.seats_total}"

    @admin.display(description="pending invitations", ordering="pending_count")
    def pending(self, team):
        return team.pending_count


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    """Read-only: roles and removals go through the team pages and teams.services (seat rules, keys)."""

    list_display = ["user", "team", "role", "masked_key", "created_at"]
    list_select_related = ["user", "team", "key"]
    list_filter = ["role", "team__license__plan"]
    search_fields = ["user__email", "user__name", "team__name", "^key__prefix"]

    @admin.display(description="key", ordering="key__prefix")
    def masked_key(self, obj):
        return _masked_key(obj)


class InvitationStatusFilter(OptionsFilter):
    title = "status"
    parameter_name = "status"
    options = {
        InvitationStatus.PENDING: (
            InvitationStatus.PENDING.label,
            lambda invitations: invitations.pending(timezone.now()),
        ),
        InvitationStatus.EXPIRED: (
            InvitationStatus.EXPIRED.label,
            lambda invitations: invitations.open().filter(expires_at__lte=timezone.now()),
        ),
        InvitationStatus.ACCEPTED: (InvitationStatus.ACCEPTED.label, Q(accepted_at__isnull=False)),
        InvitationStatus.REVOKED: (InvitationStatus.REVOKED.label, Q(revoked_at__isnull=False)),
    }


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "team", "role", "status", "invited_by", "sent_at", "expires_at"]
    list_select_related = ["team", "invited_by"]
    list_filter = [InvitationStatusFilter, "role"]
    search_fields = ["email", "team__name", "team__license__owner__email"]
    readonly_fields = [f.name for f in Invitation._meta.fields if f.name not in ("id", "token_digest")]

    def has_add_permission(self, request):
        return False

    @admin.display(description="status")
    def status(self, obj):
        return obj.status().label

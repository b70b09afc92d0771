from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from teams.models import Invitation, InvitationStatus, Membership, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "masked_key", "created_at"]
    readonly_fields = ["user", "masked_key", "created_at"]
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "key")

    def has_add_permission(self, request, obj=None):
        # Members join through invitations or codes, which issue their keys.
        return False

    @admin.display(description="key")
    def masked_key(self, obj):
        return obj.key.masked if obj.key else "—"


class InvitationInline(admin.TabularInline):
    model = Invitation
    extra = 0
    fields = ["email", "role", "invited_by", "sent_at", "expires_at", "accepted_at", "revoked_at"]
    readonly_fields = fields
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invited_by")

    def has_add_permission(self, request, obj=None):
        return False


def _count(queryset, group: str):
    counted = queryset.order_by().values(group).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


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
                member_count=_count(Membership.objects.filter(team=OuterRef("pk")), "team"),
                pending_count=_count(Invitation.objects.filter(team=OuterRef("pk")).pending(now), "team"),
            )
        )

    @admin.display(description="Owner", ordering="license__owner__email")
    def owner_email(self, team):
        return team.license.owner.email

    @admin.display(description="Plan", ordering="license__plan__name")
    def plan(self, team):
        return team.license.plan.name

    @admin.display(description="seats used", ordering="member_count")
    def seat_use(self, team):
        return f"{team.member_count + team.pending_count} / {team.license.seats_total}"

    @admin.display(description="pending invitations", ordering="pending_count")
    def pending(self, team):
        return team.pending_count


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Read-only: roles and removals go through the team pages and teams.services (seat rules, keys)."""

    list_display = ["user", "team", "role", "masked_key", "created_at"]
    list_select_related = ["user", "team", "key"]
    list_filter = ["role", "team__license__plan"]
    search_fields = ["user__email", "user__name", "team__name", "^key__prefix"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="key", ordering="key__prefix")
    def masked_key(self, obj):
        return obj.key.masked if obj.key else "—"


class InvitationStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return InvitationStatus.choices

    def queryset(self, request, queryset):
        now = timezone.now()
        match self.value():
            case InvitationStatus.PENDING:
                return queryset.pending(now)
            case InvitationStatus.EXPIRED:
                return queryset.open().filter(expires_at__lte=now)
            case InvitationStatus.ACCEPTED:
                return queryset.filter(accepted_at__isnull=False)
            case InvitationStatus.REVOKED:
                return queryset.filter(revoked_at__isnull=False)
        return queryset


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

from django.contrib import admin

from teams.models import Invitation, Membership, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "key", "created_at"]
    readonly_fields = ["user", "key", "created_at"]
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "key")

    def has_add_permission(self, request, obj=None):
        # Members join through invitations or codes, which issue their keys.
        return False


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


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "owner_email", "plan", "public_id", "created_at"]
    list_select_related = ["license__owner", "license__plan"]
    search_fields = ["name", "license__owner__email", "memberships__user__email"]
    readonly_fields = ["public_id", "license", "code_hint", "code_created_at", "created_at"]
    fields = ["name", *readonly_fields]
    inlines = [MembershipInline, InvitationInline]

    @admin.display(description="Owner", ordering="license__owner__email")
    def owner_email(self, team):
        return team.license.owner.email

    @admin.display(description="Plan", ordering="license__plan__name")
    def plan(self, team):
        return team.license.plan.name


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "team", "role", "sent_at", "expires_at", "accepted_at", "revoked_at"]
    list_select_related = ["team"]
    list_filter = [
        "role",
        ("accepted_at", admin.EmptyFieldListFilter),
        ("revoked_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["email", "team__name"]
    readonly_fields = [f.name for f in Invitation._meta.fields if f.name != "id"]

    def has_add_permission(self, request):
        return False

"""The users in the operator panel, with their plan and payment status: it reads billing, licensing
and teams, so it lives in billing, the app that may depend on all of them."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from djstripe.models import Customer

from accounts.models import User
from billing.models import Plan
from licensing.admin import KeyInline
from licensing.admin.common import devices_table
from licensing.figures import users_with_billing
from licensing.models import Device, License, PaymentStatus
from qualitybytes.admin_helpers import (
    OptionsFilter,
    ReadOnlyInline,
    badge,
    stripe_dashboard_url,
)
from teams.models import Membership


class PlanFilter(admin.SimpleListFilter):
    """The plan of the user's current license (see licensing.figures.current_license_of)."""

    title = "plan"
    parameter_name = "plan"

    def lookups(self, request, model_admin):
        return [
            *((str(pk), name) for pk, name in Plan.objects.values_list("pk", "name")),
            ("none", "No plan"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(plan_id__isnull=True)
        if self.value():
            return queryset.filter(plan_id=self.value())
        return queryset


class PaymentStatusFilter(OptionsFilter):
    title = "payment status"
    parameter_name = "payment"
    options = {status.value: (status.label, Q(payment_status=status.value)) for status in PaymentStatus}


class OwnedLicenseInline(ReadOnlyInline):
    model = License
    fk_name = "owner"
    verbose_name = "license owned"
    verbose_name_plural = "licenses owned"
    fields = [
        "plan",
        "state",
        "status",
        "expires_at",
        "grace_ends_at",
        "stripe_subscription_id",
        "created_at",
    ]
    show_change_link = True
    select = ["plan"]

    @admin.display(description="validates as")
    def state(self, obj):
        return obj.state(timezone.now()).label.rstrip(".")


class HeldKeyInline(KeyInline):
    fk_name = "holder"
    verbose_name = "key held"
    verbose_name_plural = "keys held"
    fields = ["masked_key", "license", "status", "revoked_reason", "created_at", "last_validated_at"]
    select = ["license__plan", "license__owner"]


class TeamMembershipInline(ReadOnlyInline):
    model = Membership
    fk_name = "user"
    verbose_name = "team membership"
    verbose_name_plural = "team memberships"
    fields = ["team", "role", "key", "created_at"]
    select = ["team", "key__holder"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "plan", "payment", "keys", "joined"]
    list_filter = [PlanFilter, PaymentStatusFilter, "is_staff", "is_active"]
    search_fields = ["email", "name"]
    readonly_fields = ["public_id", "last_login", "date_joined", "billing_panel", "devices_panel"]
    fieldsets = [
        (None, {"fields": ["email", "password", "public_id"]}),
        ("Profile", {"fields": ["name"]}),
        ("Billing", {"fields": ["billing_panel"]}),
        ("Devices", {"fields": ["devices_panel"]}),
        (
            "Permissions",
            {
                "classes": ["collapse"],
                "fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"],
            },
        ),
        ("Dates", {"classes": ["collapse"], "fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    inlines = [OwnedLicenseInline, HeldKeyInline, TeamMembershipInline]

    def get_queryset(self, request):
        return users_with_billing(super().get_queryset(request))

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    @admin.display(description="plan", ordering="plan_name")
    def plan(self, obj) -> str:
        return obj.plan_name or "—"

    @admin.display(description="payment status", ordering="payment_status")
    def payment(self, obj):
        status = PaymentStatus(obj.payment_status)
        return badge(status.label, status.tone)

    @admin.display(description="keys", ordering="key_count")
    def keys(self, obj) -> int:
        return obj.key_count

    @admin.display(description="joined", ordering="date_joined")
    def joined(self, obj) -> str:
        return f"{timezone.localtime(obj.date_joined):%Y-%m-%d}"

    @admin.display(description="Stripe")
    def billing_panel(self, obj):
        customers = Customer.objects.filter(subscriber=obj).order_by("-created")
        links = format_html_join(
            ", ",
            '<a href="{}" rel="noopener noreferrer">{}</a>{}',
            (
                (
                    stripe_dashboard_url("customers", c.id, livemode=c.livemode),
                    c.id,
                    "" if c.livemode else " (test mode)",
                )
                for c in customers
            ),
        )
        status = PaymentStatus(obj.payment_status).label
        plan = obj.plan_name or "no plan"
        return format_html(
            "<p>Payment status: <strong>{}</strong> · current plan: {}</p><p>Stripe customer: {}</p>",
            status,
            plan,
            links or "none (never started a checkout)",
        )

    @admin.display(description="devices")
    def devices_panel(self, obj):
        devices = (
            Device.objects.filter(key__holder=obj)
            .select_related("key__license__plan")
            .order_by("-last_heartbeat_at")
        )
        return devices_table(devices, empty="No devices on this user's keys.", holder=False)

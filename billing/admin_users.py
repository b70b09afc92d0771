"""The users in the operator panel, with their plan and payment status: it reads billing, licensing
and teams, so it lives in billing, the app that may depend on all of them."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from djstripe.models import Customer

from accounts.models import User
from billing.models import Plan
from licensing.figures import PaymentStatus, users_with_billing
from licensing.models import Device, License, LicenseKey, stale_cutoff
from qualitybytes.admin_helpers import html_table, local_time, stripe_dashboard_url
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


class PaymentStatusFilter(admin.SimpleListFilter):
    title = "payment status"
    parameter_name = "payment"

    def lookups(self, request, model_admin):
        return PaymentStatus.CHOICES

    def queryset(self, request, queryset):
        if self.value() in PaymentStatus.LABELS:
            return queryset.filter(payment_status=self.value())
        return queryset


class OwnedLicenseInline(admin.TabularInline):
    model = License
    fk_name = "owner"
    verbose_name = "license owned"
    verbose_name_plural = "licenses owned"
    extra = 0
    can_delete = False
    fields = [
        "plan",
        "state",
        "status",
        "expires_at",
        "grace_ends_at",
        "stripe_subscription_id",
        "created_at",
    ]
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("plan")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="validates as")
    def state(self, obj):
        return obj.state(timezone.now()).label.rstrip(".")


class HeldKeyInline(admin.TabularInline):
    model = LicenseKey
    fk_name = "holder"
    verbose_name = "key held"
    verbose_name_plural = "keys held"
    extra = 0
    can_delete = False
    fields = ["masked_key", "license", "status", "revoked_reason", "created_at", "last_validated_at"]
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("license__plan", "license__owner")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="key")
    def masked_key(self, obj):
        return obj.masked


class TeamMembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    verbose_name = "team membership"
    verbose_name_plural = "team memberships"
    extra = 0
    can_delete = False
    fields = ["team", "role", "key", "created_at"]
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("team", "key__holder")

    def has_add_permission(self, request, obj=None):
        return False


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
        return format_html(
            '<span class="qb-badge qb-pay-{}">{}</span>',
            obj.payment_status,
            PaymentStatus.LABELS.get(obj.payment_status, obj.payment_status),
        )

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
        status = PaymentStatus.LABELS.get(obj.payment_status, obj.payment_status)
        plan = obj.plan_name or "no plan"
        return format_html(
            "<p>Payment status: <strong>{}</strong> · current plan: {}</p><p>Stripe customer: {}</p>",
            status,
            plan,
            links or "none (never started a checkout)",
        )

    @admin.display(description="devices")
    def devices_panel(self, obj):
        cutoff = stale_cutoff()
        devices = (
            Device.objects.filter(key__holder=obj)
            .select_related("key__license__plan")
            .order_by("-last_heartbeat_at")
        )
        rows = [
            (
                d.name or d.fingerprint[:16],
                d.key.masked,
                d.platform,
                d.app_version,
                local_time(d.first_seen_at),
                local_time(d.last_heartbeat_at),
                "counts" if d.last_heartbeat_at >= cutoff else "stale",
            )
            for d in devices[:100]
        ]
        return html_table(
            ["Device", "Key", "Platform", "Version", "First seen", "Last heartbeat", ""],
            rows,
            "No devices on this user's keys.",
        )

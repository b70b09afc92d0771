from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils import timezone

from licensing import keys, services
from licensing.models import Device, License, LicenseKey, LicenseKeyStatus, UsageDaily, ValidationEvent


def search_by_full_key(queryset, search_term: str, digest_lookup: str):
    """A pasted full key is found by its digest; anything else falls through to search_fields."""
    try:
        digest = keys.digest(search_term)
    except keys.InvalidKey:
        return None
    return queryset.filter(**{digest_lookup: digest})


class LicenseStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("active", "Active"),
            ("grace", "In grace"),
            ("inactive", "Inactive"),
            ("expired", "Expired"),
            ("suspended", "Suspended"),
            ("revoked", "Revoked"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        live = queryset.filter(revoked_at__isnull=True, suspended_at__isnull=True)
        expired = Q(status="grace", grace_ends_at__lte=now) | (~Q(status="grace") & Q(expires_at__lte=now))
        match self.value():
            case "revoked":
                return queryset.filter(revoked_at__isnull=False)
            case "suspended":
                return queryset.filter(revoked_at__isnull=True, suspended_at__isnull=False)
            case "expired":
                return live.filter(expired)
            case "active" | "grace" | "inactive" as status:
                return live.exclude(expired).filter(status=status)
        return queryset


class LicenseKeyInline(admin.TabularInline):
    model = LicenseKey
    extra = 0
    can_delete = False
    fields = ["prefix", "holder", "status", "created_at", "last_validated_at"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(License)
class LicenseAdmin(admin.ModelAdmin):
    list_display = [
        "public_id",
        "owner",
        "plan",
        "state",
        "expires_at",
        "key_count",
        "stripe_subscription_id",
    ]
    list_filter = [LicenseStateFilter, "plan", "status"]
    list_select_related = ["owner", "plan"]
    search_fields = [
        "^keys__prefix",
        "owner__email",
        "keys__holder__email",
        "=stripe_subscription_id",
        "=public_id",
    ]
    raw_id_fields = ["owner"]
    readonly_fields = [
        "public_id",
        "created_at",
        "updated_at",
        "suspended_at",
        "suspended_reason",
        "suspended_by",
        "revoked_at",
        "revoked_reason",
        "revoked_by",
    ]
    inlines = [LicenseKeyInline]
    actions = ["suspend", "reinstate", "revoke"]

    def get_queryset(self, request):
        return (
            super().get_queryset(request).annotate(key_count=Count("keys", filter=Q(keys__status="active")))
        )

    def get_search_results(self, request, queryset, search_term):
        found = search_by_full_key(queryset, search_term, "keys__digest")
        if found is not None:
            return found, False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="state")
    def state(self, obj: License) -> str:
        return obj.state(timezone.now()).label.rstrip(".")

    @admin.display(description="keys", ordering="key_count")
    def key_count(self, obj: License) -> str:
        return f"{obj.key_count} / {obj.seats_total}"

    def _apply(self, request, queryset, action, verb: str, **kwargs):
        done = 0
        for license_ in queryset:
            try:
                action(license=license_, **kwargs)
                done += 1
            except services.LicensingError as exc:
                self.message_user(request, f"{license_.public_id}: {exc}", messages.WARNING)
        if done:
            self.message_user(request, f"{verb} {done} license(s).", messages.SUCCESS)

    @admin.action(description="Suspend selected licenses", permissions=["change"])
    def suspend(self, request, queryset):
        reason = f"Suspended in the admin by {request.user.email}."
        self._apply(request, queryset, services.license_suspend, "Suspended", reason=reason, by=request.user)

    @admin.action(description="Reinstate selected (suspended) licenses", permissions=["change"])
    def reinstate(self, request, queryset):
        self._apply(request, queryset, services.license_reinstate, "Reinstated")

    @admin.action(description="Revoke selected licenses (final)", permissions=["change"])
    def revoke(self, request, queryset):
        reason = f"Revoked in the admin by {request.user.email}."
        self._apply(request, queryset, services.license_revoke, "Revoked", reason=reason, by=request.user)


class DeviceInline(admin.TabularInline):
    model = Device
    extra = 0
    fields = [
        "fingerprint",
        "name",
        "platform",
        "app_version",
        "first_seen_at",
        "last_heartbeat_at",
        "last_ip",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(LicenseKey)
class LicenseKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "holder", "license_owner", "plan", "status", "created_at", "last_validated_at"]
    list_filter = ["status", "license__plan"]
    list_select_related = ["holder", "license__owner", "license__plan"]
    search_fields = ["^prefix", "holder__email", "license__owner__email"]
    fields = [
        "prefix",
        "license",
        "holder",
        "status",
        "revoked_at",
        "revoked_reason",
        "created_at",
        "last_validated_at",
    ]
    readonly_fields = fields
    inlines = [DeviceInline]
    actions = ["revoke_keys"]

    def has_add_permission(self, request):
        # Keys are issued by the billing flow, teams, or `issue_license`, never typed in.
        return False

    def get_search_results(self, request, queryset, search_term):
        found = search_by_full_key(queryset, search_term, "digest")
        if found is not None:
            return found, False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="owner", ordering="license__owner__email")
    def license_owner(self, obj: LicenseKey):
        return obj.license.owner

    @admin.display(description="plan", ordering="license__plan")
    def plan(self, obj: LicenseKey):
        return obj.license.plan

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke_keys(self, request, queryset):
        revoked = 0
        for key in queryset.filter(status=LicenseKeyStatus.ACTIVE):
            services.license_key_revoke(key=key, reason=f"Revoked in the admin by {request.user.email}.")
            revoked += 1
        self.message_user(request, f"Revoked {revoked} key(s).", messages.SUCCESS)


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "key",
        "platform",
        "app_version",
        "first_seen_at",
        "last_heartbeat_at",
        "last_ip",
    ]
    list_select_related = ["key__holder"]
    list_filter = ["platform"]
    search_fields = [
        "^key__prefix",
        "key__holder__email",
        "key__license__owner__email",
        "=fingerprint",
        "name",
    ]
    raw_id_fields = ["key"]
    readonly_fields = ["public_id", "key", "fingerprint", "first_seen_at", "last_heartbeat_at", "last_ip"]


@admin.register(ValidationEvent)
class ValidationEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "code", "key", "fingerprint", "ip"]
    list_filter = ["code"]
    list_select_related = ["key__holder"]
    search_fields = ["^key__prefix", "key__holder__email"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(UsageDaily)
class UsageDailyAdmin(admin.ModelAdmin):
    list_display = ["day", "key", "feature", "count"]
    list_filter = ["feature"]
    list_select_related = ["key__holder"]
    search_fields = ["^key__prefix", "key__holder__email", "=feature"]
    date_hierarchy = "day"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

"""License keys: the list, the page with its devices, and the staff action that revokes a key."""

from django.contrib import admin
from django.db.models import OuterRef
from django.utils.html import format_html

from licensing import services
from licensing.admin.common import FullKeySearch, LicensingStaffActions
from licensing.models import (
    Device,
    KeyEndReason,
    LicenseKey,
    stale_cutoff,
)
from qualitybytes.admin_actions import StaffAction
from qualitybytes.admin_helpers import (
    ReadOnlyInline,
    count_of,
)


def _revoke_key(key, data, user):
    services.license_key_revoke(key=key, reason=data["reason"], cause=KeyEndReason.STAFF, by=user)
    return f"Revoked the key and removed its devices. Reason: {data['reason']}"


class KeyInline(ReadOnlyInline):
    """Keys under another object (a license, a user), masked."""

    model = LicenseKey
    show_change_link = True

    @admin.display(description="key")
    def masked_key(self, obj):
        return obj.masked


class DeviceInline(ReadOnlyInline):
    model = Device
    fields = [
        "name",
        "fingerprint",
        "platform",
        "app_version",
        "first_seen_at",
        "last_heartbeat_at",
        "last_ip",
    ]


@admin.register(LicenseKey)
class LicenseKeyAdmin(FullKeySearch, LicensingStaffActions, admin.ModelAdmin):
    digest_lookup = "digest"
    list_display = [
        "masked_key",
        "holder",
        "license_owner",
        "plan",
        "status",
        "device_count",
        "created_at",
        "last_validated_at",
    ]
    list_display_links = ["masked_key"]
    list_filter = ["status", "license__plan"]
    list_select_related = ["holder", "license__owner", "license__plan"]
    search_fields = ["^prefix", "holder__email", "holder__name", "license__owner__email"]
    fields = [
        "masked_key",
        "license",
        "holder",
        "status",
        "revoked_at",
        "revoked_cause",
        "revoked_by",
        "revoked_reason",
        "created_at",
        "last_validated_at",
    ]
    readonly_fields = fields
    inlines = [DeviceInline]
    staff_actions = [
        StaffAction(
            name="revoke_keys",
            title="Revoke keys",
            intro="These keys answer REVOKED from the next validation on and their devices are "
            "removed. The license and its other keys are not touched.",
            button="Revoke",
            done="Revoked",
            apply=_revoke_key,
            danger=True,
        )
    ]
    change_form_template = "admin/licensing/licensekey/change_form.html"

    def get_queryset(self, request):
        devices = Device.objects.filter(key=OuterRef("pk"), last_heartbeat_at__gte=stale_cutoff())
        return super().get_queryset(request).annotate(device_count=count_of(devices, "key"))

    def has_add_permission(self, request):
        # Keys are issued by the billing flow, teams, or a comp license, never typed in.
        return False

    @admin.display(description="key", ordering="prefix")
    def masked_key(self, obj: LicenseKey):
        return format_html('<span class="qb-key">{}</span>', obj.masked)

    @admin.display(description="owner", ordering="license__owner__email")
    def license_owner(self, obj: LicenseKey):
        return obj.license.owner

    @admin.display(description="plan", ordering="license__plan")
    def plan(self, obj: LicenseKey):
        return obj.license.plan

    @admin.display(description="devices", ordering="device_count")
    def device_count(self, obj: LicenseKey) -> str:
        return f"{obj.device_count} / {obj.license.plan.devices_per_seat}"

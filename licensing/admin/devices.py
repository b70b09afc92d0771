"""Devices: which count against their key's limit."""

from django.contrib import admin

from licensing.admin.common import KeyColumns
from licensing.models import (
    Device,
    stale_cutoff,
)
from qualitybytes.admin_helpers import (
    OptionsFilter,
)


class CountingFilter(OptionsFilter):
    title = "counted against the limit"
    parameter_name = "counting"
    options = {
        "yes": ("Yes (recent heartbeat)", lambda devices: devices.counting()),
        "no": ("No (stale)", lambda devices: devices.filter(last_heartbeat_at__lt=stale_cutoff())),
    }


@admin.register(Device)
class DeviceAdmin(KeyColumns, admin.ModelAdmin):
    list_display = [
        "__str__",
        "masked_key",
        "holder",
        "plan",
        "platform",
        "app_version",
        "first_seen_at",
        "last_heartbeat_at",
        "counting",
        "last_ip",
    ]
    list_select_related = ["key__holder", "key__license__plan"]
    list_filter = [CountingFilter, "platform", "key__license__plan"]
    search_fields = [
        "^key__prefix",
        "key__holder__email",
        "key__license__owner__email",
        "=fingerprint",
        "name",
    ]
    raw_id_fields = ["key"]
    readonly_fields = ["public_id", "key", "fingerprint", "first_seen_at", "last_heartbeat_at", "last_ip"]

    def has_add_permission(self, request):
        # Devices come from the activation API, which enforces the plan's limit.
        return False

    @admin.display(description="plan", ordering="key__license__plan__name")
    def plan(self, obj: Device) -> str:
        return obj.key.license.plan.name

    @admin.display(description="counts", boolean=True)
    def counting(self, obj: Device) -> bool:
        return obj.last_heartbeat_at >= stale_cutoff()

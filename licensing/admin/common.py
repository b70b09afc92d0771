"""What the licensing admin modules (and billing's user admin) share: staff actions that refuse
with LicensingError, search by full key, the key columns and the devices table."""

from django.contrib import admin

from licensing import keys
from licensing.models import stale_cutoff
from licensing.services import LicensingError
from qualitybytes.admin_actions import StaffActionsMixin
from qualitybytes.admin_helpers import html_table, local_time


class LicensingStaffActions(StaffActionsMixin):
    staff_action_errors = (LicensingError,)
    staff_action_template = "admin/licensing/staff_action.html"


def search_by_full_key(queryset, search_term: str, digest_lookup: str):
    """A pasted full key is found by its digest; anything else falls through to search_fields."""
    try:
        digest = keys.digest(search_term)
    except keys.InvalidKey:
        return None
    return queryset.filter(**{digest_lookup: digest})


class FullKeySearch:
    """Search that also finds a pasted full key, by its digest at `digest_lookup`."""

    digest_lookup: str

    def get_search_results(self, request, queryset, search_term):
        found = search_by_full_key(queryset, search_term, self.digest_lookup)
        if found is not None:
            return found, False
        return super().get_search_results(request, queryset, search_term)


class KeyColumns:
    """The `masked_key` and `holder` columns of rows that belong to a key (devices, the logs)."""

    @admin.display(description="key", ordering="key__prefix")
    def masked_key(self, obj) -> str:
        return obj.key.masked

    @admin.display(description="holder", ordering="key__holder__email")
    def holder(self, obj) -> str:
        return obj.key.holder.email


def devices_table(devices, *, empty: str, holder: bool = True):
    """The devices panel of a license (with each key's holder) or of a user (without)."""
    cutoff = stale_cutoff()
    rows = [
        (
            d.name or d.fingerprint[:16],
            d.key.masked,
            *([d.key.holder.email] if holder else []),
            d.platform,
            d.app_version,
            local_time(d.first_seen_at),
            local_time(d.last_heartbeat_at),
            "counts" if d.last_heartbeat_at >= cutoff else "stale",
        )
        for d in devices[:100]
    ]
    headers = ["Device", "Key", *(["Holder"] if holder else []), "Platform", "Version", "First seen"]
    return html_table([*headers, "Last heartbeat", ""], rows, empty)

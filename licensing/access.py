"""The one place customer-facing code fetches licensing objects: always scoped to the user."""

from django.db.models import Count, Q, QuerySet

from licensing.models import Device, License, LicenseKey, LicenseKeyStatus, stale_cutoff


def keys_held_by(user) -> QuerySet[LicenseKey]:
    """The user's own keys (each team member holds one), newest license first."""
    return (
        LicenseKey.objects.filter(holder=user)
        .select_related("license__plan", "license__owner")
        .annotate(
            devices_used=Count(
                "devices", filter=Q(devices__last_heartbeat_at__gte=stale_cutoff()), distinct=True
            ),
            seats_used=Count(
                "license__keys", filter=Q(license__keys__status=LicenseKeyStatus.ACTIVE), distinct=True
            ),
        )
        .order_by("-license__created_at", "created_at")
    )


def devices_of(user) -> QuerySet[Device]:
    """Devices on the user's active keys."""
    return (
        Device.objects.filter(key__holder=user, key__status=LicenseKeyStatus.ACTIVE)
        .select_related("key")
        .order_by("key_id", "-last_heartbeat_at")
    )


def licenses_owned_by(user) -> QuerySet[License]:
    return License.objects.filter(owner=user).select_related("plan")

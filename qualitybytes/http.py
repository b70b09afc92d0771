"""HTTP helpers every app may use (qualitybytes is the base layer: it imports no app)."""

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or the address LICENSE_TRUSTED_PROXIES hops back in X-Forwarded-For."""
    address = request.META.get("REMOTE_ADDR")
    proxies = settings.LICENSE_TRUSTED_PROXIES
    if proxies:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= proxies:
            address = hops[-proxies]
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None

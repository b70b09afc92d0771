"""The past-due box's read: the open invoice Stripe holds for a license, for the plan card of the
dashboard and the billing page (both render it through `billing/_past_due.html`)."""

from django import template

from billing import services
from licensing.models import License, LicenseStatus

register = template.Library()


@register.simple_tag
def past_due_of(license_: License) -> dict | None:
    """None unless the subscription is past due; else its open invoice (None when Stripe shows
    none) or the message to show when Stripe cannot be reached: the page renders either way."""
    if license_ is None or license_.status != LicenseStatus.GRACE:
        return None
    try:
        return {"invoice": services.open_invoice_for(license=license_), "error": ""}
    except services.BillingError as exc:
        return {"invoice": None, "error": str(exc)}

from django import template
from django.template.defaultfilters import date
from django.utils.html import format_html

from licensing.models import License, LicenseState, LicenseStatus
from qualitybytes import money as money_format

register = template.Library()


@register.filter
def money(cents: int | None, currency: str = "usd") -> str:
    """1990_00 cents → "$1,990"; amounts with cents keep them ("$12.50")."""
    return money_format.money(cents, currency)


# Words people write in capitals (or their own way) whatever their place in the name.
ENTITLEMENT_WORDS = {
    "sso": "SSO",
    "saml": "SAML",
    "scim": "SCIM",
    "api": "API",
    "sla": "SLA",
    "ip": "IP",
    "2fa": "2FA",
    "mfa": "MFA",
    "csv": "CSV",
    "pdf": "PDF",
    "url": "URL",
    "ci": "CI",
    "oauth": "OAuth",
}


@register.filter
def entitlement_label(name: str) -> str:
    """`priority_support` → "Priority support", `sso` → "SSO", `api_access` → "API access"."""
    words = name.replace("-", "_").split("_")
    label = [ENTITLEMENT_WORDS.get(word.lower(), word.lower()) for word in words if word]
    if label and label[0] == label[0].lower():
        label[0] = label[0].capitalize()
    return " ".join(label)


@register.simple_tag
def license_status(license_: License):
    """The license's state in a sentence for its owner or holder, styled by the state's tone."""
    state = LicenseState.of(license_)
    day = "j M Y"
    match state:
        case LicenseState.REVOKED if license_.status != LicenseStatus.INACTIVE:
            renews = f" and renews on {date(license_.expires_at, day)}" if license_.expires_at else ""
            billed = f"the subscription is still billed{renews} until you cancel it"
            text = f"Revoked by QualityBytes staff; {billed}."
        case LicenseState.REVOKED:
            text = "Revoked by QualityBytes staff."
        case LicenseState.SUSPENDED:
            reason = f" ({license_.suspended_reason})" if license_.suspended_reason else ""
            text = f"Suspended by QualityBytes staff{reason} — please contact support."
        case LicenseState.EXPIRED:
            text = f"Expired on {date(license_.ends_at, day)}."
        case LicenseState.GRACE:
            text = f"Past due — fix your payment by {date(license_.grace_ends_at, day)}."
        case LicenseState.INACTIVE:
            text = "Inactive — the subscription is unpaid or canceled."
        case _ if license_.cancel_at_period_end:
            text = f"Cancels on {date(license_.expires_at, day)}."
        case _ if license_.expires_at:
            text = f"Active, renews on {date(license_.expires_at, day)}."
        case _:
            text = "Active, no end date."
    # A cancellation that has not taken effect yet is news, not a success: a neutral box.
    tone = "info" if state == LicenseState.ACTIVE and license_.cancel_at_period_end else state.tone
    return format_html('<p class="status status-{}" data-status="{}">{}</p>', tone, state.value, text)

"""Export my data: everything we hold about one account, as one JSON document.

Every query is scoped to the account (most through the other apps' selectors). Secrets never
appear: license keys are masked (prefix only), API tokens show their hint, and no digest, no
encrypted copy, no password hash and no session key is read into the document.
"""

from __future__ import annotations

import json

from allauth.account.models import EmailAddress
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from accounts.models import ApiToken, User
from licensing.models import Device, License, LicenseKey, LicenseState
from licensing.selectors import usage_summary
from teams.models import Invitation
from teams.selectors import memberships_of

FORMAT_VERSION = 1


def _invoices(user: User) -> list[dict]:
    from djstripe.models import Invoice

    return [
        {
            "number": invoice.number,
            "created": invoice.created,
            "status": invoice.status,
            "amount_due": invoice.amount_due,
            "amount_paid": invoice.amount_paid,
            "currency": invoice.currency,
            "hosted_invoice_url": invoice.hosted_invoice_url,
        }
        for invoice in Invoice.objects.filter(customer__subscriber=user).order_by("-created")
    ]


def export_of(user: User, *, now=None) -> dict:
    now = now or timezone.now()
    licenses = License.objects.filter(owner=user).select_related("plan").order_by("created_at", "pk")
    keys = LicenseKey.objects.filter(holder=user).select_related("license__plan").order_by("created_at", "pk")
    devices = Device.objects.filter(key__holder=user).select_related("key").order_by("first_seen_at", "pk")
    usage = usage_summary(user, days=30)
    return {
        "format": f"qualitybytes-account-export/{FORMAT_VERSION}",
        "exported_at": now,
        "account": {
            "email": user.email,
            "name": user.name,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
            "email_addresses": [
                {"email": address.email, "verified": address.verified, "primary": address.primary}
                for address in EmailAddress.objects.filter(user=user).order_by("email")
            ],
        },
        "licenses": [
            {
                "id": str(license_.public_id),
                "plan": license_.plan.name,
                "state": LicenseState.of(license_, now).label,
                "status": license_.status,
                "billing_interval": license_.billing_interval,
                "created_at": license_.created_at,
                "expires_at": license_.expires_at,
                "cancel_at_period_end": license_.cancel_at_period_end,
            }
            for license_ in licenses
        ],
        "license_keys": [
            {
                "key": key.masked,
                "plan": key.license.plan.name,
                "license": str(key.license.public_id),
                "status": key.status,
                "created_at": key.created_at,
                "last_validated_at": key.last_validated_at,
                "revoked_at": key.revoked_at,
                "revoked_reason": key.revoked_reason,
            }
            for key in keys
        ],
        "devices": [
            {
                "name": device.name,
                "platform": device.platform,
                "app_version": device.app_version,
                "fingerprint": device.fingerprint,
                "key": device.key.masked,
                "first_seen_at": device.first_seen_at,
                "last_heartbeat_at": device.last_heartbeat_at,
                "last_ip": device.last_ip,
            }
            for device in devices
        ],
        "team_memberships": [
            {"team": membership.team.name, "role": membership.role, "joined_at": membership.created_at}
            for membership in memberships_of(user)
        ],
        "invitations_sent": [
            {
                "team": invitation.team.name,
                "email": invitation.email,
                "role": invitation.role,
                "sent_at": invitation.sent_at,
                "status": invitation.status(now),
            }
            for invitation in Invitation.objects.filter(invited_by=user).select_related("team")
        ],
        "invitations_received": [
            {
                "team": invitation.team.name,
                "role": invitation.role,
                "sent_at": invitation.sent_at,
                "status": invitation.status(now),
            }
            for invitation in Invitation.objects.filter(email__iexact=user.email).select_related("team")
        ],
        "api_tokens": [
            {
                "name": token.name,
                "prefix": token.hint,
                "created_at": token.created_at,
                "last_used_at": token.last_used_at,
                "revoked_at": token.revoked_at,
            }
            for token in ApiToken.objects.filter(user=user).order_by("created_at", "pk")
        ],
        "invoices": _invoices(user),
        "usage_last_30_days": {
            "validations_per_day": usage["days"],
            "features": usage["features"],
        },
    }


def export_json(user: User) -> str:
    return json.dumps(export_of(user), cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)

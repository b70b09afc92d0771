"""Licenses and their subscriptions as CSV, for accounting.

`licenses_csv_write` is the one writer: the `export_licenses_csv` command calls it, and so can
an admin action with the selected queryset and an HttpResponse as the file. One query for any
number of rows; rows stream from a server-side cursor.
"""

import csv
from datetime import UTC, datetime
from typing import TextIO

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.utils import timezone
from djstripe.models import Subscription

from licensing.models import License, LicenseKeyStatus, LicenseState
from qualitybytes.money import decimal_amount

COLUMNS = [
    "license_id",
    "owner_email",
    "owner_name",
    "plan",
    "billing_interval",
    "currency",
    "amount",
    "status",
    "state",
    "validation_state",
    "seats",
    "active_keys",
    "created_at",
    "expires_at",
    "grace_ends_at",
    "cancel_at_period_end",
    "suspended_at",
    "revoked_at",
    "stripe_subscription_id",
    "stripe_customer_id",
    "stripe_subscription_status",
]

# A spreadsheet runs a cell that starts with one of these as a formula; names are user input.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _amount(license_: License) -> str:
    """The list price per billing period; hand-issued licenses are not billed."""
    if not license_.stripe_subscription_id:
        return ""
    return decimal_amount(license_.plan.amount_for(license_.billing_interval))


def licenses_for_export(licenses: QuerySet[License] | None = None) -> QuerySet[License]:
    subscriptions = Subscription.objects.filter(id=OuterRef("stripe_subscription_id"))
    return (
        (licenses if licenses is not None else License.objects.all())
        .select_related("owner", "plan")
        .annotate(
            active_keys=Count("keys", filter=Q(keys__status=LicenseKeyStatus.ACTIVE)),
            subscription_status=Subquery(subscriptions.annotate(s=KT("stripe_data__status")).values("s")[:1]),
            stripe_customer_id=Subquery(subscriptions.values("customer_id")[:1]),
        )
        .order_by("created_at", "pk")
    )


def licenses_csv_write(out: TextIO, licenses: QuerySet[License] | None = None, *, now=None) -> int:
    """Write a header and one row per license to `out`; returns the number of rows."""
    now = now or timezone.now()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    rows = 0
    for license_ in licenses_for_export(licenses).iterator(chunk_size=2000):
        plan = license_.plan
        writer.writerow(
            _cell(value)
            for value in (
                license_.public_id,
                license_.owner.email,
                license_.owner.name,
                plan.slug,
                license_.billing_interval,
                plan.currency,
                _amount(license_),
                license_.status,
                LicenseState.of(license_, now),
                license_.state(now),
                license_.seats_total,
                license_.active_keys,
                license_.created_at,
                license_.expires_at,
                license_.grace_ends_at,
                license_.cancel_at_period_end,
                license_.suspended_at,
                license_.revoked_at,
                license_.stripe_subscription_id,
                license_.stripe_customer_id,
                license_.subscription_status,
            )
        )
        rows += 1
    return rows

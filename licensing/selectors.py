"""Licensing's read side: every query here is scoped to the user it is for (services push)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When
from django.utils import timezone
from django.utils.formats import date_format
from djstripe.models import Invoice

from accounts.models import User
from billing.models import PlanPrice
from licensing.models import (
    MEMBERSHIP_ENDED,
    Device,
    License,
    LicenseKey,
    LicenseKeyStatus,
    UsageDaily,
    stale_cutoff,
)


def keys_held_by(user: User) -> QuerySet[LicenseKey]:
    """The user's own keys (each team member holds one), newest license first; keys of a team
    the user was removed from or left come last, as a record rather than a plan.

    `seats_used` is the license's seats used by the one rule (`seats_used_sql`)."""
    return (
        LicenseKey.objects.filter(holder=user)
        .select_related("license__plan", "license__owner", "license__team", "revoked_by")
        .annotate(devices_used=Count("devices", filter=Q(devices__last_heartbeat_at__gte=stale_cutoff())))
        .with_seats_used()
        .order_by(
            Case(
                When(status=LicenseKeyStatus.REVOKED, revoked_cause__in=MEMBERSHIP_ENDED, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
            "-license__created_at",
            "created_at",
        )
    )


def devices_of(user: User) -> QuerySet[Device]:
    """Devices on the user's active keys."""
    return (
        Device.objects.filter(key__holder=user, key__status=LicenseKeyStatus.ACTIVE)
        .select_related("key")
        .order_by("key_id", "-last_heartbeat_at")
    )


def usage_summary(user: User, *, days: int = 30) -> dict:
    """Validations per day on the user's keys (every day of the window, zeros included) and
    feature totals."""
    today = timezone.now().date()
    start = today - timedelta(days=days - 1)
    rows = UsageDaily.objects.filter(key__holder=user, day__gte=start)
    per_day = dict(
        rows.filter(feature=UsageDaily.VALIDATIONS)
        .values_list("day")
        .annotate(total=Sum("count"))
        .values_list("day", "total")
    )
    features = (
        rows.exclude(feature=UsageDaily.VALIDATIONS)
        .values("feature")
        .annotate(count=Sum("count"))
        .order_by("-count", "feature")
    )
    series = [
        {"day": start + timedelta(days=n), "validations": per_day.get(start + timedelta(days=n), 0)}
        for n in range(days)
    ]
    return {"days": series, "features": list(features)}


@dataclass(frozen=True)
class InvoiceRow:
    """One invoice as the dashboard lists it: what it was for, in words, beside Stripe's figures."""

    created: datetime
    description: str
    amount: int
    currency: str
    status: str
    url: str
    pdf_url: str

    @property
    def status_label(self) -> str:
        return self.status.replace("_", " ").capitalize()


def invoices_of(user: User, *, limit: int = 12) -> list[InvoiceRow]:
    """The user's latest Stripe invoices (dj-stripe's mirror), newest first, each described from
    its billing reason and lines (two queries, whatever the number of invoices)."""
    invoices = list(Invoice.objects.filter(customer__subscriber=user).order_by("-created")[:limit])
    lines = {id(invoice): _lines(invoice.stripe_data) for invoice in invoices}
    price_ids = {_price_id(line) for found in lines.values() for line in found} - {None}
    plans = {
        price.stripe_price_id: f"{price.plan.name}, {price.get_interval_display().lower()}"
        for price in PlanPrice.objects.filter(stripe_price_id__in=price_ids).select_related("plan")
    }
    return [
        InvoiceRow(
            created=invoice.created,
            description=_describe(invoice.stripe_data, lines[id(invoice)], plans),
            amount=invoice.stripe_data.get("amount_due") or 0,
            currency=invoice.stripe_data.get("currency") or "usd",
            status=invoice.stripe_data.get("status") or "",
            url=invoice.stripe_data.get("hosted_invoice_url") or "",
            pdf_url=invoice.stripe_data.get("invoice_pdf") or "",
        )
        for invoice in invoices
    ]


def _lines(data: dict) -> list[dict]:
    return list((data.get("lines") or {}).get("data") or [])


def _price_id(line: dict) -> str | None:
    """The line's price: `pricing.price_details.price` in current API versions, `price.id` before."""
    details = (line.get("pricing") or {}).get("price_details") or {}
    price = details.get("price") or line.get("price")
    return price.get("id") if isinstance(price, dict) else price


def _is_proration(line: dict) -> bool:
    details = (line.get("parent") or {}).get("subscription_item_details") or {}
    return bool(details.get("proration", line.get("proration")))


def _day(timestamp: int | None) -> str:
    if not timestamp:
        return ""
    return date_format(datetime.fromtimestamp(timestamp, tz=UTC), "j M Y")


def _describe(data: dict, lines: list[dict], plans: dict[str, str]) -> str:
    """ "Team, monthly — 1 Dec 2026 to 1 Jan 2027", "Change from Solo to Team (prorated)", with
    "First payment: " before a subscription's first invoice; parts joined by "; "."""

    def name(line: dict) -> str:
        return plans.get(_price_id(line)) or line.get("description") or "QualityBytes"

    parts: list[str] = []
    for line in lines:
        if _is_proration(line):
            continue
        period = line.get("period") or {}
        start, end = _day(period.get("start")), _day(period.get("end"))
        text = f"{name(line)} — {start} to {end}" if start and end and start != end else name(line)
        if text not in parts:
            parts.append(text)
    prorations = [line for line in lines if _is_proration(line)]
    if prorations:
        old = list(dict.fromkeys(name(line) for line in prorations if (line.get("amount") or 0) < 0))
        new = list(dict.fromkeys(name(line) for line in prorations if (line.get("amount") or 0) >= 0))
        old, new = [n for n in old if n not in new], [n for n in new if n not in old]
        if old and new:
            parts.append(f"Change from {_short(old, new)} to {_short(new, old)} (prorated)")
        elif old:
            parts.append(f"Credit for unused time on {' and '.join(old)} (prorated)")
        elif new:
            parts.append(f"Remaining time on {' and '.join(new)} (prorated)")
        else:
            parts.append("Change of quantity (prorated)")
    if not parts:
        parts.append(data.get("description") or "Invoice")
    text = "; ".join(parts)
    if data.get("billing_reason") == "subscription_create":
        return f"First payment: {text}"
    return text


def _short(names: list[str], others: list[str]) -> str:
    """ "Solo, monthly" → "Solo" when the interval is the same on both sides of a change."""
    intervals = {n.rpartition(", ")[2] for n in names + others}
    if len(intervals) == 1:
        return " and ".join(n.rpartition(", ")[0] or n for n in names)
    return " and ".join(names)


def billed_licenses(user: User) -> QuerySet[License]:
    """The user's licenses whose Stripe subscription still bills (active or past due), oldest
    first, whatever staff did to them: a revoked license can still be billed, and its owner
    must still see the subscription and be able to cancel it."""
    return License.objects.billed().filter(owner=user).select_related("plan").order_by("created_at", "pk")


def live_license_for(user: User) -> License | None:
    """The one subscription the customer pages act on: the oldest that still bills.

    A second live subscription (two Checkout tabs, one made in the Stripe dashboard) is flagged
    for staff (`duplicate_subscriptions`) and never chosen by chance.
    """
    return billed_licenses(user).first()


def duplicate_subscriptions(user: User) -> list[License]:
    """Live subscriptions beyond the first: billed twice, for staff to cancel and refund."""
    return list(billed_licenses(user)[1:])


def had_subscription(user: User) -> bool:
    """Whether the user ever paid for a Stripe subscription (live or ended): /pricing/ then says
    "Resubscribe" once none bills any more."""
    return License.objects.filter(owner=user, stripe_subscription_id__isnull=False).exists()

"""Business figures for the operator panel: subscriptions, revenue, churn and usage.

Every figure is an aggregate query (COUNT / SUM with GROUP BY); nothing loops over licenses,
users or events in Python, so the cost is the same for ten customers or a hundred thousand.
The user list's plan and payment status come from `users_with_billing`, the same annotation
the dashboard counts with, so a figure and the list it links to always agree.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import (
    Case,
    CharField,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from djstripe.models import Subscription

from accounts.models import User
from billing.models import Interval, Plan
from licensing.models import (
    VALID_CODES,
    Device,
    License,
    LicenseKey,
    LicenseKeyStatus,
    LicenseQuerySet,
    LicenseState,
    LicenseStatus,
    PaymentStatus,
    UsageDaily,
    ValidationEvent,
)
from qualitybytes.money import money

WINDOW_DAYS = 30
TOP_FAILURES = 6


# Has a Stripe subscription (whatever its state): billed, as opposed to comp.
FROM_STRIPE = Q(stripe_subscription_id__isnull=False)


def current_license_of() -> QuerySet[License]:
    """A subquery of the outer user's licenses, best first: not revoked; billed before comp;
    active, then past due, then inactive; newest. The first row is the user's current license."""
    return (
        License.objects.filter(owner=OuterRef("pk"), revoked_at__isnull=True)
        .annotate(
            billed_rank=Case(When(FROM_STRIPE, then=0), default=1, output_field=IntegerField()),
            status_rank=Case(
                When(status=LicenseStatus.ACTIVE, then=0),
                When(status=LicenseStatus.GRACE, then=1),
                default=2,
                output_field=IntegerField(),
            ),
            payment=Case(
                When(~FROM_STRIPE, then=Value(PaymentStatus.COMP)),
                When(status=LicenseStatus.ACTIVE, then=Value(PaymentStatus.ACTIVE)),
                When(status=LicenseStatus.GRACE, then=Value(PaymentStatus.PAST_DUE)),
                default=Value(PaymentStatus.CANCELED),
                output_field=CharField(),
            ),
        )
        .order_by("billed_rank", "status_rank", "-created_at", "-pk")
    )


def users_with_billing(users: QuerySet) -> QuerySet:
    """Annotate users with `plan_id`, `plan_name`, `payment_status` and `key_count` (active keys held).

    Correlated subqueries, one value each per row: the page's query count stays the same
    whatever the number of users, and filters on these values run in the database.
    """
    current = current_license_of()
    held = (
        LicenseKey.objects.filter(holder=OuterRef("pk"), status=LicenseKeyStatus.ACTIVE)
        .order_by()
        .values("holder")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return users.annotate(
        plan_id=Subquery(current.values("plan_id")[:1]),
        plan_name=Subquery(current.values("plan__name")[:1]),
        payment_status=Coalesce(Subquery(current.values("payment")[:1]), Value(PaymentStatus.NONE)),
        key_count=Coalesce(Subquery(held, output_field=IntegerField()), 0),
    )


def _subscriptions_by_plan() -> tuple[list[dict], float, str]:
    rows = (
        License.objects.billed()
        .values("plan_id")
        .annotate(
            subscriptions=Count("pk"),
            past_due=Count("pk", filter=Q(status=LicenseStatus.GRACE)),
            yearly=Count("pk", filter=Q(billing_interval=Interval.YEAR)),
        )
    )
    counts = {row["plan_id"]: row for row in rows}
    plans = list(Plan.objects.all())
    currency = plans[0].currency if plans else "usd"
    by_plan, mrr = [], 0.0
    for plan in plans:
        row = counts.get(plan.pk, {"subscriptions": 0, "past_due": 0, "yearly": 0})
        monthly = row["subscriptions"] - row["yearly"]
        plan_mrr = monthly * plan.monthly_amount + row["yearly"] * plan.yearly_amount / 12
        mrr += plan_mrr
        if row["subscriptions"] or plan.is_public:
            by_plan.append(
                {
                    "plan": plan,
                    "subscriptions": row["subscriptions"],
                    "monthly": monthly,
                    "yearly": row["yearly"],
                    "past_due": row["past_due"],
                    "mrr_cents": round(plan_mrr),
                    "mrr": money(plan_mrr, plan.currency, always_cents=True),
                }
            )
    return by_plan, mrr, currency


def _validations_per_day(today) -> list[dict]:
    first = today - timedelta(days=WINDOW_DAYS - 1)
    totals = dict(
        UsageDaily.objects.filter(feature=UsageDaily.VALIDATIONS, day__gte=first, day__lte=today)
        .values("day")
        .annotate(total=Sum("count"))
        .values_list("day", "total")
    )
    return [
        {"day": first + timedelta(days=offset), "count": totals.get(first + timedelta(days=offset), 0)}
        for offset in range(WINDOW_DAYS)
    ]


def bar_chart(days: list[dict], *, width: int, height: int, top: int, gap: int, field: str = "count") -> dict:
    """Bar geometry for a server-rendered SVG of `days` (dicts with `day` and `field`): the tallest
    bar reaches `top`, where the y axis has its peak line (and one at half); bars are `gap` apart."""
    counts = [day[field] for day in days]
    peak = max(counts, default=0)
    plot = height - top
    slot = width / max(len(days), 1)
    bars = []
    for index, (day, count) in enumerate(zip(days, counts, strict=True)):
        bar_height = round(plot * count / peak, 1) if peak else 0
        bars.append(
            {
                "x": round(index * slot + gap / 2, 1),
                "y": round(height - bar_height, 1),
                "width": round(slot - gap, 1),
                "height": bar_height,
                "day": day["day"],
                "count": count,
            }
        )
    return {
        "bars": bars,
        # Nothing to draw: pages say so in words instead of an empty box.
        "empty": peak == 0,
        "peak": peak,
        "total": sum(counts),
        "width": width,
        "height": height,
        "peak_y": top,
        "half_y": top + plot / 2,
        "half": peak / 2,
        "first_day": days[0]["day"] if days else None,
        "last_day": days[-1]["day"] if days else None,
    }


def business_figures(now: datetime | None = None) -> dict:
    """The dashboard's figures as of `now`. A dozen aggregate queries, whatever the data size."""
    now = now or timezone.now()
    since = now - timedelta(days=WINDOW_DAYS)
    by_plan, mrr, currency = _subscriptions_by_plan()
    licenses = License.objects.live(now).aggregate(active=Count("pk"), comp=Count("pk", filter=~FROM_STRIPE))
    staff_holds = License.objects.aggregate(
        suspended=Count("pk", filter=LicenseQuerySet.state_q(LicenseState.SUSPENDED, now)),
        revoked_30d=Count("pk", filter=Q(revoked_at__gte=since)),
    )
    since_ts = int(since.timestamp())
    canceled = Subscription.objects.filter(
        Q(stripe_data__status="canceled")
        & (Q(stripe_data__ended_at__gte=since_ts) | Q(stripe_data__canceled_at__gte=since_ts))
    ).count()
    new = License.objects.filter(FROM_STRIPE, created_at__gte=since).count()
    past_due_users = (
        users_with_billing(User.objects.all()).filter(payment_status=PaymentStatus.PAST_DUE).count()
    )
    devices = Device.objects.counting(now).filter(key__status=LicenseKeyStatus.ACTIVE).count()
    days = _validations_per_day(timezone.localdate(now))
    failures = list(
        ValidationEvent.objects.filter(created_at__gte=since)
        .exclude(code__in=VALID_CODES)
        .values("code")
        .annotate(n=Count("pk"))
        .order_by("-n", "code")[:TOP_FAILURES]
    )
    return {
        "now": now,
        "since": since,
        "window_days": WINDOW_DAYS,
        "subscriptions_by_plan": by_plan,
        "subscriptions": sum(row["subscriptions"] for row in by_plan),
        "mrr_cents": round(mrr),
        "mrr": money(mrr, currency, always_cents=True),
        "arr": money(mrr * 12, currency, always_cents=True),
        "new_subscriptions": new,
        "canceled_subscriptions": canceled,
        "past_due_users": past_due_users,
        "active_licenses": licenses["active"],
        "comp_licenses": licenses["comp"],
        "suspended_licenses": staff_holds["suspended"],
        "revoked_licenses_30d": staff_holds["revoked_30d"],
        "active_devices": devices,
        "validations_per_day": days,
        "validation_chart": bar_chart(days, width=720, height=160, top=24, gap=4),
        "failure_codes": [{"code": row["code"], "count": row["n"]} for row in failures],
    }

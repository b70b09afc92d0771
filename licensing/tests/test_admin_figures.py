"""The dashboard's business figures against a known fixture, and their cost."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from djstripe.models import Customer, Subscription

from billing.models import Interval
from licensing.figures import business_figures
from licensing.models import License, LicenseStatus, UsageDaily, ValidationEvent
from licensing.tests.factories import DeviceFactory, LicenseFactory, LicenseKeyFactory


def _stripe_subscription(sub_id: str, customer: Customer, **data) -> Subscription:
    return Subscription.objects.create(
        id=sub_id, customer=customer, livemode=False, stripe_data={"id": sub_id, **data}
    )


@pytest.fixture
def book(db, plan, team_plan):
    """Solo $12 / $120, Team $49 / $490; four live subscriptions, one canceled, one comp."""
    now = timezone.now()
    made = {
        "a": LicenseFactory(plan=plan, stripe_subscription_id="sub_a"),
        "b": LicenseFactory(plan=plan, stripe_subscription_id="sub_b", billing_interval=Interval.YEAR),
        "c": LicenseFactory(
            plan=team_plan,
            stripe_subscription_id="sub_c",
            status=LicenseStatus.GRACE,
            grace_ends_at=now + timedelta(days=5),
        ),
        "d": LicenseFactory(plan=team_plan, stripe_subscription_id="sub_d", status=LicenseStatus.INACTIVE),
        "e": LicenseFactory(plan=plan),
        # Suspended by staff, still billed by Stripe: in MRR, not among active licenses.
        "f": LicenseFactory(plan=plan, stripe_subscription_id="sub_f", suspended_at=now),
    }
    License.objects.filter(pk=made["d"].pk).update(created_at=now - timedelta(days=60))
    keys = {name: LicenseKeyFactory(license=license_) for name, license_ in made.items()}
    DeviceFactory.create_batch(2, key=keys["a"])
    DeviceFactory(key=keys["b"], last_heartbeat_at=now - timedelta(days=90))
    revoked = LicenseKeyFactory(license=made["e"], holder=made["a"].owner, status="revoked", revoked_at=now)
    DeviceFactory(key=revoked)

    today = timezone.localdate(now)
    for key, day, feature, count in [
        (keys["a"], today, UsageDaily.VALIDATIONS, 10),
        (keys["b"], today, UsageDaily.VALIDATIONS, 5),
        (keys["a"], today - timedelta(days=3), UsageDaily.VALIDATIONS, 7),
        (keys["a"], today - timedelta(days=40), UsageDaily.VALIDATIONS, 100),
        (keys["a"], today, "export_pdf", 50),
    ]:
        UsageDaily.objects.create(key=key, day=day, feature=feature, count=count)
    for code, times, age in [
        ("REVOKED", 3, 1),
        ("EXPIRED", 1, 2),
        ("VALID", 5, 0),
        ("GRACE", 2, 0),
        ("TOO_MANY_DEVICES", 4, 40),
    ]:
        for _ in range(times):
            ValidationEvent.objects.create(key=keys["a"], code=code, created_at=now - timedelta(days=age))

    customer = Customer.objects.create(id="cus_1", livemode=False, stripe_data={"id": "cus_1"})
    ts = lambda days: int((now - timedelta(days=days)).timestamp())  # noqa: E731
    _stripe_subscription("sub_a", customer, status="active", created=ts(5))
    _stripe_subscription("sub_d", customer, status="canceled", canceled_at=ts(12), ended_at=ts(10))
    _stripe_subscription("sub_old", customer, status="canceled", canceled_at=ts(50), ended_at=ts(45))
    return made


def test_the_figures_of_a_known_book(book, plan, team_plan):
    figures = business_figures()
    by_plan = {row["plan"].slug: row for row in figures["subscriptions_by_plan"]}
    assert by_plan["solo"]["subscriptions"] == 3
    assert (by_plan["solo"]["monthly"], by_plan["solo"]["yearly"]) == (2, 1)
    assert by_plan["team"]["subscriptions"] == 1 and by_plan["team"]["past_due"] == 1
    # 2 × $12 + $120 / 12 + $49 = $83.00 a month.
    assert by_plan["solo"]["mrr_cents"] == 3400 and by_plan["team"]["mrr_cents"] == 4900
    assert figures["mrr_cents"] == 8300
    assert figures["mrr"] == "$83.00" and figures["arr"] == "$996.00"
    assert figures["subscriptions"] == 4
    assert figures["new_subscriptions"] == 4
    assert figures["canceled_subscriptions"] == 1
    assert figures["past_due_users"] == 1
    assert figures["active_licenses"] == 4 and figures["comp_licenses"] == 1
    assert figures["suspended_licenses"] == 1
    assert figures["active_devices"] == 2
    days = figures["validations_per_day"]
    assert len(days) == 30 and days[-1]["day"] == timezone.localdate()
    assert days[-1]["count"] == 15 and days[-4]["count"] == 7
    assert sum(day["count"] for day in days) == 22
    assert figures["validation_chart"]["peak"] == 15 and figures["validation_chart"]["total"] == 22
    assert figures["failure_codes"] == [{"code": "REVOKED", "count": 3}, {"code": "EXPIRED", "count": 1}]


def test_the_figures_of_an_empty_book(db):
    figures = business_figures()
    assert figures["mrr"] == "$0.00" and figures["subscriptions"] == 0
    assert figures["failure_codes"] == [] and figures["validation_chart"]["total"] == 0


def test_the_figures_cost_the_same_queries_for_more_data(book, plan):
    with CaptureQueriesContext(connection) as few:
        business_figures()
    for n in range(30):
        key = LicenseKeyFactory(license=LicenseFactory(plan=plan, stripe_subscription_id=f"sub_more_{n}"))
        DeviceFactory(key=key)
        ValidationEvent.objects.create(key=key, code="NOT_FOUND" if n % 2 else "SUSPENDED")
    with CaptureQueriesContext(connection) as many:
        figures = business_figures()
    assert len(many) == len(few) <= 12
    assert figures["subscriptions"] == 34


def test_the_admin_index_shows_the_figures_with_links(admin_client, book):
    html = admin_client.get("/admin/").content.decode()
    assert "$83.00" in html
    assert "/admin/accounts/user/?payment=past_due" in html
    assert "REVOKED" in html
    assert "<svg" in html and 'class="qb-bar"' in html
    dashboard = html.split('<section class="qb-dashboard"', 1)[1].split("</section>", 1)[0]
    assert "style=" not in dashboard and "<script" not in dashboard  # CSP: style-src 'self'

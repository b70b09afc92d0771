"""The operator panel in Chromium: log in, read the dashboard, find a past-due customer, revoke a key.

ADMIN_SCREENSHOTS=<dir> keeps the screenshots for a human to look at.
"""

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from djstripe.models import Customer, Subscription

from accounts.tests.browser_login import log_in_in_browser
from accounts.tests.factories import UserFactory
from billing.models import Interval, Plan
from licensing.models import LicenseStatus, UsageDaily, ValidationEvent
from licensing.tests.factories import DeviceFactory, LicenseFactory, LicenseKeyFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def business(db):
    """A small but lively book: subscriptions on every plan, one customer past due, 30 days of use."""
    call_command("seed_plans", verbosity=0)
    plans = {plan.slug: plan for plan in Plan.objects.all()}
    now = timezone.now()
    keys = []
    for n, (slug, interval) in enumerate(
        [("solo", Interval.MONTH)] * 5
        + [("solo", Interval.YEAR)] * 2
        + [("team", Interval.MONTH)] * 3
        + [("team", Interval.YEAR), ("enterprise", Interval.YEAR)]
    ):
        license_ = LicenseFactory(
            plan=plans[slug], stripe_subscription_id=f"sub_demo_{n}", billing_interval=interval
        )
        keys.append(LicenseKeyFactory(license=license_))
        DeviceFactory.create_batch(1 + n % 2, key=keys[-1])
    LicenseKeyFactory(license=LicenseFactory(plan=plans["team"], expires_at=now + timedelta(days=20)))
    late = UserFactory(email="late.payer@example.com", name="Lee Late")
    late_key = LicenseKeyFactory(
        license=LicenseFactory(
            owner=late,
            plan=plans["solo"],
            stripe_subscription_id="sub_demo_late",
            status=LicenseStatus.GRACE,
            grace_ends_at=now + timedelta(days=5),
        )
    )
    DeviceFactory(key=late_key, name="Lee's laptop")
    today = timezone.localdate()
    UsageDaily.objects.bulk_create(
        UsageDaily(
            key=key,
            day=today - timedelta(days=d),
            feature=UsageDaily.VALIDATIONS,
            count=20 + (d * 7 + i * 13) % 45,
        )
        for d in range(30)
        for i, key in enumerate(keys[:6])
    )
    for code, times in [("EXPIRED", 9), ("TOO_MANY_DEVICES", 6), ("REVOKED", 4), ("DEVICE_NOT_ACTIVATED", 2)]:
        ValidationEvent.objects.bulk_create(
            ValidationEvent(key=keys[i % len(keys)], code=code, created_at=now - timedelta(days=i))
            for i in range(times)
        )
    customer = Customer.objects.create(id="cus_demo", livemode=False, stripe_data={"id": "cus_demo"})
    Subscription.objects.create(
        id="sub_demo_gone",
        customer=customer,
        livemode=False,
        stripe_data={
            "id": "sub_demo_gone",
            "status": "canceled",
            "ended_at": int((now - timedelta(days=3)).timestamp()),
        },
    )
    return late_key


def keep_screenshots(page) -> None:
    target = os.environ.get("ADMIN_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for shot in Path(page.screenshots).glob("*.png"):
            shutil.copy(shot, target)


def test_staff_find_a_past_due_customer_and_revoke_their_key(page, live_server, business):
    late_key = business
    staff = UserFactory(email="ops@qualitybytes.test", is_staff=True, is_superuser=True)

    log_in_in_browser(page, staff, path="/admin/")  # the site's login, then the TOTP code
    page.wait_for_selector(".qb-dashboard")
    dashboard = page.inner_text(".qb-dashboard").lower()
    assert "mrr" in dashboard and "past due" in dashboard and "expired" in dashboard
    assert page.locator("svg.qb-chart rect.qb-bar").count() == 30
    page.screenshot(path=page.screenshots / "admin-dashboard.png", full_page=True)
    page.locator(".qb-dashboard").screenshot(path=page.screenshots / "admin-dashboard-figures.png")
    page.emulate_media(color_scheme="dark")
    page.locator(".qb-dashboard").screenshot(path=page.screenshots / "admin-dashboard-dark.png")
    page.emulate_media(color_scheme="light")

    page.click("#content-main a[href='/admin/accounts/user/']")
    page.click("#changelist-filter a:has-text('Past due')")
    page.wait_for_url("**/admin/accounts/user/?payment=past_due")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    page.screenshot(path=page.screenshots / "admin-users-past-due.png", full_page=True)

    page.click("#result_list a:has-text('late.payer@example.com')")
    page.wait_for_selector("text=keys held")
    assert "Lee's laptop" in page.content().replace("&#x27;", "'")
    page.screenshot(path=page.screenshots / "admin-user.png", full_page=True)

    page.click(f"a.inlinechangelink[href*='/licensekey/{late_key.pk}/']")
    page.click("text=Revoke key…")
    page.fill("textarea[name=reason]", "Card reported stolen; customer asked us to block the key")
    page.screenshot(path=page.screenshots / "admin-revoke-reason.png", full_page=True)
    page.click("input[type=submit][value=Revoke]")
    page.wait_for_selector("ul.messagelist")
    assert "Revoked 1 license key." in page.inner_text("ul.messagelist")
    assert "Card reported stolen" in page.content()

    answer = page.request.post(
        f"{live_server.url}/api/v1/licenses/validate", data={"key": late_key.plaintext}
    ).json()
    assert answer["code"] == "REVOKED" and answer["valid"] is False

    page.goto("/admin/licensing/license/?billing=stripe")
    assert page.locator("#result_list tbody tr").count() == 13
    page.screenshot(path=page.screenshots / "admin-licenses.png", full_page=True)
    page.goto(f"/admin/licensing/license/{late_key.license_id}/change/")
    assert "Card reported stolen" in page.content()
    page.screenshot(path=page.screenshots / "admin-license.png", full_page=True)
    keep_screenshots(page)

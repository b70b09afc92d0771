"""Staff in Chromium: a refunded, disputed customer billed twice, seen at a glance in the license
admin, then canceled and refunded from the license page."""

import pytest
import stripe
from playwright.sync_api import expect

from accounts.tests.browser_login import log_in_in_browser
from accounts.tests.factories import UserFactory
from billing.tests.lifecycle import buy, subscribe_in_stripe_dashboard
from licensing.models import LicenseStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_see_money_back_and_cancel_and_refund_a_duplicate(page, live_server, client, catalogue, buyer):
    first = buy(client, catalogue, buyer, plan="team")
    existing = stripe.Subscription.retrieve(first.stripe_subscription_id)
    catalogue.refund(existing["latest_invoice"], amount=1000)
    duplicate = subscribe_in_stripe_dashboard(catalogue, first)
    staff = UserFactory(email="ops@qualitybytes.test", is_staff=True, is_superuser=True)

    log_in_in_browser(page, staff, path="/admin/")  # the site's login, then the TOTP code
    page.goto("/admin/licensing/license/?billed_twice=yes")
    expect(page.locator("#result_list")).to_contain_text("billed twice")
    page.screenshot(path=page.screenshots / "admin-billed-twice.png", full_page=True)

    page.goto(f"/admin/licensing/license/{first.pk}/change/")
    expect(page.locator(".field-payment_history")).to_contain_text("Refund")
    expect(page.locator(".field-payment_history")).to_contain_text("$10")
    page.screenshot(path=page.screenshots / "admin-payment-history.png", full_page=True)

    page.goto(f"/admin/licensing/license/{duplicate.pk}/change/")
    page.click("text=Cancel and refund (billed twice)…")
    page.fill("textarea[name=reason]", "two checkouts paid")
    page.screenshot(path=page.screenshots / "admin-cancel-and-refund.png", full_page=True)
    page.click("input[type=submit][value='Cancel and refund']")
    expect(page.locator(".messagelist")).to_contain_text("Canceled and refunded")
    duplicate.refresh_from_db()
    assert duplicate.status == LicenseStatus.INACTIVE
    assert [r["amount"] for r in stripe.Refund.list(charge=None).data if r["amount"] == 1200] == [1200]

import re

import pytest
import requests
from django.core.management import call_command
from playwright.sync_api import expect

from licensing.models import LicenseKey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_user_buys_team_monthly_and_gets_a_working_key(page, live_server, stripe_simulator, settings):
    settings.SITE_URL = live_server.url
    call_command("seed_plans")
    call_command("sync_plans")
    from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

    UserFactory(email="buyer@example.com")
    page.goto("/accounts/login/")
    page.fill("input[name=login]", "buyer@example.com")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard/")

    page.goto("/pricing/")
    page.click("[data-plan=team] >> text=Subscribe")
    page.click("text=Continue to payment")
    page.wait_for_url("**/checkout/**")
    assert "simulator" in page.content().lower()
    page.screenshot(path=page.screenshots / "simulator-checkout.png", full_page=True)
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url("**/billing/success/**")
    shown = page.inner_text("[data-key]").strip()
    page.screenshot(path=page.screenshots / "success.png", full_page=True)

    key = LicenseKey.objects.get(holder__email="buyer@example.com")
    assert shown == key.reveal()
    answer = requests.post(
        f"{live_server.url}/api/v1/licenses/validate", json={"key": shown}, timeout=10
    ).json()
    assert (answer["valid"], answer["code"], answer["plan"]["slug"]) == (True, "VALID", "team")

    page.goto("/dashboard/")
    page.click("text=Reveal")
    expect(page.locator(".key-value")).not_to_contain_text("…")
    assert page.inner_text(".key-value").strip() == shown
    page.screenshot(path=page.screenshots / "dashboard.png", full_page=True)


def test_a_declined_upgrade_at_phone_width_says_why_and_the_invoice_pays_it(
    page, live_server, catalogue, buyer, client, settings
):
    from accounts.tests.factories import DEFAULT_PASSWORD
    from billing.tests.lifecycle import buy

    settings.SITE_URL = live_server.url
    license_ = buy(client, catalogue, buyer, plan="team")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/accounts/login/")
    page.fill("input[name=login]", buyer.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard/")

    catalogue.fail_next_payments(1)
    page.goto("/billing/change/")
    page.click("[data-plan=enterprise] >> text=Choose monthly")
    page.wait_for_url("**/billing/change/preview/**")
    page.click("[data-confirm]")
    expect(page.locator("[data-change-error]")).to_contain_text("card was declined")
    expect(page.get_by_role("link", name=re.compile("Pay the invoice of \\$"))).to_be_visible()
    page.screenshot(path=page.screenshots / "declined-upgrade-390.png", full_page=True)
    license_.refresh_from_db()
    assert license_.plan.slug == "team"

    page.get_by_role("link", name=re.compile("Pay the invoice of \\$")).click()
    page.wait_for_url("**/invoice/**")
    page.get_by_role("button", name="Pay", exact=False).first.click()
    catalogue.flush()
    license_.refresh_from_db()
    assert license_.plan.slug == "enterprise"

"""Changing plan in Chromium at desktop and phone width: the plans, the preview, the confirmation."""

import re

import pytest
import stripe
from playwright.sync_api import expect

from billing.tests.lifecycle import buy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {1280: 900, 390: 844}


def test_a_customer_previews_an_upgrade_at_both_widths_and_confirms_it_once(
    page, live_server, catalogue, buyer, client, password, settings
):
    settings.SITE_URL = live_server.url
    license_ = buy(client, catalogue, buyer, plan="solo")
    catalogue.backdate(license_.stripe_subscription_id, 9 * 86400)
    page.goto("/accounts/login/")
    page.fill("input[name=login]", buyer.email)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url("**/dashboard/")
    page.click("#subscription >> text=Change plan")
    page.wait_for_url("**/billing/change/")

    for width, height in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.goto("/billing/change/")
        current = page.locator("[data-plan=solo] [data-option=month] button")
        expect(current).to_have_text("Current plan")
        expect(current).to_be_disabled()
        expect(page.locator("[data-plan=team] [data-option=year]")).to_contain_text("$490")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=page.screenshots / f"change-plan-{width}.png", full_page=True)

        page.click("[data-plan=team] [data-option=month] >> text=Choose monthly")
        page.wait_for_url("**/billing/change/preview/?plan=team&interval=month")
        expect(page.locator("h1")).to_have_text("Switch to Team")
        expect(page.locator(".change-lines")).to_contain_text("Unused time on Solo (monthly)")
        expect(page.locator(".change-lines")).to_contain_text("Remaining time on Team (monthly)")
        expect(page.locator("[data-next-invoice]")).to_contain_text("$49")
        expect(page.locator("[data-confirm]")).to_have_text(re.compile(r"Pay \$\d+\.\d\d and switch to Team"))
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=page.screenshots / f"change-preview-{width}.png", full_page=True)

    shown = page.inner_text("[data-amount-now]").strip()
    page.dblclick("[data-confirm]")  # a double submit: the server gets the confirmation twice
    page.wait_for_url("**/billing/")
    expect(page.locator(".messages")).to_contain_text(
        re.compile("Your plan is now Team, billed monthly.|nothing more was charged")
    )
    page.screenshot(path=page.screenshots / "change-done-390.png", full_page=True)
    catalogue.flush()

    invoices = [
        invoice
        for invoice in stripe.Invoice.list(subscription=license_.stripe_subscription_id).data
        if invoice["billing_reason"] == "subscription_update"
    ]
    assert len(invoices) == 1
    assert f"${invoices[0]['amount_paid'] / 100:.2f}" == shown

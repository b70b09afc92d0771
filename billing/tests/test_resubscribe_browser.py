"""After the end, in Chromium: the dashboard and the billing page say the subscription ended after
the payment failed and offer Resubscribe (1280 px and 390 px); resubscribing through Checkout
shows the same key again and the Team link opens the team, live."""

import pytest
import requests
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD
from billing.tests.lifecycle import buy
from billing.tests.test_resubscribe import activate, add_member
from licensing.models import License

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_after_an_involuntary_end_the_pages_say_so_and_resubscribing_brings_the_key_back(
    page, live_server, catalogue, buyer, client, settings
):
    settings.SITE_URL = live_server.url
    old = buy(client, catalogue, buyer, plan="team")
    owner_key = old.keys.get(holder=buyer).reveal()
    _, member_key = add_member(old, buyer, "mila@example.com")
    activate(client, owner_key, "owner-laptop")
    catalogue.fail_payment(old.stripe_subscription_id)
    catalogue.exhaust_retries(old.stripe_subscription_id, outcome="cancel")

    page.goto("/accounts/login/")
    page.fill("input[name=login]", buyer.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard/")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for url, name in (("/dashboard/", "dashboard"), ("/billing/", "billing")):
            page.goto(url)
            ended = page.locator("[data-ended]")
            expect(ended).to_contain_text("ended on")
            expect(ended).to_contain_text("after the payment failed")
            expect(ended.get_by_role("link", name="Resubscribe")).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            page.screenshot(path=page.screenshots / f"ended-{name}-{width}.png", full_page=True)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/dashboard/")
    page.locator("[data-ended]").get_by_role("link", name="Resubscribe").click()
    page.wait_for_url("**/pricing/")
    page.click("text=Yearly")  # the monthly Checkout of a minute ago would be reused
    page.click("[data-plan=team] >> text=Resubscribe")
    page.click("text=Continue to payment")
    page.wait_for_url("**/checkout/**")
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url("**/billing/success/**")
    assert page.inner_text("[data-key]").strip() == owner_key
    page.screenshot(path=page.screenshots / "resubscribed-success.png", full_page=True)

    for key in (owner_key, member_key):
        answer = requests.post(
            f"{live_server.url}/api/v1/licenses/validate", json={"key": key}, timeout=10
        ).json()
        assert (answer["valid"], answer["code"]) == (True, "VALID")

    page.click("nav >> text=Team")
    page.wait_for_url("**/team/")
    new = License.objects.exclude(pk=old.pk).get(owner=buyer)
    expect(page.locator("h1")).to_have_text(new.team.name)
    expect(page.locator("[data-member='mila@example.com']")).to_be_visible()
    expect(page.locator(".message-warning")).to_have_count(0)
    page.screenshot(path=page.screenshots / "resubscribed-team.png", full_page=True)

import re

import pytest
from django.core import mail

from accounts.models import User

pytestmark = pytest.mark.browser

PASSWORD = "violet-tractor-harbour-91"


def test_a_visitor_signs_up_verifies_and_logs_in(page, live_server):
    page.goto("/")
    page.click("text=Sign up")
    page.fill("input[name=email]", "grace@example.com")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", "a-different-password-1")
    page.click("button[type=submit]")
    assert page.locator(".field-errors").first.is_visible()
    page.screenshot(path=page.screenshots / "signup-error.png", full_page=True)

    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/confirm-email/")
    assert "Verify Your Email Address" in page.content()
    assert User.objects.filter(email="grace@example.com").exists()

    confirm_path = re.search(r"https?://[^/\s]+(/\S+)", mail.outbox[-1].body).group(1)
    page.goto(confirm_path)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard/")
    assert "You have no plan yet" in page.content()

    page.click("text=Log out")
    page.wait_for_url(live_server.url + "/")
    page.click("text=Log in")
    page.fill("input[name=login]", "grace@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard/")
    assert "grace@example.com" in page.inner_text("nav")
    page.screenshot(path=page.screenshots / "logged-in.png", full_page=True)


def test_the_pricing_page_reads_at_phone_width(page, live_server):
    from django.core.management import call_command

    from billing.models import Plan

    call_command("seed_plans")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/pricing/")
    assert page.locator("article.plan").count() == Plan.objects.public().count()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.click("text=Yearly")
    assert "/ year" in page.inner_text(".plans")
    page.screenshot(path=page.screenshots / "pricing-phone.png", full_page=True)

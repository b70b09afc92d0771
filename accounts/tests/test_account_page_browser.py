"""The account page in Chromium at 1280 and 390 px: name, email change, password."""

import re

import pytest
from django.core import mail

from accounts.models import User
from accounts.tests.browser_login import log_in_in_browser
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_a_customer_names_themselves_and_changes_their_email(page, live_server):
    user = UserFactory(email="ada@example.com", name="")
    log_in_in_browser(page, user)
    page.click("nav >> text=ada@example.com")  # the nav shows the address until a name is given
    page.wait_for_url("**/account/")
    assert page.inner_text("#two-factor-status").startswith("Off.")

    page.fill("input[name=name]", "ada@lovelace")
    page.click("#name button[type=submit]")
    assert "cannot contain “@”" in page.inner_text("#id_name_errors")
    page.screenshot(path=page.screenshots / "account-name-error-1280.png", full_page=True)
    page.fill("input[name=name]", "Ada Lovelace")
    page.click("#name button[type=submit]")
    page.wait_for_selector("text=Your name is saved.")
    assert "Ada Lovelace" in page.inner_text("nav")
    page.screenshot(path=page.screenshots / "account-1280.png", full_page=True)

    page.click("text=Change email")
    page.fill("input[name=email]", "ada@analytical.example")
    page.click("button[name=action_add]")
    # allauth asks for the password once more before the address can move.
    page.wait_for_url("**/reauthenticate/**")
    page.screenshot(path=page.screenshots / "account-reauthenticate-1280.png", full_page=True)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("#pending-email")
    assert "ada@analytical.example" in page.inner_text("#pending-email")
    page.screenshot(path=page.screenshots / "account-email-pending-1280.png", full_page=True)

    page.set_viewport_size(PHONE)
    page.goto("/account/")
    assert "Changing to ada@analytical.example" in page.inner_text("#pending-email")
    assert fits(page)
    page.screenshot(path=page.screenshots / "account-390.png", full_page=True)
    page.goto("/accounts/email/")
    assert fits(page)
    page.screenshot(path=page.screenshots / "account-email-390.png", full_page=True)

    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", mail.outbox[-1].body).group(1)
    page.goto(link)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert User.objects.get(pk=user.pk).email == "ada@analytical.example"
    page.goto("/account/")
    assert "ada@analytical.example" in page.inner_text("#email")
    assert page.locator("#pending-email").count() == 0


def test_a_customer_changes_their_password(page, live_server):
    user = UserFactory()
    log_in_in_browser(page, user)
    page.goto("/account/")
    page.click("text=Change password")
    page.fill("input[name=oldpassword]", "not-my-password")
    page.fill("input[name=password1]", "quiet-harbour-lamp-58")
    page.fill("input[name=password2]", "quiet-harbour-lamp-58")
    page.click("main button[type=submit]")
    assert page.locator("#id_oldpassword_errors").is_visible()
    page.screenshot(path=page.screenshots / "password-change-error-1280.png", full_page=True)
    page.fill("input[name=oldpassword]", DEFAULT_PASSWORD)
    page.fill("input[name=password1]", "quiet-harbour-lamp-58")
    page.fill("input[name=password2]", "quiet-harbour-lamp-58")
    page.click("main button[type=submit]")
    page.wait_for_selector(".message-success")
    user.refresh_from_db()
    assert user.check_password("quiet-harbour-lamp-58")
    page.set_viewport_size(PHONE)
    page.goto("/accounts/password/change/")
    assert fits(page)
    page.screenshot(path=page.screenshots / "password-change-390.png", full_page=True)

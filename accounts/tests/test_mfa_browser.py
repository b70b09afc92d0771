"""Two-factor authentication in Chromium at 1280 and 390 px: a customer turns it on and logs in
with it; a new staff member is led from the admin to set it up, then the admin opens."""

import pytest

from accounts.tests.browser_login import log_in_in_browser
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory, totp_code
from qualitybytes.admin_site import ENROL_MESSAGE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def tolerant_codes(settings):
    # A code typed just after the 30-second boundary still works, as with a person's phone.
    settings.MFA_TOTP_TOLERANCE = 1


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def confirm_password(page) -> None:
    page.wait_for_url("**/reauthenticate/**")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/2fa/totp/activate/")


def test_a_customer_turns_on_two_factor_and_logs_in_with_it(page, live_server):
    user = UserFactory(email="grace@example.com")
    log_in_in_browser(page, user)
    page.goto("/account/")
    page.click("#two-factor >> text=Set it up")
    confirm_password(page)
    assert page.locator("#totp-qr").is_visible()
    page.screenshot(path=page.screenshots / "totp-setup-1280.png", full_page=True)
    page.set_viewport_size(PHONE)
    assert fits(page)
    page.screenshot(path=page.screenshots / "totp-setup-390.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    secret = page.inner_text("#totp-secret").strip()
    right = totp_code(secret)
    page.fill("input[name=code]", "000000" if right != "000000" else "999999")
    page.click("main button[type=submit]")
    assert page.locator("#id_code_errors").is_visible()
    page.screenshot(path=page.screenshots / "totp-setup-error-1280.png", full_page=True)
    page.fill("input[name=code]", totp_code(secret))
    page.click("main button[type=submit]")
    page.wait_for_url("**/2fa/recovery-codes/")
    codes = page.inner_text("#recovery-codes").split()
    assert len(codes) == 10
    page.screenshot(path=page.screenshots / "recovery-codes-1280.png", full_page=True)

    page.goto("/account/")
    assert "On: logging in asks for a code" in page.inner_text("#two-factor-status")
    page.screenshot(path=page.screenshots / "account-2fa-on-1280.png", full_page=True)
    page.goto("/accounts/2fa/")
    page.screenshot(path=page.screenshots / "mfa-index-1280.png", full_page=True)

    # Log out, log in: the password is not enough any more; a recovery code works once.
    page.click("text=Log out")
    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/2fa/authenticate/")
    page.set_viewport_size(PHONE)
    assert fits(page)
    page.screenshot(path=page.screenshots / "mfa-authenticate-390.png", full_page=True)
    page.fill("input[name=code]", codes[0])
    page.click("main button[type=submit]")
    page.wait_for_url("**/dashboard/")


def test_a_new_staff_member_is_led_from_the_admin_to_set_up_two_factor(page, live_server):
    staff = UserFactory(email="ops@qualitybytes.test", is_staff=True, is_superuser=True, totp=False)
    page.goto("/admin/")
    page.wait_for_url("**/accounts/login/?next=/admin/")
    log_in_in_browser(page, staff)
    # Sent on to set up an authenticator app, which first asks for the password once more.
    page.wait_for_url("**/reauthenticate/**")
    assert ENROL_MESSAGE in page.inner_text(".messages")
    page.screenshot(path=page.screenshots / "staff-reauthenticate-1280.png", full_page=True)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/2fa/totp/activate/")
    assert "The operator panel needs two-factor authentication" in page.inner_text("#staff-needs-2fa")
    page.screenshot(path=page.screenshots / "staff-enrol-1280.png", full_page=True)
    page.set_viewport_size(PHONE)
    assert fits(page)
    page.screenshot(path=page.screenshots / "staff-enrol-390.png", full_page=True)

    page.fill("input[name=code]", totp_code(page.inner_text("#totp-secret").strip()))
    page.click("main button[type=submit]")
    page.wait_for_url("**/2fa/recovery-codes/")
    page.screenshot(path=page.screenshots / "staff-recovery-codes-390.png", full_page=True)
    page.click("text=Continue to the operator panel")
    page.wait_for_selector("#content")
    assert "operator panel" in page.content()

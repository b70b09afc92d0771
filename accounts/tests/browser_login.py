"""Logging in from a browser test as a person does: the site's login, then the authenticator
code when the account has two-factor authentication (every staff member does)."""

from accounts.tests.factories import DEFAULT_PASSWORD, totp_code


def log_in_in_browser(page, user, *, path: str | None = None) -> None:
    """Log `user` in on the page; with `path`, open it first (a page that asks for the login)."""
    if path:
        page.goto(path)
    if "/accounts/login/" not in page.url:
        page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    if "/accounts/2fa/authenticate/" in page.url:
        page.fill("input[name=code]", totp_code(user.totp_secret))
        page.click("main button[type=submit]")
        page.wait_for_load_state()

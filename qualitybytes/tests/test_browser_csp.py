"""Every kind of page under the Content-Security-Policy in Chromium: no console errors, no violations.

The `page` fixture fails the test on any console error (a CSP violation is one) or 4xx/5xx
response; each page also records `securitypolicyviolation` events, which name the directive.
"""

import shutil
from pathlib import Path

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from licensing.tests.factories import LicenseFactory, LicenseKeyFactory

pytestmark = pytest.mark.browser

WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation",
    (e) => window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI));
"""


def log_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def visit(page, path: str, *, wait_for: str = "main, #swagger-ui, #content") -> None:
    response = page.goto(path)
    assert response.status == 200, f"{path}: {response.status}"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(wait_for)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__cspViolations") == [], path
    name = path.strip("/").replace("/", "-") or "home"
    page.screenshot(path=page.screenshots / f"{name}.png", full_page=True)


def keep_screenshots(page) -> None:
    """CSP_SCREENSHOTS=<dir> keeps the screenshots for a human to look at."""
    import os

    target = os.environ.get("CSP_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for shot in Path(page.screenshots).glob("*.png"):
            shutil.copy(shot, target)


def test_public_pages_pass_the_policy(page, live_server, plan):
    page.add_init_script(WATCH_VIOLATIONS)
    for path in ("/", "/pricing/", "/accounts/login/", "/accounts/signup/"):
        visit(page, path)
    keep_screenshots(page)


def test_customer_pages_pass_the_policy(page, live_server, user, plan):
    LicenseKeyFactory(license=LicenseFactory(owner=user, plan=plan), holder=user)
    log_in(page, live_server, user)
    page.add_init_script(WATCH_VIOLATIONS)
    visit(page, "/dashboard/")
    # The dashboard's script reveals and copies keys: it must still run.
    page.click(".js-reveal")
    page.wait_for_function("!document.querySelector('.key-value').textContent.includes('•')")
    visit(page, "/account/tokens/")
    keep_screenshots(page)


def test_api_docs_and_admin_pass_the_policy(page, live_server, db):
    admin = UserFactory(is_staff=True, is_superuser=True)
    log_in(page, live_server, admin)
    page.add_init_script(WATCH_VIOLATIONS)
    visit(page, "/api/docs/", wait_for=".swagger-ui .opblock")
    assert page.locator(".opblock").count() > 5
    visit(page, "/admin/", wait_for="#content")
    visit(page, "/admin/licensing/license/", wait_for="#changelist")
    keep_screenshots(page)

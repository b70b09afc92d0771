"""Fixtures shared by every app's tests. App-specific factories live in <app>/tests/factories.py."""

import pytest

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from billing.tests.factories import PlanFactory

pytest_plugins = ["stripe_simulator.fixtures"]


@pytest.fixture(scope="session", autouse=True)
def _no_validation_counters_left_at_exit(django_db_setup):
    """The validation recorder writes its buffer at process exit, when the test database is gone
    and the settings name a database that does not exist: drop what the last tests buffered."""
    yield
    from licensing.recording import recorder

    recorder.clear()


@pytest.fixture
def password():
    return DEFAULT_PASSWORD


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def plan(db):
    return PlanFactory(slug="solo", name="Solo", seats=1, devices_per_seat=2, entitlements=["core"])


@pytest.fixture
def team_plan(db):
    return PlanFactory(
        slug="team",
        name="Team",
        access_level="team",
        seats=5,
        devices_per_seat=3,
        entitlements=["core", "collaboration", "priority_support"],
        monthly_amount=4900,
        yearly_amount=49000,
    )


# Browser tests: real Chromium (Debian package) driven by Playwright, a fresh profile per test.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def page(tmp_path, live_server, monkeypatch):
    """A Chromium page on a fresh profile; console errors fail the test at teardown."""
    import os

    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs the Debian chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls here are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    errors: list[str] = []
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
            base_url=live_server.url,
        )
        context.set_default_timeout(15_000)
        browser_page = context.new_page()
        browser_page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        browser_page.on("pageerror", lambda exc: errors.append(str(exc)))
        browser_page.on(
            "response",
            lambda response: (
                errors.append(f"{response.status} {response.url}") if response.status >= 400 else None
            ),
        )
        browser_page.screenshots = tmp_path
        yield browser_page
        context.close()
        # ORM calls made while Playwright's event loop runs use a connection of their own;
        # close it here, or the test database cannot be dropped at the end of the run.
        from django.db import connections

        connections.close_all()
    assert errors == [], f"browser console errors: {errors}"


@pytest.fixture
def admin_user(db, django_user_model):
    """pytest-django's superuser, with the authenticator app the admin requires (admin_client uses it)."""
    from accounts.tests.factories import enrol_totp

    user = django_user_model._default_manager.create_superuser(email="admin@example.com", password="password")
    user.totp_secret = enrol_totp(user)
    return user

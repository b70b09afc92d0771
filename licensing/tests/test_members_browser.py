"""In Chromium, at desktop and phone width: a member removed from a team, and an owner whose key
staff revoked, read on their dashboard what happened and what to do.

MEMBERS_SCREENSHOTS=<dir> keeps the screenshots for a human to look at.
"""

import os
import shutil
from pathlib import Path

import pytest

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from licensing import services
from licensing.models import KeyEndReason, LicenseKey
from teams.tests.factories import MembershipFactory, TeamFactory

pytestmark = pytest.mark.browser


def _log_in(page, email, next_path):
    page.goto(f"/accounts/login/?next={next_path}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"**{next_path}")


def _log_out(page):
    if page.is_visible(".nav-burger"):
        page.click(".nav-burger")
    page.click("text=Log out")
    page.wait_for_load_state()


def _at_both_widths(page, name: str) -> None:
    """A full-page screenshot at 1280 px and at 390 px, where nothing may scroll sideways."""
    page.screenshot(path=page.screenshots / f"{name}-1280.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=page.screenshots / f"{name}-390.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def keep_screenshots(page):
    yield
    target = os.environ.get("MEMBERS_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for shot in Path(page.screenshots).glob("*.png"):
            shutil.copy(shot, target)


def test_a_member_the_owner_removes_reads_when_on_their_dashboard_and_can_buy(
    page, live_server, keep_screenshots
):
    page.on("dialog", lambda dialog: dialog.accept())
    team = TeamFactory(name="Northwind Design")
    member = MembershipFactory(team=team, user=UserFactory(email="mila@example.com", name="Mila Novak"))

    _log_in(page, team.license.owner.email, "/team/")
    page.click("tr[data-member='mila@example.com'] button:has-text('Remove')")
    page.wait_for_selector(".message-success")
    _log_out(page)

    _log_in(page, member.user.email, "/dashboard/")
    plan = page.inner_text("#subscription")
    assert "You were removed from Northwind Design by its owner on" in plan
    assert "provided by" not in plan and "Active" not in plan
    assert page.inner_text("#keys").count("You were removed from") == 1
    assert page.is_visible("#keys a:has-text('Contact support')")
    _at_both_widths(page, "dashboard-removed-member")

    page.click("#subscription a:has-text('See plans')")
    page.wait_for_url("**/pricing/")


def test_an_owner_whose_key_staff_revoked_is_told_so_and_where_to_ask(page, live_server, keep_screenshots):
    team = TeamFactory(name="Northwind Design")
    owner = team.license.owner
    key = LicenseKey.objects.get(holder=owner)
    services.license_key_revoke(key=key, reason="Shared publicly", cause=KeyEndReason.STAFF)

    _log_in(page, owner.email, "/dashboard/")
    keys = page.inner_text("#keys")
    assert "This key does not work: revoked by QualityBytes staff" in keys
    assert page.is_visible("#keys a:has-text('Contact support')")
    _at_both_widths(page, "dashboard-owner-key-revoked")

    page.goto("/team/")
    my_key = page.inner_text(".my-key")
    assert "revoked by QualityBytes staff" in my_key
    assert "Ask the team's owner" not in my_key
    _at_both_widths(page, "team-owner-key-revoked")

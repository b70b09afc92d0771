"""Browser tests (real Chromium) for the account pages of issue 12 item 7's second half: the
sessions page, deleting an account (refused, then confirmed) and the invitation-prefilled sign-up,
at 1280 px and 390 px, with screenshots."""

import shutil
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from licensing.tests.factories import LicenseFactory
from teams.tests.factories import InvitationFactory, MembershipFactory, TeamFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
WIDTHS = [("1280", {"width": 1280, "height": 900}), ("390", PHONE)]
SHOTS = Path("/tmp/h/d2shots")


def shot(page, name):
    path = page.screenshots / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    if SHOTS.is_dir():
        shutil.copy(path, SHOTS / path.name)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name


def log_in(page, email):
    page.goto(reverse("account_login"))
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def test_sessions_page_and_log_out_everywhere(page):
    user = UserFactory(email="ada@example.com")
    log_in(page, user.email)
    for width, viewport in WIDTHS:
        page.set_viewport_size(viewport)
        page.goto(reverse("usersessions_list"))
        assert page.locator("#sessions").is_visible()
        assert page.locator("text=This session").is_visible()
        shot(page, f"sessions-{width}")
    page.click("text=Log out everywhere")
    page.wait_for_url("**/accounts/login/")
    assert "logged out everywhere" in page.content()
    shot(page, "sessions-logged-out-390")


def test_deletion_refused_while_a_subscription_bills(page):
    user = UserFactory()
    LicenseFactory(owner=user, stripe_subscription_id="sub_live", status="active")
    log_in(page, user.email)
    for width, viewport in WIDTHS:
        page.set_viewport_size(viewport)
        page.goto(reverse("account_delete"))
        assert "Cancel your subscription first" in page.locator("#deletion-refused").inner_text()
        shot(page, f"delete-refused-{width}")


def test_a_team_owner_deletes_their_account(page):
    owner = UserFactory(email="ada@example.com")
    team = TeamFactory(
        license__owner=owner,
        name="Engines",
        license__status="inactive",
        license__expires_at=timezone.now() - timezone.timedelta(days=2),
    )
    MembershipFactory(team=team, user=UserFactory(email="charles@example.com"))
    log_in(page, owner.email)
    page.goto(reverse("account_delete"))
    page.set_viewport_size(PHONE)
    shot(page, "delete-confirm-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert "charles@example.com" in page.locator("#team-members-notice").inner_text()
    page.fill("input[name=password]", "wrong-password")
    page.click("text=Delete my account")
    assert page.locator(".field-errors").inner_text() == "This is not your password."
    shot(page, "delete-confirm-error-1280")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("text=Delete my account")
    page.wait_for_url("**/account/deleted/")
    assert "Your account is deleted" in page.content()
    shot(page, "deleted-1280")
    owner.refresh_from_db()
    assert not owner.is_active


def test_sign_up_from_an_invitation_starts_with_the_invited_address(page):
    invitation = InvitationFactory(email="invitee@example.com")
    page.goto(reverse("teams:join", args=[invitation.token]))
    page.click("text=Sign up and join")
    assert page.input_value("input[name=email]") == "invitee@example.com"
    for width, viewport in WIDTHS:
        page.set_viewport_size(viewport)
        shot(page, f"signup-invited-{width}")

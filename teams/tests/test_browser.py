import re

import pytest
from django.core import mail

from accounts.tests.factories import DEFAULT_PASSWORD
from licensing.models import LicenseKeyStatus
from teams.models import Membership
from teams.tests.factories import MembershipFactory, TeamFactory

pytestmark = pytest.mark.browser

MEMBER_EMAIL = "mila@example.com"
MEMBER_PASSWORD = "amber-lantern-orchard-73"


def _link(body: str) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", body).group(1)


def _log_in(page, email, password, next_path):
    page.goto(f"/accounts/login/?next={next_path}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"**{next_path}")


def _log_out(page):
    if page.is_visible(".nav-burger"):
        page.click(".nav-burger")
    page.click("text=Log out")
    page.wait_for_load_state()


def test_an_owner_invites_a_member_who_signs_up_activates_a_device_and_is_removed(page, live_server):
    page.on("dialog", lambda dialog: dialog.accept())
    team = TeamFactory(name="Northwind Design")
    owner = team.license.owner
    MembershipFactory(team=team)

    # The owner invites by email.
    _log_in(page, owner.email, DEFAULT_PASSWORD, "/team/")
    assert "Northwind Design" in page.inner_text("h1")
    page.fill("#invite input[name=email]", MEMBER_EMAIL)
    page.click("#invite button[type=submit]")
    page.wait_for_selector(".message-success")
    assert MEMBER_EMAIL in page.inner_text("#invitations")
    page.screenshot(path=page.screenshots / "team-owner-invited.png", full_page=True)
    invitation_path = _link(mail.outbox[-1].body)
    assert invitation_path.startswith("/team/join/")
    _log_out(page)

    # The invitee signs up through the link, verifies their email and joins.
    page.goto(invitation_path)
    assert "Join Northwind Design" in page.inner_text("h1")
    page.screenshot(path=page.screenshots / "team-invitation.png", full_page=True)
    page.click("text=Sign up and join")
    page.fill("input[name=email]", MEMBER_EMAIL)
    page.fill("input[name=password1]", MEMBER_PASSWORD)
    page.fill("input[name=password2]", MEMBER_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/confirm-email/")
    page.goto(_link(mail.outbox[-1].body))
    page.click("main button[type=submit]")
    page.wait_for_url(f"**{invitation_path}")
    page.click("text=Accept and join")
    page.wait_for_url(f"**/team/{team.public_id}/")
    assert "Welcome to Northwind Design" in page.inner_text(".messages")

    # They see their own key, and nobody else's.
    # The key is not in the page: showing it fetches it.
    membership = Membership.objects.get(user__email=MEMBER_EMAIL)
    assert membership.key.reveal() not in page.content()
    page.click("text=Show key")
    page.wait_for_selector("[data-key][data-revealed]")
    key = page.inner_text("[data-key]").strip()
    assert key == membership.key.reveal()
    assert owner.email not in page.inner_text(".my-key")
    page.screenshot(path=page.screenshots / "team-member.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=page.screenshots / "team-member-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # The app activates a device with the key.
    response = page.request.post(
        "/api/v1/licenses/activate",
        data={"key": key, "fingerprint": "mila-laptop-7f3a", "name": "Mila's laptop", "platform": "macos"},
    )
    assert response.status == 201, response.text()
    assert page.request.post("/api/v1/licenses/validate", data={"key": key}).json()["code"] == "VALID"
    _log_out(page)

    # The owner removes the member; the key stops working at once.
    _log_in(page, owner.email, DEFAULT_PASSWORD, "/team/")
    row = page.locator(f"tr[data-member='{MEMBER_EMAIL}']")
    assert "1 / 3" in row.inner_text()
    page.screenshot(path=page.screenshots / "team-owner.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=page.screenshots / "team-owner-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()
    page.locator(f"tr[data-member='{MEMBER_EMAIL}'] button:has-text('Remove')").click()
    page.wait_for_selector(".message-success")
    assert MEMBER_EMAIL not in page.inner_text("main table")
    page.screenshot(path=page.screenshots / "team-owner-removed.png", full_page=True)

    membership.key.refresh_from_db()
    assert membership.key.status == LicenseKeyStatus.REVOKED
    result = page.request.post(
        "/api/v1/licenses/validate", data={"key": key, "fingerprint": "mila-laptop-7f3a"}
    )
    assert result.status == 200
    assert result.json()["valid"] is False
    assert result.json()["code"] == "REVOKED"


def test_a_colleague_joins_with_the_invite_code_at_phone_width(page, live_server):
    from accounts.tests.factories import UserFactory

    team = TeamFactory(name="Harbour Labs")
    owner = team.license.owner
    colleague = UserFactory(email="noor@example.com")
    page.set_viewport_size({"width": 390, "height": 844})

    _log_in(page, owner.email, DEFAULT_PASSWORD, "/team/")
    page.click("text=Create an invite code")
    code = page.inner_text("[data-invite-code]").strip()
    assert code.startswith("TEAM-")
    page.screenshot(path=page.screenshots / "team-code-created.png", full_page=True)
    page.goto("/team/")
    assert code not in page.content()
    _log_out(page)

    _log_in(page, colleague.email, DEFAULT_PASSWORD, "/team/")
    assert "You are not in a team yet" in page.inner_text("main")
    page.screenshot(path=page.screenshots / "team-none.png", full_page=True)
    page.click("main >> text=Join with an invite code")
    page.fill("input[name=code]", "TEAM-0000-0000-0000-0000")
    page.click("main button[type=submit]")
    assert "not valid" in page.inner_text(".field-errors")
    page.screenshot(path=page.screenshots / "team-code-error.png", full_page=True)
    page.fill("input[name=code]", code.lower())
    page.click("main button[type=submit]")
    page.wait_for_url(f"**/team/{team.public_id}/")
    assert "Welcome to Harbour Labs" in page.inner_text(".messages")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert Membership.objects.filter(team=team, user=colleague).exists()

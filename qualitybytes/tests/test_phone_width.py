"""Every page at 390 px: no sideways scroll, and every action in the main content on screen.

A customer with a team plan (members, devices, invoices, an API token), a team member, an
invitee and staff visit every page of the URL conf that a person opens in a browser."""

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory, totp_code
from billing.tests.lifecycle import start_checkout
from licensing.models import License
from licensing.tests.factories import DeviceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}

# What a person at 390 px cannot do: scroll the page sideways, or reach an action that sits
# beyond the screen's edge or is clipped inside a box that scrolls on its own.
PROBLEMS_JS = """() => {
  const width = window.innerWidth;
  const problems = [];
  if (document.documentElement.scrollWidth > width) {
    problems.push(`the page is ${document.documentElement.scrollWidth}px wide`);
  }
  const main = document.querySelector('main') || document.querySelector('#content') || document.body;
  const actions = main.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea');
  for (const el of actions) {
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    if (el.closest('details:not([open])')) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    const name = (el.innerText || el.value || el.name || el.getAttribute('aria-label') || el.tagName)
      .trim().replace(/\\s+/g, ' ').slice(0, 40);
    // A wide table may scroll inside its own box (the admin's change lists do), but a button
    // (an action such as "Remove device" or "Revoke") must be in view without scrolling.
    const isButton = el.matches('button, input[type=submit], .button');
    let scroller = null;
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(up).overflowX)) { scroller = up; break; }
    }
    if (scroller) {
      const clip = scroller.getBoundingClientRect();
      const inside = box.left >= clip.left - 1 && box.right <= clip.right + 1;
      if (!inside && (isButton || clip.right > width + 1)) {
        problems.push(`"${name}" is hidden in a box that scrolls sideways`);
      }
    } else if (box.left < -1 || box.right > width + 1) {
      problems.push(`"${name}" is off screen (${Math.round(box.left)}..${Math.round(box.right)}px)`);
    }
  }
  return problems;
}"""


def log_in(page, email, totp_secret=None):
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    if totp_secret:  # staff: the authenticator code (accounts/tests/test_mfa_admin.py)
        page.fill("input[name=code]", totp_code(totp_secret))
        page.click("main button[type=submit]")
        page.wait_for_load_state()


def visit_all(page, who: str, paths: list[str]) -> dict[str, list[str]]:
    found = {}
    for path in paths:
        response = page.goto(path)
        assert response.status == 200, f"{who} {path}: {response.status}"
        slug = path.strip("/").replace("/", "_").replace("?", "_").replace("=", "_")[:60] or "home"
        page.screenshot(path=page.screenshots / f"{who}-{slug}-390.png", full_page=True)
        problems = page.evaluate(PROBLEMS_JS)
        if problems:
            found[f"{who} {path}"] = problems
    return found


@pytest.fixture
def catalogue(stripe_simulator):
    call_command("seed_plans")
    call_command("sync_plans")
    return stripe_simulator


def test_every_page_fits_a_phone_and_keeps_its_actions_reachable(page, live_server, catalogue, settings):
    from teams.models import Team
    from teams.tests.factories import InvitationFactory, MembershipFactory

    settings.SITE_URL = live_server.url
    owner = UserFactory(email="a.customer.with.a.rather.long.address@example-company.test")
    session_id = start_checkout(Client(), owner, plan="team", interval="month")
    catalogue.complete_checkout(session_id)
    catalogue.flush()
    license_ = License.objects.get(owner=owner)
    team = Team.objects.get(license=license_)
    owner_key = license_.keys.get(holder=owner)
    for n in range(3):
        DeviceFactory(
            key=owner_key, name=f"Workstation-{n} in the second-floor lab", app_version="4.12.0-beta.3"
        )
    members = [MembershipFactory(team=team, user=UserFactory()) for _ in range(2)]
    member = members[0].user
    DeviceFactory(key=members[0].key, name="Member's laptop")
    invitation = InvitationFactory(team=team, email="someone.invited.with.a.long.name@example-company.test")
    staff = UserFactory(email="staff@qualitybytes.test", is_staff=True, is_superuser=True)

    page.set_viewport_size(PHONE)
    problems = visit_all(
        page,
        "visitor",
        [
            "/",
            reverse("pricing"),
            reverse("account_login"),
            reverse("account_signup"),
            reverse("account_reset_password"),
            reverse("teams:join", args=[invitation.token]),
        ],
    )

    log_in(page, owner.email)
    page.goto(reverse("api_tokens"))
    page.fill("input[name=name]", "Nightly build server on the CI cluster")
    page.click("main button:has-text('Create token')")
    page.wait_for_selector("#new-token")
    problems |= visit_all(
        page,
        "owner",
        [
            reverse("dashboard"),
            reverse("teams:detail"),
            reverse("billing:manage"),
            reverse("billing:change_plan"),
            f"{reverse('billing:change_preview')}?plan=enterprise&interval=year",
            f"{reverse('billing:success')}?session_id={session_id}",
            reverse("pricing"),
            reverse("billing:cancel_subscription"),
            reverse("account_change_password"),
            reverse("teams:join_code"),
            reverse("account"),
            reverse("account_email"),
            reverse("mfa_index"),
            reverse("mfa_activate_totp"),  # asks for the password again first: that page
            reverse("usersessions_list"),
            reverse("account_delete"),
        ],
    )
    page.goto(reverse("api_tokens"))
    page.fill("input[name=name]", "Laptop")
    page.click("main button:has-text('Create token')")
    page.wait_for_selector("#new-token")
    page.screenshot(path=page.screenshots / "owner-api-tokens-390.png", full_page=True)
    if new := page.evaluate(PROBLEMS_JS):
        problems["owner /account/tokens/ (new token shown)"] = new

    log_in(page, member.email)
    problems |= visit_all(
        page,
        "member",
        [reverse("dashboard"), reverse("teams:detail"), reverse("billing:manage"), reverse("account_delete")],
    )

    log_in(page, staff.email, staff.totp_secret)
    admin_pages = [reverse("admin:index")]
    for model in (
        "licensing_license",
        "licensing_licensekey",
        "licensing_device",
        "teams_team",
        "teams_membership",
        "teams_invitation",
        "accounts_user",
        "billing_plan",
    ):
        admin_pages.append(reverse(f"admin:{model}_changelist"))
    admin_pages += [
        reverse("admin:licensing_license_change", args=[license_.pk]),
        reverse("admin:teams_team_change", args=[team.pk]),
        reverse("admin:accounts_user_change", args=[owner.pk]),
        reverse("admin:billing_plan_change", args=[license_.plan_id]),
    ]
    admin_problems = visit_all(page, "staff", admin_pages)

    problems |= admin_problems
    assert problems == {}, "\n".join(f"{where}: {'; '.join(why)}" for where, why in problems.items())

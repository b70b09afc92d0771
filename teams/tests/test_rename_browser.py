"""Renaming a team in Chromium: a bad name is shown beside the field and changes nothing; a good
one renames the team, at 1280 px and at 390 px."""

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD
from teams.models import Team
from teams.tests.factories import TeamFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_owner_renames_the_team_and_a_bad_name_is_shown_beside_the_field(page, live_server):
    team = TeamFactory(name="Northwind Design")
    page.goto("/accounts/login/?next=/team/")
    page.fill("input[name=login]", team.license.owner.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/team/")

    for width, name in ((390, "Northwind Studio"), (1280, "Northwind Design & Build")):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/team/")
        page.fill("#name input[name=name]", "   ")
        page.click("#name button[type=submit]")
        expect(page.locator("#name .field-errors")).to_have_text("Enter a name for the team.")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=page.screenshots / f"team-rename-error-{width}.png", full_page=True)
        assert Team.objects.get(pk=team.pk).name != ""

        page.fill("#name input[name=name]", f"  {name} ")
        page.click("#name button[type=submit]")
        expect(page.locator(".message-success")).to_contain_text(f"The team is now called {name}.")
        expect(page.locator("h1")).to_have_text(name)
        expect(page.locator("#name input[name=name]")).to_have_value(name)
        page.screenshot(path=page.screenshots / f"team-renamed-{width}.png", full_page=True)
        assert Team.objects.get(pk=team.pk).name == name

"""A team can be renamed by its owner or an admin, from the team page and through the team API,
with the same validation: stripped, not empty, at most 100 characters; bad input changes nothing."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from teams.models import Team
from teams.services import TeamError, TeamPermissionDenied, team_rename

pytestmark = pytest.mark.django_db

BAD_NAMES = [
    ("", "Enter a name for the team."),
    ("   \t ", "Enter a name for the team."),
    ("x" * 101, "Keep the name to 100 characters or fewer (it has 101)."),
    ("Evil\u202eteam", "The name contains characters that cannot be shown."),
]


def test_the_owner_and_an_admin_rename_the_team_with_spaces_stripped(team, owner, admin_ship):
    assert team_rename(team=team, name="  Design   crew ", by=owner).name == "Design crew"
    assert team_rename(team=team, name="x" * 100, by=admin_ship.user).name == "x" * 100
    team.refresh_from_db()
    assert team.name == "x" * 100


def test_a_member_cannot_rename(team, member):
    with pytest.raises(TeamPermissionDenied):
        team_rename(team=team, name="Mine now", by=member)
    assert Team.objects.get(pk=team.pk).name == team.name


@pytest.mark.parametrize("name, error", BAD_NAMES)
def test_a_bad_name_is_refused_and_changes_nothing(team, owner, name, error):
    with pytest.raises(TeamError) as refused:
        team_rename(team=team, name=name, by=owner)
    assert (str(refused.value), refused.value.code) == (error, "INVALID_NAME")
    assert Team.objects.get(pk=team.pk).name == team.name


def test_the_page_renames_and_says_so(client, team, owner):
    client.force_login(owner)
    response = client.post(reverse("teams:rename", args=[team.public_id]), {"name": " Design crew "})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "The team is now called Design crew." in page and "<h1>Design crew</h1>" in page


@pytest.mark.parametrize("name, error", BAD_NAMES)
def test_the_page_shows_a_bad_name_beside_the_field_and_changes_nothing(client, team, owner, name, error):
    client.force_login(owner)
    response = client.post(reverse("teams:rename", args=[team.public_id]), {"name": name})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_name_errors"' in page and escape(error) in page
    assert Team.objects.get(pk=team.pk).name == team.name


def test_the_page_refuses_a_member_and_an_outsider_and_needs_a_post(client, team, member, outsider):
    url = reverse("teams:rename", args=[team.public_id])
    client.force_login(member)
    assert client.post(url, {"name": "Mine now"}).status_code == 403
    client.force_login(outsider)
    assert client.post(url, {"name": "Mine now"}).status_code == 404
    client.force_login(team.license.owner)
    assert client.get(url).status_code == 405
    assert Team.objects.get(pk=team.pk).name == team.name


def test_the_page_checks_csrf(team, owner):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(reverse("teams:rename", args=[team.public_id]), {"name": "Forged"})
    assert response.status_code == 403
    assert Team.objects.get(pk=team.pk).name == team.name


def test_the_api_renames_the_team(api_for, team, admin_ship):
    response = api_for(admin_ship.user).patch(
        "/api/v1/team", {"name": "  Design crew", "team": str(team.public_id)}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Design crew"
    assert Team.objects.get(pk=team.pk).name == "Design crew"


@pytest.mark.parametrize("name, error", BAD_NAMES)
def test_the_api_refuses_a_bad_name_with_a_field_error(api_for, team, owner, name, error):
    response = api_for(owner).patch("/api/v1/team", {"name": name}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "INVALID_REQUEST"
    assert error in str(body["errors"]["name"])
    assert Team.objects.get(pk=team.pk).name == team.name


def test_the_api_refuses_a_member_and_another_accounts_team(api_for, team, member, outsider):
    response = api_for(member).patch("/api/v1/team", {"name": "Mine now"}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "PERMISSION_DENIED")
    other = api_for(outsider).patch(
        "/api/v1/team", {"name": "Mine now", "team": str(team.public_id)}, format="json"
    )
    assert other.status_code == 404
    assert Team.objects.get(pk=team.pk).name == team.name

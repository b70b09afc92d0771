"""The team page never carries a member's key in its HTML: the key is fetched on demand from the
reveal endpoint (as on the dashboard), which answers `Cache-Control: no-store`. A new invite
code made through the API is not stored either."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_the_team_page_links_to_the_members_key_without_showing_it(team, member_ship):
    client = Client()
    client.force_login(member_ship.user)
    page = client.get(reverse("teams:detail")).content.decode()
    assert member_ship.key.reveal() not in page
    assert member_ship.key.masked in page
    assert f'data-reveal-url="{reverse("me-key-reveal", args=[member_ship.key.public_id])}"' in page


def test_the_owner_page_does_not_carry_the_owners_key_either(team, owner):
    client = Client()
    client.force_login(owner)
    page = client.get(reverse("teams:detail")).content.decode()
    own = team.memberships.get(user=owner).key
    assert own.reveal() not in page


def test_a_member_fetches_their_own_team_key_unstored(team, member_ship):
    client = Client()
    client.force_login(member_ship.user)
    response = client.post(reverse("me-key-reveal", args=[member_ship.key.public_id]))
    assert response.json() == {"key": member_ship.key.reveal()}
    assert "no-store" in response["Cache-Control"]


def test_a_member_cannot_fetch_another_members_key(team, member_ship, owner):
    client = Client()
    client.force_login(member_ship.user)
    owners_key = team.memberships.get(user=owner).key
    assert client.post(reverse("me-key-reveal", args=[owners_key.public_id])).status_code == 404


def test_a_new_invite_code_from_the_api_is_not_stored(team, owner):
    client = APIClient()
    client.force_login(owner)
    response = client.post(reverse("teams_api:code_regenerate"), {}, format="json")
    assert response.status_code == 201 and response.json()["code"]
    assert "no-store" in response.get("Cache-Control", "")

"""Issue 12's polish on the team side: seat wording in the right number, and the admin's Team page
costing the same queries for 1 member or 31."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from teams.selectors import Seats
from teams.tests.factories import InvitationFactory, MembershipFactory, TeamFactory

pytestmark = pytest.mark.django_db


def test_a_full_team_is_described_in_the_right_number():
    assert Seats(total=1, keys=1, pending=0).all_taken == "This team's only seat is taken"
    assert Seats(total=5, keys=4, pending=1).all_taken == "All 5 seats of this team are taken"


def test_the_seat_meter_says_seat_for_one(client):
    team = TeamFactory(license__seats=1)
    client.force_login(team.license.owner)
    page = re.sub(r"<[^>]+>|\s+", " ", client.get(reverse("teams:detail")).content.decode())
    assert "1 of 1 seat used" in re.sub(r"\s+", " ", page)


def _team_page_queries(admin_client, team) -> int:
    url = reverse("admin:teams_team_change", args=[team.pk])
    admin_client.get(url)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_admin_team_page_costs_the_same_for_1_or_31_members(admin_client):
    small = TeamFactory()
    InvitationFactory(team=small)
    big = TeamFactory()
    MembershipFactory.create_batch(30, team=big)
    InvitationFactory.create_batch(3, team=big)
    assert big.memberships.count() == 31 and small.memberships.count() == 1
    assert _team_page_queries(admin_client, big) == _team_page_queries(admin_client, small)

"""An invitation address that cannot be stored or sent is refused up front, on every route:
a field error, no invitation (so no seat held), no email queued, never a 500."""

import json

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from qualitybytes.models import OutboxEmail
from teams import selectors, services
from teams.models import Invitation

pytestmark = pytest.mark.django_db

UNSENDABLE = {
    # Valid to Django's EmailField (which allows 320) but longer than the column and RFC 5321.
    "over 254 characters": "a" * 60 + "@" + ".".join(["b" * 60] * 4) + ".com",
    # A domain label that is too long once IDNA-encoded ('ä' becomes punycode).
    "not IDNA-encodable": "user@" + "ä" * 62 + ".com",
    # A right-to-left override hides the real domain from the person reading it.
    "right-to-left override": "user@exa\u202emple.com",
}


def _nothing_stored():
    assert not Invitation.objects.exists()
    assert not OutboxEmail.objects.exists()


@pytest.mark.parametrize("address", UNSENDABLE.values(), ids=UNSENDABLE.keys())
def test_the_team_page_refuses_an_unsendable_address_beside_the_field(team, owner, address):
    client = Client()
    client.force_login(owner)
    response = client.post(reverse("teams:invite", args=[team.public_id]), {"email": address})
    assert response.status_code == 200
    form = response.context["invite_form"]
    assert form.errors.get("email"), form.errors
    assert 'class="field has-error' in response.content.decode()
    _nothing_stored()


@pytest.mark.parametrize("address", UNSENDABLE.values(), ids=UNSENDABLE.keys())
def test_the_team_api_refuses_an_unsendable_address_with_a_field_error(team, owner, address):
    client = APIClient()
    client.force_login(owner)
    response = client.post(reverse("teams_api:invitation_create"), {"email": address}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert "email" in body or "email" in json.dumps(body.get("errors", {})), body
    _nothing_stored()


@pytest.mark.parametrize("address", UNSENDABLE.values(), ids=UNSENDABLE.keys())
def test_the_service_refuses_an_unsendable_address_before_taking_a_seat(team, owner, address):
    with pytest.raises(services.TeamError) as excinfo:
        services.team_invite_member(team=team, email=address, by=owner)
    assert excinfo.value.code == "INVALID_EMAIL"
    _nothing_stored()
    assert selectors.seats_count(license=team.license).pending == 0


def test_an_ordinary_international_address_is_still_invited(team, owner):
    sent = services.team_invite_member(team=team, email="anna@exämple.com", by=owner)
    assert sent.invitation.email == "anna@exämple.com"

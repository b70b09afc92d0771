"""The sign-up form opened after a team invitation link starts with the invited address, taken
from the session (only the invitation's digest is kept there), never from a URL."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from teams.tests.factories import InvitationFactory

pytestmark = pytest.mark.django_db


def email_field_value(client) -> str:
    form = client.get(reverse("account_signup")).context["form"]
    return form["email"].value() or ""


def test_the_invited_address_is_prefilled_after_opening_the_link():
    invitation = InvitationFactory(email="invitee@example.com")
    client = Client()
    join = client.get(reverse("teams:join", args=[invitation.token]))
    assert join.status_code == 200
    page = client.get(reverse("account_signup")).content.decode()
    assert 'value="invitee@example.com"' in page
    assert invitation.token not in page.split("<form", 1)[1].split("</form>", 1)[0].replace(
        f"next=/team/join/{invitation.token}/", ""
    )


def test_without_an_invitation_the_form_is_empty():
    assert email_field_value(Client()) == ""


def test_a_revoked_invitation_prefills_nothing():
    invitation = InvitationFactory(email="invitee@example.com")
    client = Client()
    client.get(reverse("teams:join", args=[invitation.token]))
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    assert email_field_value(client) == ""


def test_what_the_visitor_types_wins():
    invitation = InvitationFactory(email="invitee@example.com")
    client = Client()
    client.get(reverse("teams:join", args=[invitation.token]))
    response = client.post(
        reverse("account_signup"), {"email": "not-an-email", "password1": "x", "password2": "x"}
    )
    assert response.status_code == 200
    assert response.context["form"]["email"].value() == "not-an-email"

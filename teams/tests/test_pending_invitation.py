"""An invitation link opened before logging in: the session remembers it without holding the
token, and a visitor who signs up and loses `next` on the way still joins from /team/."""

import re

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import DEFAULT_PASSWORD
from licensing.models import LicenseKeyStatus
from teams.models import Membership
from teams.tests.factories import InvitationFactory

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "violet-tractor-harbour-91"


def _stored_session(client) -> str:
    """Everything the session store holds for this client, as the database has it and decoded."""
    row = Session.objects.get(session_key=client.session.session_key)
    return row.session_data + repr(row.get_decoded())


def _link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", message.body)
    assert match, message.body
    return match.group(1)


def test_the_session_never_holds_the_invitation_token(team):
    invitation = InvitationFactory(team=team)
    client = Client()
    assert client.get(reverse("teams:join", args=[invitation.token])).status_code == 200
    stored = _stored_session(client)
    assert invitation.token not in stored
    assert invitation.token_digest in stored  # it remembers which invitation, not how to open it


def test_a_visitor_who_signs_up_and_loses_the_link_still_joins_from_the_team_page(
    team, django_capture_on_commit_callbacks
):
    invitation = InvitationFactory(team=team, email="invitee@example.com")
    client = Client()
    client.get(reverse("teams:join", args=[invitation.token]))
    # Sign up without `next`, as if the visitor had opened the sign-up page on its own.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("account_signup"),
            {"email": invitation.email, "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
        )
    confirm = _link(mail.outbox[-1])
    assert client.post(confirm).status_code == 302  # verified and logged in

    page = client.get(reverse("teams:detail")).content.decode()
    assert "You opened a team invitation before logging in" in page
    assert invitation.token not in page
    pending = reverse("teams:pending_invitation")
    assert f'href="{pending}"' in page
    assert "Accept and join" in client.get(pending).content.decode()
    response = client.post(pending)
    assert response.status_code == 302
    assert response["Location"] == reverse("teams:team", args=[team.public_id])
    assert Membership.objects.get(user__email=invitation.email).key.status == LicenseKeyStatus.ACTIVE
    assert "You opened a team invitation" not in client.get(reverse("teams:detail")).content.decode()


def test_logging_in_as_an_existing_user_from_the_remembered_invitation_joins(team, user):
    invitation = InvitationFactory(team=team, email=user.email)
    client = Client()
    client.get(reverse("teams:join", args=[invitation.token]))
    client.post(reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD})
    assert client.post(reverse("teams:pending_invitation")).status_code == 302
    assert Membership.objects.filter(team=team, user=user).exists()


def test_without_a_remembered_invitation_the_pending_page_goes_to_the_team_page(client, user):
    client.force_login(user)
    response = client.get(reverse("teams:pending_invitation"))
    assert response.status_code == 302 and response["Location"] == reverse("teams:detail")


def test_a_revoked_invitation_is_forgotten(team, owner):
    invitation = InvitationFactory(team=team)
    client = Client()
    client.get(reverse("teams:join", args=[invitation.token]))
    invitation.revoked_at = invitation.created_at
    invitation.save()
    page = client.get(reverse("teams:pending_invitation")).content.decode()
    assert "withdrawn" in page

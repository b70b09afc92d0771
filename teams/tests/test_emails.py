"""Each of the teams' emails, rendered: subject, text and HTML, with what the reader needs."""

import pytest
from django.core import mail

from accounts.tests.factories import UserFactory
from licensing.tests.factories import LicenseFactory
from teams import emails
from teams.tests.factories import InvitationFactory, TeamFactory, TeamPlanFactory

pytestmark = pytest.mark.django_db


def sent(django_capture_on_commit_callbacks, send):
    with django_capture_on_commit_callbacks(execute=True):
        send()
    [message] = mail.outbox
    [(html, kind)] = message.alternatives
    assert kind == "text/html"
    return message, html


def test_the_invitation_carries_its_link_the_team_and_the_inviter(django_capture_on_commit_callbacks):
    invitation = InvitationFactory(email="new@example.com")
    url = "https://licenses.example.com/team/join/secret-token/"
    message, html = sent(
        django_capture_on_commit_callbacks, lambda: emails.send_invitation(invitation=invitation, url=url)
    )
    assert message.to == ["new@example.com"]
    assert "invited" in message.subject.lower()
    assert url in message.body and url in html
    assert invitation.invited_by.email in message.body


def test_a_removed_member_is_told_by_whom(django_capture_on_commit_callbacks):
    team = TeamFactory()
    member, owner = UserFactory(email="gone@example.com"), team.license.owner
    message, html = sent(
        django_capture_on_commit_callbacks,
        lambda: emails.send_member_removed(user=member, team=team, by=owner),
    )
    assert message.to == ["gone@example.com"]
    assert message.subject and owner.email in message.body and owner.email in html


def test_the_owner_is_told_how_many_seats_are_over(django_capture_on_commit_callbacks):
    license_ = LicenseFactory(plan=TeamPlanFactory(seats=3))
    message, html = sent(
        django_capture_on_commit_callbacks,
        lambda: emails.send_seat_limit_exceeded(license=license_, excess=2),
    )
    assert message.to == [license_.owner.email]
    assert "seat" in message.subject.lower()
    assert "2" in message.body and "/team/" in html

import pytest
from django.core import mail

from accounts.tests.factories import UserFactory
from teams import services
from teams.tests.factories import InvitationFactory


def the_email_to(address):
    sent = [message for message in mail.outbox if message.to == [address]]
    assert len(sent) == 1, [message.subject for message in mail.outbox]
    return sent[0]


def test_a_member_who_accepts_an_invitation_gets_their_key_by_email(team, django_capture_on_commit_callbacks):
    invitation = InvitationFactory(team=team, email="ada@example.com")
    user = UserFactory(email="ada@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.invitation_accept(token=invitation.token, user=user)
    message = the_email_to("ada@example.com")
    key = membership.key.reveal()
    assert team.name in message.subject and team.license.plan.name in message.subject
    for body in (message.body, message.alternatives[0][0]):
        assert key in body
        assert team.name.replace("'", "&#x27;") in body or team.name in body
        assert "You have joined the team" in body
        assert "Thank you for subscribing" not in body
        assert "invite your team" not in body


def test_a_member_who_joins_with_the_code_gets_their_key_by_email(
    team, owner, django_capture_on_commit_callbacks
):
    code = services.team_code_regenerate(team=team, by=owner).code
    user = UserFactory(email="bob@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.team_join_by_code(code=code, user=user)
    message = the_email_to("bob@example.com")
    assert membership.key.reveal() in message.body
    assert "You have joined the team" in message.body


def test_no_key_email_goes_out_when_the_join_is_refused(team, owner, django_capture_on_commit_callbacks):
    user = UserFactory(email="eve@example.com")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(services.TeamError):
        services.team_join_by_code(code="TEAM-0000-0000-0000-0000", user=user)
    assert mail.outbox == []

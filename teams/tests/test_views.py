import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from licensing.models import LicenseKeyStatus
from licensing.tests.factories import DeviceFactory
from teams import services
from teams.models import Invitation, Membership, Role
from teams.tests.factories import InvitationFactory, MembershipFactory, TeamFactory
from teams.views import SESSION_INVITATION

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(team, owner, member_ship, outsider):
    """Our team (owner, a member, another member, a pending invitation) and an outsider's team."""
    return {
        "team": team,
        "owner": owner,
        "member": member_ship.user,
        "member_ship": member_ship,
        "other_ship": MembershipFactory(team=team),
        "invitation": InvitationFactory(team=team),
        "outsider": outsider,
    }


# (name, method, url builder, status for owner, for member, for outsider)
ENDPOINTS = [
    ("team", "get", lambda w: reverse("teams:team", args=[w["team"].public_id]), 200, 200, 404),
    ("invite", "post", lambda w: reverse("teams:invite", args=[w["team"].public_id]), 302, 403, 404),
    (
        "regenerate",
        "post",
        lambda w: reverse("teams:code_regenerate", args=[w["team"].public_id]),
        200,
        403,
        404,
    ),
    ("disable", "post", lambda w: reverse("teams:code_disable", args=[w["team"].public_id]), 302, 403, 404),
    (
        "remove",
        "post",
        lambda w: reverse("teams:member_remove", args=[w["other_ship"].public_id]),
        302,
        403,
        404,
    ),
    ("role", "post", lambda w: reverse("teams:member_role", args=[w["other_ship"].public_id]), 302, 403, 404),
    (
        "resend",
        "post",
        lambda w: reverse("teams:invitation_resend", args=[w["invitation"].public_id]),
        302,
        403,
        404,
    ),
    (
        "revoke",
        "post",
        lambda w: reverse("teams:invitation_revoke", args=[w["invitation"].public_id]),
        302,
        403,
        404,
    ),
]
FORM = {"email": "fresh@example.com", "role": "admin"}


def _state(world):
    """Everything an action could change, to prove a refused one changed nothing."""
    team = world["team"]
    team.refresh_from_db()
    return (
        sorted(Membership.objects.filter(team=team).values_list("user_id", "role")),
        sorted(Invitation.objects.filter(team=team).values_list("email", "token_digest", "revoked_at")),
        team.code_digest,
    )


@pytest.mark.parametrize(
    "name,method,url,as_owner,as_member,as_outsider", ENDPOINTS, ids=[e[0] for e in ENDPOINTS]
)
def test_every_team_page_lets_the_owner_in_limits_members_and_hides_from_outsiders(
    world, name, method, url, as_owner, as_member, as_outsider
):
    path = url(world)
    before = _state(world)
    response = getattr(_client(world["outsider"]), method)(path, FORM)
    assert response.status_code == as_outsider
    assert world["member"].email not in response.content.decode()
    response = getattr(_client(world["member"]), method)(path, FORM)
    assert response.status_code == as_member
    if method == "post":
        assert _state(world) == before
    response = getattr(_client(world["owner"]), method)(path, FORM)
    assert response.status_code == as_owner


@pytest.mark.parametrize(
    "name,method,url,as_owner,as_member,as_outsider", ENDPOINTS, ids=[e[0] for e in ENDPOINTS]
)
def test_every_team_page_sends_visitors_to_log_in(world, name, method, url, as_owner, as_member, as_outsider):
    response = getattr(Client(), method)(url(world))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_leaving_is_for_members_not_the_owner_nor_outsiders(world):
    path = reverse("teams:leave", args=[world["team"].public_id])
    assert _client(world["outsider"]).post(path).status_code == 404
    response = _client(world["owner"]).post(path, follow=True)
    assert "owner cannot leave" in response.content.decode()
    assert Membership.objects.filter(user=world["owner"], team=world["team"]).exists()
    key = world["member_ship"].key
    response = _client(world["member"]).post(path)
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.status == LicenseKeyStatus.REVOKED


def test_the_owner_sees_members_keys_devices_and_invitations(world):
    DeviceFactory(key=world["member_ship"].key)
    page = _client(world["owner"]).get(reverse("teams:detail")).content.decode()
    assert world["member"].email in page
    assert world["other_ship"].user.email in page
    assert world["member_ship"].key.masked in page
    assert world["member_ship"].key.reveal() not in page
    assert world["invitation"].email in page
    assert "4 of 5 seats used" in re.sub(r"<[^>]+>|\s+", " ", page).replace("  ", " ")
    assert "1 / 3" in page  # the member's devices


def test_a_member_sees_only_their_own_membership_and_key(world):
    page = _client(world["member"]).get(reverse("teams:detail")).content.decode()
    assert world["member_ship"].key.masked in page
    assert world["member_ship"].key.reveal() not in page  # fetched on demand, never rendered
    assert world["other_ship"].user.email not in page
    assert world["other_ship"].key.masked not in page
    assert world["invitation"].email not in page
    assert "Leave team" in page
    assert "Send invitation" not in page


def test_an_outsider_sees_their_own_team_and_nothing_of_ours(world):
    page = _client(world["outsider"]).get(reverse("teams:detail")).content.decode()
    assert world["outsider"].email in page
    for secret in (
        world["owner"].email,
        world["member"].email,
        world["invitation"].email,
        world["team"].name,
    ):
        assert secret not in page


def test_a_user_without_a_team_is_told_what_to_do(user):
    page = _client(user).get(reverse("teams:detail")).content.decode()
    assert "You are not in a team yet" in page
    assert reverse("teams:join_code") in page


def test_the_team_page_query_count_does_not_grow_with_members_or_invitations(
    team, owner, django_assert_num_queries
):
    client = _client(owner)
    client.get(reverse("teams:detail"))  # warm the session and the content types

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("teams:detail")).status_code == 200
        return len(queries)

    small = count()
    for membership in MembershipFactory.create_batch(3, team=team):
        DeviceFactory.create_batch(2, key=membership.key)
    InvitationFactory(team=team)
    with django_assert_num_queries(small):
        assert client.get(reverse("teams:detail")).status_code == 200


def test_the_team_page_query_count_is_pinned(team, owner, django_assert_num_queries):
    for membership in MembershipFactory.create_batch(2, team=team):
        DeviceFactory(key=membership.key)
    InvitationFactory.create_batch(2, team=team)
    client = _client(owner)
    client.get(reverse("teams:detail"))
    # session, user, memberships, members with keys and devices, invitations, keys count,
    # pending count, other teams
    with django_assert_num_queries(8):
        client.get(reverse("teams:detail"))


# --- inviting --------------------------------------------------------------------------------


def test_an_invitation_form_error_is_shown_beside_the_field(team, owner):
    response = _client(owner).post(reverse("teams:invite", args=[team.public_id]), {"email": "not-an-email"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="field has-error' in page
    assert "Enter a valid email address." in page
    assert not Invitation.objects.exists()


def test_a_full_team_shows_the_seat_message_beside_the_field(team, owner):
    MembershipFactory.create_batch(4, team=team)
    response = _client(owner).post(reverse("teams:invite", args=[team.public_id]), {"email": "x@example.com"})
    assert response.status_code == 200
    assert "All 5 seats of this team are taken" in response.content.decode()


def test_the_owner_invites_by_email_and_the_mail_goes_out_on_commit(
    team, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(owner).post(
            reverse("teams:invite", args=[team.public_id]), {"email": "New@Example.com", "role": "admin"}
        )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role) == ("new@example.com", Role.ADMIN)
    assert len(mail.outbox) == 1
    assert "/team/join/" in mail.outbox[0].body


# --- the invite code -------------------------------------------------------------------------


def test_a_new_code_is_shown_once_and_then_only_its_hint(team, owner):
    client = _client(owner)
    response = client.post(reverse("teams:code_regenerate", args=[team.public_id]))
    code = re.search(r"TEAM(-[0-9A-Z]{4}){4}", response.content.decode()).group(0)
    assert response["Cache-Control"] == "no-store"
    page = client.get(reverse("teams:detail")).content.decode()
    assert code not in page
    assert code[-4:] in page


def test_joining_by_code_through_the_page(team, owner, user):
    code = services.team_code_regenerate(team=team, by=owner).code
    client = _client(user)
    response = client.post(reverse("teams:join_code"), {"code": "TEAM-0000-0000-0000-0000"})
    assert response.status_code == 200
    assert 'class="field has-error' in response.content.decode()
    assert "not valid" in response.content.decode()
    response = client.post(reverse("teams:join_code"), {"code": code}, follow=True)
    assert f"Welcome to {escape(team.name)}" in response.content.decode()
    assert Membership.objects.get(user=user).key.masked in response.content.decode()


def test_an_old_code_is_refused_on_the_page(team, owner, user):
    old = services.team_code_regenerate(team=team, by=owner).code
    services.team_code_regenerate(team=team, by=owner)
    response = _client(user).post(reverse("teams:join_code"), {"code": old})
    assert response.status_code == 200
    assert not Membership.objects.filter(user=user).exists()


# --- the invitation link ---------------------------------------------------------------------


def test_a_visitor_with_a_link_is_asked_to_sign_up_or_log_in_and_come_back(team):
    invitation = InvitationFactory(team=team)
    client = Client()
    path = reverse("teams:join", args=[invitation.token])
    page = client.get(path).content.decode()
    assert f"{reverse('account_signup')}?next={path}" in page
    assert f"{reverse('account_login')}?next={path}" in page
    assert client.session[SESSION_INVITATION] == invitation.token_digest


def test_a_logged_in_invitee_accepts(team):
    invitation = InvitationFactory(team=team)
    user = UserFactory(email=invitation.email)
    client = _client(user)
    path = reverse("teams:join", args=[invitation.token])
    assert "Accept and join" in client.get(path).content.decode()
    response = client.post(path)
    assert response.status_code == 302
    assert response["Location"] == reverse("teams:team", args=[team.public_id])
    assert Membership.objects.get(user=user).key.status == LicenseKeyStatus.ACTIVE


def test_the_wrong_account_is_told_which_address_was_invited(team):
    invitation = InvitationFactory(team=team, email="right@example.com")
    client = _client(UserFactory(email="wrong@example.com"))
    path = reverse("teams:join", args=[invitation.token])
    page = client.get(path).content.decode()
    assert "r****@example.com" in page
    assert "wrong@example.com" in page
    assert "Log out and use the invited address" in page
    response = client.post(path)
    assert response.status_code == 200
    assert not Membership.objects.filter(user__email="wrong@example.com").exists()


@pytest.mark.parametrize(
    "change,message",
    [
        ({"revoked_at": timezone.now()}, "withdrawn"),
        (
            {
                "created_at": timezone.now() - timedelta(days=9),
                "expires_at": timezone.now() - timedelta(days=2),
            },
            "expired",
        ),
    ],
    ids=["revoked", "expired"],
)
def test_a_dead_link_explains_itself(team, change, message):
    invitation = InvitationFactory(team=team, **change)
    user = UserFactory(email=invitation.email)
    path = reverse("teams:join", args=[invitation.token])
    assert message in Client().get(path).content.decode()
    response = _client(user).post(path)
    assert message in response.content.decode()
    assert not Membership.objects.filter(user=user).exists()


def test_a_used_link_cannot_be_used_again(team):
    invitation = InvitationFactory(team=team)
    user = UserFactory(email=invitation.email)
    client = _client(user)
    path = reverse("teams:join", args=[invitation.token])
    client.post(path)
    assert "already been used" in client.post(path).content.decode()
    assert Membership.objects.filter(user=user).count() == 1


def test_an_unknown_link_is_a_404(db):
    response = Client().get(reverse("teams:join", args=["nothing-here"]))
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_a_new_visitor_signs_up_through_the_link_verifies_their_email_and_joins(
    team, django_capture_on_commit_callbacks
):
    invitation = InvitationFactory(team=team, email="newcomer@example.com")
    client = Client()
    join_path = reverse("teams:join", args=[invitation.token])
    client.get(join_path)
    with django_capture_on_commit_callbacks(execute=True):  # the confirmation goes out via the outbox
        response = client.post(
            f"{reverse('account_signup')}?next={join_path}",
            {
                "email": "newcomer@example.com",
                "password1": DEFAULT_PASSWORD,
                "password2": DEFAULT_PASSWORD,
                "next": join_path,
            },
        )
    assert response.status_code == 302
    confirm_path = re.search(r"https?://[^/\s]+(/\S+)", mail.outbox[-1].body).group(1)
    response = client.post(confirm_path)
    assert response.status_code == 302
    assert response["Location"] == join_path
    response = client.post(join_path)
    assert response["Location"] == reverse("teams:team", args=[team.public_id])
    assert Membership.objects.get(user__email="newcomer@example.com").team == team


def test_the_team_page_points_back_to_an_invitation_opened_before_logging_in(team, user):
    invitation = InvitationFactory(team=team, email=user.email)
    client = Client()
    client.get(reverse("teams:join", args=[invitation.token]))
    client.force_login(user)
    page = client.get(reverse("teams:detail")).content.decode()
    assert reverse("teams:pending_invitation") in page
    assert invitation.token not in page


def test_another_team_is_reachable_through_the_switcher(team, owner):
    other = TeamFactory()
    MembershipFactory(team=other, user=owner)
    page = _client(owner).get(reverse("teams:detail")).content.decode()
    assert reverse("teams:team", args=[other.public_id]) in page
    page = _client(owner).get(reverse("teams:team", args=[other.public_id])).content.decode()
    assert escape(other.name) in page


def test_the_team_page_warns_when_the_license_does_not_work(team, owner):
    team.license.suspended_at = timezone.now()
    team.license.save()
    page = _client(owner).get(reverse("teams:detail")).content.decode()
    assert "The license is suspended." in page
    assert "nobody can join" in page

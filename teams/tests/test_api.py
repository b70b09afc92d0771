import pytest
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from licensing.models import LicenseKeyStatus
from licensing.tests.factories import DeviceFactory
from teams import services
from teams.models import Invitation, Membership, Role
from teams.tests.factories import InvitationFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(team, owner, member_ship, outsider):
    return {
        "team": team,
        "owner": owner,
        "member": member_ship.user,
        "member_ship": member_ship,
        "other_ship": MembershipFactory(team=team),
        "invitation": InvitationFactory(team=team),
        "outsider": outsider,
    }


def _state(world):
    team = world["team"]
    team.refresh_from_db()
    return (
        sorted(Membership.objects.filter(team=team).values_list("user_id", "role")),
        sorted(Invitation.objects.filter(team=team).values_list("email", "token_digest", "revoked_at")),
        team.code_digest,
    )


def _team_query(w):
    return {"team": str(w["team"].public_id)}


# (name, method, url, body, owner status, member status, outsider status)
ENDPOINTS = [
    ("team", "get", lambda w: reverse("teams_api:detail"), _team_query, 200, 200, 404),
    ("invite", "post", lambda w: reverse("teams_api:invitation_create"), _team_query, 201, 403, 404),
    (
        "revoke",
        "delete",
        lambda w: reverse("teams_api:invitation_revoke", args=[w["invitation"].public_id]),
        None,
        204,
        403,
        404,
    ),
    (
        "resend",
        "post",
        lambda w: reverse("teams_api:invitation_resend", args=[w["invitation"].public_id]),
        None,
        200,
        403,
        404,
    ),
    (
        "remove",
        "delete",
        lambda w: reverse("teams_api:member_remove", args=[w["other_ship"].public_id]),
        None,
        204,
        403,
        404,
    ),
    (
        "role",
        "post",
        lambda w: reverse("teams_api:member_role", args=[w["other_ship"].public_id]),
        lambda w: {"role": "admin"},
        200,
        403,
        404,
    ),
    ("code", "post", lambda w: reverse("teams_api:code_regenerate"), _team_query, 201, 403, 404),
]


def _call(user, method, path, body):
    client = APIClient()
    if user is not None:
        client.force_login(user)
    if method == "get":
        return client.get(path, body)
    payload = dict(body or {})
    payload.setdefault("email", "fresh@example.com")
    return getattr(client, method)(path, payload, format="json")


@pytest.mark.parametrize(
    "name,method,url,body,as_owner,as_member,as_outsider", ENDPOINTS, ids=[e[0] for e in ENDPOINTS]
)
def test_every_team_endpoint_lets_the_owner_in_limits_members_and_hides_from_outsiders(
    world, name, method, url, body, as_owner, as_member, as_outsider
):
    path = url(world)
    data = body(world) if body else None
    before = _state(world)
    response = _call(world["outsider"], method, path, data)
    assert response.status_code == as_outsider, response.content
    assert world["member"].email not in response.content.decode()
    assert _state(world) == before
    response = _call(world["member"], method, path, data)
    assert response.status_code == as_member, response.content
    if method != "get":
        assert response.json()["code"] == "PERMISSION_DENIED"
        assert _state(world) == before
    response = _call(world["owner"], method, path, data)
    assert response.status_code == as_owner, response.content


@pytest.mark.parametrize(
    "name,method,url,body,as_owner,as_member,as_outsider", ENDPOINTS, ids=[e[0] for e in ENDPOINTS]
)
def test_every_team_endpoint_needs_a_login(world, name, method, url, body, as_owner, as_member, as_outsider):
    response = _call(None, method, url(world), body(world) if body else None)
    assert response.status_code in (401, 403)
    assert world["member"].email not in response.content.decode()


def test_the_outsider_gets_their_own_team_by_default(world):
    response = _call(world["outsider"], "get", reverse("teams_api:detail"), None)
    assert response.status_code == 200
    assert response.json()["id"] != str(world["team"].public_id)
    assert world["member"].email not in response.content.decode()


def test_the_owner_gets_members_invitations_and_seats(world):
    DeviceFactory(key=world["member_ship"].key)
    data = _call(world["owner"], "get", reverse("teams_api:detail"), None).json()
    assert data["role"] == "owner"
    assert data["seats"] == {"total": 5, "used": 4, "keys": 3, "pending": 1, "free": 1}
    emails = [m["user"]["email"] for m in data["members"]]
    assert emails[0] == world["owner"].email
    assert world["member"].email in emails
    member = next(m for m in data["members"] if m["user"]["email"] == world["member"].email)
    assert member["devices"] == 1
    assert member["key"] == {"prefix": world["member_ship"].key.masked, "status": "active"}
    assert [i["email"] for i in data["invitations"]] == [world["invitation"].email]
    assert data["invitations"][0]["status"] == "pending"
    assert world["member_ship"].key.reveal() not in str(data)


def test_a_member_gets_only_themselves(world):
    data = _call(world["member"], "get", reverse("teams_api:detail"), None).json()
    assert data["role"] == "member"
    assert [m["user"]["email"] for m in data["members"]] == [world["member"].email]
    assert data["invitations"] == []
    assert data["invite_code_hint"] is None


def test_a_user_without_a_team_gets_404(user):
    assert _call(user, "get", reverse("teams_api:detail"), None).status_code == 404


def test_the_team_api_query_count_does_not_grow(team, owner, django_assert_num_queries):
    client = APIClient()
    client.force_login(owner)
    client.get(reverse("teams_api:detail"))
    for membership in MembershipFactory.create_batch(4, team=team):
        DeviceFactory.create_batch(2, key=membership.key)
    with django_assert_num_queries(8):
        client.get(reverse("teams_api:detail"))


def test_inviting_through_the_api_emails_the_link_on_commit(team, owner, django_capture_on_commit_callbacks):
    client = APIClient()
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("teams_api:invitation_create"),
            {"email": "api@example.com", "role": "member"},
            format="json",
        )
    assert response.status_code == 201
    assert response.json()["email"] == "api@example.com"
    assert mail.outbox[-1].to == ["api@example.com"]


def test_inviting_past_the_seats_is_a_409_with_a_code(team, owner):
    MembershipFactory.create_batch(4, team=team)
    client = APIClient()
    client.force_login(owner)
    response = client.post(reverse("teams_api:invitation_create"), {"email": "x@example.com"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "SEAT_LIMIT_REACHED"


def test_bad_input_is_a_400_and_changes_nothing(team, owner):
    client = APIClient()
    client.force_login(owner)
    response = client.post(reverse("teams_api:invitation_create"), {"email": "nope"}, format="json")
    assert response.status_code == 400
    assert "email" in response.json()["errors"]
    assert not Invitation.objects.exists()


def test_accepting_and_joining_through_the_api(team, owner):
    invitation = InvitationFactory(team=team)
    invitee = UserFactory(email=invitation.email)
    client = APIClient()
    client.force_login(invitee)
    response = client.post(reverse("teams_api:invitation_accept"), {"token": invitation.token}, format="json")
    assert response.status_code == 201
    assert response.json()["team"] == str(team.public_id)

    code = services.team_code_regenerate(team=team, by=owner).code
    walker = APIClient()
    walker.force_login(UserFactory())
    response = walker.post(reverse("teams_api:join"), {"code": code}, format="json")
    assert response.status_code == 201
    assert response.json()["role"] == Role.MEMBER
    response = walker.post(reverse("teams_api:join"), {"code": code}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "ALREADY_MEMBER"


def test_a_wrong_email_is_refused_through_the_api(team):
    invitation = InvitationFactory(team=team)
    client = APIClient()
    client.force_login(UserFactory())
    response = client.post(reverse("teams_api:invitation_accept"), {"token": invitation.token}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "WRONG_EMAIL"


def test_leaving_through_the_api(world):
    client = APIClient()
    client.force_login(world["member"])
    assert client.post(reverse("teams_api:leave"), {}, format="json").status_code == 204
    world["member_ship"].key.refresh_from_db()
    assert world["member_ship"].key.status == LicenseKeyStatus.REVOKED
    owner = APIClient()
    owner.force_login(world["owner"])
    response = owner.post(reverse("teams_api:leave"), {}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "OWNER_CANNOT_LEAVE"
    outsider = APIClient()
    outsider.force_login(world["outsider"])
    response = outsider.post(
        reverse("teams_api:leave"), {"team": str(world["team"].public_id)}, format="json"
    )
    assert response.status_code == 404


def test_removal_through_the_api_makes_the_key_validate_as_revoked(world):
    plaintext = world["member_ship"].key.reveal()
    fingerprint = "laptop-fingerprint-0001"
    app = APIClient()
    response = app.post(
        "/api/v1/licenses/activate", {"key": plaintext, "fingerprint": fingerprint}, format="json"
    )
    assert response.status_code == 201, response.content
    client = APIClient()
    client.force_login(world["owner"])
    response = client.delete(reverse("teams_api:member_remove", args=[world["member_ship"].public_id]))
    assert response.status_code == 204
    response = app.post(
        "/api/v1/licenses/validate", {"key": plaintext, "fingerprint": fingerprint}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["valid"] is False
    assert response.json()["code"] == "REVOKED"


def test_the_owner_cannot_be_removed_through_the_api(world):
    owner_ship = world["team"].memberships.get(role=Role.OWNER)
    admin = MembershipFactory(team=world["team"], role=Role.ADMIN).user
    client = APIClient()
    client.force_login(admin)
    response = client.delete(reverse("teams_api:member_remove", args=[owner_ship.public_id]))
    assert response.status_code == 403
    assert Membership.objects.filter(pk=owner_ship.pk).exists()


def test_session_requests_need_the_csrf_token(world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world["owner"])
    response = client.post(reverse("teams_api:invitation_create"), {"email": "x@example.com"}, format="json")
    assert response.status_code == 403
    assert not Invitation.objects.filter(email="x@example.com").exists()


def test_the_team_api_is_in_the_openapi_schema(client):
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert "get" in paths["/api/v1/team"]
    assert "post" in paths["/api/v1/team/invitations"]
    assert "delete" in paths["/api/v1/team/invitations/{public_id}"]
    assert "delete" in paths["/api/v1/team/members/{public_id}"]
    assert "post" in paths["/api/v1/team/leave"]
    assert "TeamOutput" in schema["components"]["schemas"]


def test_a_personal_api_token_works_without_csrf(world):
    from accounts.models import ApiToken

    _, plaintext = ApiToken.issue(user=world["owner"], name="script")
    client = APIClient(enforce_csrf_checks=True)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}
    response = client.get(reverse("teams_api:detail"), **auth)
    assert response.status_code == 200
    assert response.json()["id"] == str(world["team"].public_id)
    response = client.post(
        reverse("teams_api:invitation_create"), {"email": "token@example.com"}, format="json", **auth
    )
    assert response.status_code == 201

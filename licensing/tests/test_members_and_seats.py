"""After a team membership ends, a key is revoked or seats are counted: what each place says.

The owner / member / outsider trio of the team tests; the removal and the leave go through
`teams.services`, the way the team page does them.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from accounts.tests.factories import UserFactory
from licensing import services
from licensing.models import KeyEndReason, LicenseKey, ValidationCode
from licensing.tests.factories import DeviceFactory, LicenseKeyFactory
from teams.selectors import seats_count
from teams.services import member_leave, member_remove, member_set_role
from teams.tests.factories import InvitationFactory, MembershipFactory, TeamFactory

SUPPORT = "mailto:support@qualitybytes.test"
VALIDATE = "/api/v1/licenses/validate"
ACTIVATE = "/api/v1/licenses/activate"


@pytest.fixture
def team(db):
    return TeamFactory(name="Northwind Design")


@pytest.fixture
def member(team):
    return MembershipFactory(team=team, user=UserFactory(email="mila@example.com"))


def _dashboard(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return response.content.decode()


def _today() -> str:
    return date_format(timezone.localdate(), "j M Y")


# --- a membership that ended --------------------------------------------------------------------


def test_a_removed_member_sees_that_the_owner_removed_them_and_when_not_the_teams_plan(client, team, member):
    member_remove(membership=member, by=team.license.owner)

    html = _dashboard(client, member.user)

    assert f"You were removed from <strong>Northwind Design</strong> by its owner on {_today()}." in html
    assert "provided by" not in html
    assert 'data-status="active"' not in html
    assert "Seats used" not in html
    assert f'href="{reverse("pricing")}">See plans</a>' in html
    assert SUPPORT in html


def test_a_removed_member_does_not_follow_the_old_teams_later_changes(client, team, member):
    member_remove(membership=member, by=team.license.owner)
    team.license.status = "grace"
    team.license.grace_ends_at = timezone.now() + timedelta(days=7)
    team.license.save()

    html = _dashboard(client, member.user)

    assert "Past due" not in html and "fix your payment" not in html
    assert "You were removed from" in html


def test_a_member_removed_by_an_admin_is_told_an_admin_did_it(client, team, member):
    admin = MembershipFactory(team=team)
    member_set_role(membership=admin, role="admin", by=team.license.owner)
    member_remove(membership=member, by=admin.user)

    html = _dashboard(client, member.user)

    assert "by an admin of the team on" in html


def test_a_member_who_left_sees_that_they_left(client, team, member):
    member_leave(team=team, user=member.user)

    html = _dashboard(client, member.user)

    assert f"You left <strong>Northwind Design</strong> on {_today()}." in html
    assert "provided by" not in html
    assert "See plans" in html


def test_the_removal_is_stored_with_its_cause_author_and_time(team, member):
    owner = team.license.owner
    member_remove(membership=member, by=owner)

    key = LicenseKey.objects.get(holder=member.user)
    assert (key.status, key.revoked_cause, key.revoked_by) == ("revoked", KeyEndReason.REMOVED, owner)
    assert key.revoked_at is not None
    assert key.end_reason() == KeyEndReason.REMOVED


def test_a_member_with_a_plan_of_their_own_keeps_it_and_sees_the_old_team_as_a_record(
    client, team, member, plan
):
    member_remove(membership=member, by=team.license.owner)
    own = LicenseKeyFactory(license__owner=member.user, license__plan=plan)

    html = _dashboard(client, member.user)

    assert html.index(own.masked) < html.index("You were removed from")
    assert "<strong>Solo</strong>" in html


def test_the_removed_members_key_still_answers_revoked_to_the_app(client, team, member):
    plaintext = member.key.reveal()
    member_remove(membership=member, by=team.license.owner)

    body = client.post(VALIDATE, {"key": plaintext}, content_type="application/json").json()

    assert (body["valid"], body["code"]) == (False, ValidationCode.REVOKED)


# --- a revoked key says why -------------------------------------------------------------------


def _revoke_owner_key(team):
    key = LicenseKey.objects.get(holder=team.license.owner)
    return services.license_key_revoke(key=key, reason="Chargeback", cause=KeyEndReason.STAFF)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("key_revoked", "revoked by QualityBytes staff"),
        ("license_revoked", "revoked by QualityBytes staff"),
        ("expired", "the subscription ended"),
        ("inactive", "the subscription ended"),
        ("suspended", "suspended by QualityBytes staff"),
    ],
)
def test_a_key_that_does_not_work_says_why_in_words_with_a_support_link(client, team, change, words):
    license_ = team.license
    match change:
        case "key_revoked":
            _revoke_owner_key(team)
        case "license_revoked":
            license_ = services.license_revoke(license=license_, reason="Fraud")
        case "expired":
            license_.expires_at = timezone.now() - timedelta(days=1)
        case "inactive":
            license_.status = "inactive"
        case "suspended":
            license_.suspended_at = timezone.now()
    license_.save()

    html = _dashboard(client, license_.owner)

    assert f"This key does not work: {words}" in html
    assert SUPPORT in html


def test_a_working_key_has_no_reason_line(client, team):
    html = _dashboard(client, team.license.owner)

    assert "This key does not work" not in html


def test_an_owner_whose_key_staff_revoked_is_not_told_to_ask_the_teams_owner(client, team):
    _revoke_owner_key(team)
    client.force_login(team.license.owner)

    html = client.get(reverse("teams:team", args=[team.public_id])).content.decode()

    assert "Ask the team's owner" not in html
    assert "Your key for this team does not work: revoked by QualityBytes staff." in html
    assert SUPPORT in html


def test_my_licenses_api_says_why_a_key_does_not_work(client, team, member):
    member_remove(membership=member, by=team.license.owner)
    client.force_login(member.user)

    (row,) = client.get(reverse("me-licenses")).json()

    assert row["key"]["end_reason"] == "removed"
    assert row["key"]["end_reason_text"] == "removed from the team"
    assert row["key"]["revoked_at"] is not None


def test_my_licenses_api_has_no_reason_for_a_working_key(client, team):
    client.force_login(team.license.owner)

    (row,) = client.get(reverse("me-licenses")).json()

    assert row["key"]["end_reason"] is None and row["key"]["end_reason_text"] is None


def test_an_operator_cannot_record_a_cause_that_is_not_a_revocation(team):
    key = LicenseKey.objects.get(holder=team.license.owner)

    with pytest.raises(services.LicensingError):
        services.license_key_revoke(key=key, reason="x", cause=KeyEndReason.SUBSCRIPTION_ENDED)

    key.refresh_from_db()
    assert key.status == "active"


# --- seats, counted one way -------------------------------------------------------------------


def test_every_place_counts_the_same_seats(client, admin_client, team, member):
    """Owner + one member with keys, three pending invitations: 5 of 5. A removed member and
    an expired invitation hold no seat."""
    owner = team.license.owner
    gone = MembershipFactory(team=team)
    member_remove(membership=gone, by=owner)
    for _ in range(3):
        InvitationFactory(team=team)
    week_ago = timezone.now() - timedelta(days=8)
    InvitationFactory(team=team, created_at=week_ago, expires_at=week_ago + timedelta(days=7))
    owner_key = LicenseKey.objects.get(holder=owner, status="active")
    for _ in range(team.license.plan.devices_per_seat):
        DeviceFactory(key=owner_key)
    plaintext = owner_key.reveal()

    assert seats_count(license=team.license).used == 5

    validate = client.post(VALIDATE, {"key": plaintext}, content_type="application/json")
    assert validate.json()["license"]["seats_used"] == 5

    refused = client.post(
        ACTIVATE, {"key": plaintext, "fingerprint": "one-too-many"}, content_type="application/json"
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == ValidationCode.TOO_MANY_DEVICES
    assert refused.json()["license"]["seats_used"] == 5

    assert "<dt>Seats used</dt><dd>5 of 5</dd>" in _dashboard(client, owner)

    team_page = client.get(reverse("teams:team", args=[team.public_id])).content.decode()
    assert "<strong>5</strong> of 5 seats used" in team_page

    (row,) = client.get(reverse("me-licenses")).json()
    assert row["seats_used"] == 5

    changelist = admin_client.get(reverse("admin:licensing_license_changelist")).content.decode()
    assert "5 / 5" in changelist


def test_the_admins_team_list_counts_keys_not_memberships(client, admin_client, team, member):
    """A member whose key staff revoked stays a member but holds no seat: the admin's team list
    says what the team page and validation say."""
    services.license_key_revoke(key=LicenseKey.objects.get(holder=member.user), reason="abuse")
    InvitationFactory(team=team)
    assert seats_count(license=team.license).used == 2  # the owner's key and the invitation

    changelist = admin_client.get(reverse("admin:teams_team_changelist")).content.decode()
    assert f"2 / {team.license.seats_total}" in changelist


def test_an_activation_refused_for_an_inactive_license_still_counts_the_seats(client, team, member):
    team.license.status = "inactive"
    team.license.save()

    body = client.post(
        ACTIVATE,
        {"key": member.key.reveal(), "fingerprint": "laptop"},
        content_type="application/json",
    ).json()

    assert body["code"] == ValidationCode.INACTIVE
    assert body["license"]["seats_used"] == 2


def test_the_dashboard_costs_the_same_queries_for_one_key_or_many(client, team, django_assert_num_queries):
    owner = team.license.owner
    client.force_login(owner)
    client.get(reverse("dashboard"))  # session and caches warm
    with django_assert_num_queries(8) as one:
        client.get(reverse("dashboard"))
    for _ in range(3):
        other = TeamFactory()
        MembershipFactory(team=other, user=owner)
        InvitationFactory(team=other)
    with django_assert_num_queries(len(one.captured_queries)):
        client.get(reverse("dashboard"))

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from accounts.tests.factories import UserFactory
from licensing.models import LicenseKey, LicenseKeyStatus, ValidationCode
from licensing.services import license_issue, license_validate
from licensing.tests.factories import DeviceFactory, LicenseFactory
from qualitybytes.models import OutboxEmail
from teams import selectors, services
from teams.models import Invitation, Membership, Role, Team, generate_code, normalise_code
from teams.tests.factories import InvitationFactory, MembershipFactory

pytestmark = pytest.mark.django_db


# --- creation --------------------------------------------------------------------------------


def test_a_team_is_created_for_a_multi_seat_license_with_the_owner_holding_their_key(team_plan):
    issued = license_issue(owner=UserFactory(), plan=team_plan)
    team = services.team_create_for_license(license=issued.key.license)
    owner_ship = team.memberships.get()
    assert owner_ship.role == Role.OWNER
    assert owner_ship.user == issued.key.holder
    assert owner_ship.key == issued.key
    assert LicenseKey.objects.filter(license=team.license).count() == 1


def test_team_creation_is_idempotent(team_plan):
    license_ = license_issue(owner=UserFactory(), plan=team_plan).key.license
    first = services.team_create_for_license(license=license_)
    second = services.team_create_for_license(license=license_)
    assert first == second
    assert Team.objects.count() == 1
    assert Membership.objects.count() == 1


def test_team_creation_issues_the_owner_a_key_when_they_have_none(team_plan):
    license_ = LicenseFactory(plan=team_plan)
    team = services.team_create_for_license(license=license_)
    assert team.memberships.get().key.status == LicenseKeyStatus.ACTIVE


def test_a_one_seat_license_gets_no_team(plan):
    license_ = license_issue(owner=UserFactory(), plan=plan).key.license
    with pytest.raises(services.TeamError):
        services.team_create_for_license(license=license_)
    assert not Team.objects.exists()


# --- seats -----------------------------------------------------------------------------------


def test_seats_in_use_counts_active_keys_and_pending_invitations_only(team):
    license_ = team.license
    MembershipFactory(team=team)
    InvitationFactory(team=team)
    InvitationFactory(
        team=team,
        expires_at=timezone.now() - timedelta(minutes=1),
        created_at=timezone.now() - timedelta(days=8),
    )
    InvitationFactory(team=team, revoked_at=timezone.now())
    revoked = MembershipFactory(team=team).key
    revoked.status, revoked.revoked_at = LicenseKeyStatus.REVOKED, timezone.now()
    revoked.save()
    assert selectors.seats_in_use(license=license_) == 3  # owner + member + one pending invitation


def test_inviting_beyond_the_seats_is_refused_with_a_clear_message(team, owner):
    for _ in range(2):
        MembershipFactory(team=team)
    services.team_invite_member(team=team, email="a@example.com", by=owner)
    services.team_invite_member(team=team, email="b@example.com", by=owner)
    with pytest.raises(services.SeatLimitReached, match="All 5 seats"):
        services.team_invite_member(team=team, email="c@example.com", by=owner)
    assert Invitation.objects.count() == 2


# --- invitations -----------------------------------------------------------------------------


def test_an_invitation_is_emailed_on_commit_with_a_single_use_link(
    team, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sent = services.team_invite_member(team=team, email="New@Example.com", by=owner)
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    message = mail.outbox[-1]
    assert message.to == ["new@example.com"]
    assert f"/team/join/{sent.token}/" in message.body
    assert f"/team/join/{sent.token}/" in message.alternatives[0][0]
    assert sent.token not in sent.invitation.token_digest
    assert Invitation.objects.get().email == "new@example.com"


class _Abort(Exception):
    pass


def test_an_invitation_is_not_sent_when_the_transaction_rolls_back(
    team, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(_Abort), transaction.atomic():
            services.team_invite_member(team=team, email="new@example.com", by=owner)
            # The email is queued in the caller's transaction ...
            assert OutboxEmail.objects.filter(recipient="new@example.com").exists()
            raise _Abort
    # ... so the rollback takes it away with the invitation: nothing was sent or is left to send.
    assert callbacks == []
    assert mail.outbox == []
    assert not OutboxEmail.objects.exists()
    assert not Invitation.objects.exists()


def test_accepting_gives_the_member_their_own_key_on_the_team_license(team):
    invitation = InvitationFactory(team=team)
    user = UserFactory(email=invitation.email)
    membership = services.invitation_accept(token=invitation.token, user=user)
    assert membership.role == Role.MEMBER
    assert membership.key.holder == user
    assert membership.key.license == team.license
    assert membership.key.status == LicenseKeyStatus.ACTIVE
    assert license_validate(key=membership.key.reveal()).code == ValidationCode.VALID
    invitation.refresh_from_db()
    assert invitation.accepted_at and invitation.accepted_by == user


def test_an_invitation_cannot_be_used_twice(team):
    invitation = InvitationFactory(team=team)
    user = UserFactory(email=invitation.email)
    services.invitation_accept(token=invitation.token, user=user)
    with pytest.raises(services.TeamError, match="already been used"):
        services.invitation_accept(token=invitation.token, user=user)
    assert Membership.objects.filter(team=team, user=user).count() == 1


def test_an_expired_invitation_is_refused_and_holds_no_seat(team):
    now = timezone.now()
    invitation = InvitationFactory(
        team=team, created_at=now - timedelta(days=8), expires_at=now - timedelta(days=1)
    )
    user = UserFactory(email=invitation.email)
    with pytest.raises(services.TeamError, match="expired"):
        services.invitation_accept(token=invitation.token, user=user)
    assert selectors.seats_in_use(license=team.license) == 1
    assert not Membership.objects.filter(user=user).exists()


def test_the_invitation_expiry_is_configurable(team, owner, settings):
    settings.TEAM_INVITATION_DAYS = 2
    now = timezone.now()
    sent = services.team_invite_member(team=team, email="x@example.com", by=owner, now=now)
    assert sent.invitation.expires_at == now + timedelta(days=2)


def test_an_invitation_for_another_email_is_refused_clearly(team):
    invitation = InvitationFactory(team=team, email="invited@example.com")
    intruder = UserFactory(email="someone.else@example.com")
    with pytest.raises(services.TeamError, match="sent to i\\*+@example.com") as excinfo:
        services.invitation_accept(token=invitation.token, user=intruder)
    assert excinfo.value.code == "WRONG_EMAIL"
    assert "someone.else@example.com" in str(excinfo.value)
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_a_revoked_invitation_is_refused(team, owner):
    invitation = InvitationFactory(team=team)
    services.invitation_revoke(invitation=invitation, by=owner)
    with pytest.raises(services.TeamError, match="withdrawn"):
        services.invitation_accept(token=invitation.token, user=UserFactory(email=invitation.email))
    assert selectors.seats_in_use(license=team.license) == 1


def test_an_unknown_token_is_refused(team):
    with pytest.raises(services.TeamError, match="not valid"):
        services.invitation_accept(token="made-up", user=UserFactory())


def test_resending_replaces_the_link_and_the_old_one_stops_working(
    team, owner, django_capture_on_commit_callbacks
):
    invitation = InvitationFactory(team=team)
    with django_capture_on_commit_callbacks(execute=True):
        sent = services.invitation_resend(invitation=invitation, by=owner)
    assert f"/team/join/{sent.token}/" in mail.outbox[-1].body
    user = UserFactory(email=invitation.email)
    with pytest.raises(services.TeamError, match="not valid"):
        services.invitation_accept(token=invitation.token, user=user)
    assert services.invitation_accept(token=sent.token, user=user).team == team


def test_inviting_an_expired_address_again_renews_the_invitation(team, owner):
    now = timezone.now()
    old = InvitationFactory(team=team, created_at=now - timedelta(days=9), expires_at=now - timedelta(days=2))
    sent = services.team_invite_member(team=team, email=old.email, by=owner)
    assert sent.invitation.pk == old.pk
    assert sent.invitation.status() == "pending"
    assert Invitation.objects.count() == 1


def test_inviting_a_pending_address_twice_is_refused(team, owner):
    services.team_invite_member(team=team, email="twice@example.com", by=owner)
    with pytest.raises(services.TeamError, match="resend it instead"):
        services.team_invite_member(team=team, email="TWICE@example.com", by=owner)


def test_inviting_a_current_member_is_refused(team, owner, member):
    with pytest.raises(services.TeamError, match="already a member"):
        services.team_invite_member(team=team, email=member.email, by=owner)


# --- invite codes ----------------------------------------------------------------------------


def test_a_code_is_stored_hashed_with_a_short_hint(team, owner):
    new = services.team_code_regenerate(team=team, by=owner)
    team.refresh_from_db()
    assert new.code.startswith("TEAM-")
    assert new.code not in team.code_digest
    assert team.code_hint == normalise_code(new.code)[-4:]
    assert team.code_hint in team.code_display


def test_joining_by_code_gives_a_key_and_accepts_typing_slips(team, owner):
    code = services.team_code_regenerate(team=team, by=owner).code
    user = UserFactory()
    membership = services.team_join_by_code(code=f"  {code.lower().replace('-', ' ')} ", user=user)
    assert membership.role == Role.MEMBER
    assert membership.key.holder == user


def test_a_regenerated_code_replaces_the_old_one(team, owner):
    old = services.team_code_regenerate(team=team, by=owner).code
    new = services.team_code_regenerate(team=team, by=owner).code
    with pytest.raises(services.TeamError, match="not valid"):
        services.team_join_by_code(code=old, user=UserFactory())
    assert services.team_join_by_code(code=new, user=UserFactory()).team == team


def test_a_disabled_code_stops_working(team, owner):
    code = services.team_code_regenerate(team=team, by=owner).code
    services.team_code_disable(team=team, by=owner)
    with pytest.raises(services.TeamError, match="not valid"):
        services.team_join_by_code(code=code, user=UserFactory())


def test_joining_by_code_respects_pending_invitations_holding_seats(team, owner):
    code = services.team_code_regenerate(team=team, by=owner).code
    MembershipFactory.create_batch(3, team=team)
    InvitationFactory(team=team)
    with pytest.raises(services.SeatLimitReached):
        services.team_join_by_code(code=code, user=UserFactory())


def test_joining_by_code_uses_up_ones_own_pending_invitation(team, owner):
    code = services.team_code_regenerate(team=team, by=owner).code
    MembershipFactory.create_batch(3, team=team)
    invitation = InvitationFactory(team=team, role=Role.ADMIN)
    membership = services.team_join_by_code(code=code, user=UserFactory(email=invitation.email))
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert membership.role == Role.ADMIN
    assert selectors.seats_in_use(license=team.license) == 5


def test_codes_are_random():
    assert len({generate_code() for _ in range(50)}) == 50


def test_no_one_joins_an_inactive_license(team, owner):
    code = services.team_code_regenerate(team=team, by=owner).code
    team.license.suspended_at = timezone.now()
    team.license.save()
    with pytest.raises(services.TeamError, match="not active"):
        services.team_join_by_code(code=code, user=UserFactory())


# --- members ---------------------------------------------------------------------------------


def test_removing_a_member_revokes_their_key_and_releases_their_devices(
    team, owner, member_ship, django_capture_on_commit_callbacks
):
    key = member_ship.key
    plaintext = key.reveal()
    DeviceFactory(key=key)
    assert license_validate(key=plaintext).code == ValidationCode.VALID
    with django_capture_on_commit_callbacks(execute=True):
        services.member_remove(membership=member_ship, by=owner)
    key.refresh_from_db()
    assert key.status == LicenseKeyStatus.REVOKED
    assert not key.devices.exists()
    assert not Membership.objects.filter(pk=member_ship.pk).exists()
    assert license_validate(key=plaintext).code == ValidationCode.REVOKED
    assert mail.outbox[-1].to == [member_ship.user.email]
    assert "removed you" in mail.outbox[-1].body


def test_the_owner_cannot_be_removed(team, owner, admin_ship):
    owner_ship = team.memberships.get(role=Role.OWNER)
    with pytest.raises(services.TeamPermissionDenied, match="owner cannot be removed"):
        services.member_remove(membership=owner_ship, by=admin_ship.user)


def test_the_owner_cannot_leave(team, owner):
    with pytest.raises(services.TeamError, match="owner cannot leave"):
        services.member_leave(team=team, user=owner)


def test_a_member_can_leave_and_their_key_stops_working(team, member_ship):
    plaintext = member_ship.key.reveal()
    services.member_leave(team=team, user=member_ship.user)
    assert license_validate(key=plaintext).code == ValidationCode.REVOKED
    assert selectors.seats_in_use(license=team.license) == 1


def test_members_cannot_manage(team, member, member_ship):
    other = MembershipFactory(team=team)
    invitation = InvitationFactory(team=team)
    with pytest.raises(services.TeamPermissionDenied):
        services.team_invite_member(team=team, email="x@example.com", by=member)
    with pytest.raises(services.TeamPermissionDenied):
        services.member_remove(membership=other, by=member)
    with pytest.raises(services.TeamPermissionDenied):
        services.invitation_revoke(invitation=invitation, by=member)
    with pytest.raises(services.TeamPermissionDenied):
        services.invitation_resend(invitation=invitation, by=member)
    with pytest.raises(services.TeamPermissionDenied):
        services.team_code_regenerate(team=team, by=member)
    with pytest.raises(services.TeamPermissionDenied):
        services.member_set_role(membership=other, role=Role.ADMIN, by=member)


def test_admins_manage_members_but_not_admins_or_roles(team, admin_ship):
    admin = admin_ship.user
    plain = MembershipFactory(team=team)
    other_admin = MembershipFactory(team=team, role=Role.ADMIN)
    services.team_invite_member(team=team, email="by-admin@example.com", by=admin)
    with pytest.raises(services.TeamPermissionDenied, match="Only the owner can invite admins"):
        services.team_invite_member(team=team, email="admin2@example.com", by=admin, role=Role.ADMIN)
    with pytest.raises(services.TeamPermissionDenied, match="Only the owner can remove admins"):
        services.member_remove(membership=other_admin, by=admin)
    with pytest.raises(services.TeamPermissionDenied):
        services.member_set_role(membership=plain, role=Role.ADMIN, by=admin)
    services.member_remove(membership=plain, by=admin)


def test_the_owner_sets_roles_but_not_their_own(team, owner, member_ship):
    assert services.member_set_role(membership=member_ship, role=Role.ADMIN, by=owner).role == Role.ADMIN
    with pytest.raises(services.TeamError):
        services.member_set_role(membership=team.memberships.get(role=Role.OWNER), role=Role.MEMBER, by=owner)


def test_outsiders_cannot_act_on_a_team(team, member_ship, outsider):
    with pytest.raises(services.TeamPermissionDenied):
        services.member_remove(membership=member_ship, by=outsider)
    with pytest.raises(services.TeamPermissionDenied):
        services.team_invite_member(team=team, email="x@example.com", by=outsider)


def test_a_removed_member_can_be_invited_back_with_a_new_key(team, owner, member_ship):
    user = member_ship.user
    old_key = member_ship.key
    services.member_remove(membership=member_ship, by=owner)
    sent = services.team_invite_member(team=team, email=user.email, by=owner)
    membership = services.invitation_accept(token=sent.token, user=user)
    assert membership.key != old_key
    assert membership.key.status == LicenseKeyStatus.ACTIVE


# --- seat limit notice -----------------------------------------------------------------------


def test_the_owner_is_told_when_seats_in_use_exceed_the_plan(team, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.notify_owner_seat_limit_exceeded(license=team.license, excess=2)
    message = mail.outbox[-1]
    assert message.to == [owner.email]
    assert "2 more are in use" in message.body
    assert "SEAT_LIMIT_EXCEEDED" in message.alternatives[0][0]
    assert "/team/" in message.body


def test_the_seat_limit_notice_is_not_sent_without_excess(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.notify_owner_seat_limit_exceeded(license=team.license, excess=0)
    assert mail.outbox == []

"""The teams' emails: one function per message, each building its own context (sent through the
outbox when the surrounding transaction commits)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from accounts.models import User
from licensing.models import License
from qualitybytes.emails import send_on_commit
from teams.models import Invitation, Membership, Team


def send_invitation(*, invitation: Invitation, url: str) -> None:
    """The single-use link to join; `url` carries the token, which only this email ever holds."""
    send_on_commit(
        "team-invitation",
        to=invitation.email,
        context={
            "invitation": invitation,
            "team": invitation.team,
            "plan": invitation.team.license.plan,
            "inviter": invitation.invited_by,
            "url": url,
        },
    )


def send_member_key(*, membership: Membership) -> None:
    """A new member's own key, with the team and plan it is for (invitation or invite code)."""
    license_ = membership.team.license
    send_on_commit(
        "license-key",
        to=membership.user.email,
        context={
            "user": membership.user,
            "plan": license_.plan,
            "license": license_,
            "team": membership.team,
            "key": membership.key.reveal(),
        },
    )


def send_issued_key(*, license: License, key: str) -> None:
    """A comp license's key (`issue_license`), to its owner."""
    context = {"user": license.owner, "plan": license.plan, "license": license, "key": key, "issued": True}
    send_on_commit("license-key", to=license.owner.email, context=context)


def send_member_removed(*, user: User, team: Team, by: User) -> None:
    send_on_commit("team-member-removed", to=user.email, context={"user": user, "team": team, "by": by})


def send_seat_limit_exceeded(*, license: License, excess: int) -> None:
    send_on_commit(
        "team-seat-limit-exceeded",
        to=license.owner.email,
        context={
            "user": license.owner,
            "license": license,
            "plan": license.plan,
            "excess": excess,
            "seats": license.seats_total,
            "team_url": settings.SITE_URL + reverse("teams:detail"),
        },
    )

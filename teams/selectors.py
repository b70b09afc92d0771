"""Teams' read side, shared by the team page, the team API, the services and billing; each query
is scoped to the user, the team or the license it is for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from licensing.models import VALID_CODES, License, LicenseKey, ValidationCode, stale_cutoff
from teams.models import Invitation, Membership, Role, Team


@dataclass(frozen=True)
class Seats:
    total: int
    keys: int
    pending: int

    @property
    def used(self) -> int:
        return self.keys + self.pending

    @property
    def free(self) -> int:
        return max(self.total - self.used, 0)

    @property
    def all_taken(self) -> str:
        """A full team, in words that fit its number of seats (no "All 1 seats")."""
        return (
            "This team's only seat is taken"
            if self.total == 1
            else f"All {self.total} seats of this team are taken"
        )


def seats_count(*, license: License, now: datetime | None = None) -> Seats:
    """The license's seats: active keys and the pending invitations of its team (each holds one)."""
    keys = LicenseKey.objects.filter(license=license).active().count()
    pending = Invitation.objects.filter(team__license=license).pending(now)
    return Seats(total=license.seats_total, keys=keys, pending=pending.count())


def seats_in_use(*, license: License) -> int:
    """Active keys on the license plus pending invitations of its team (billing's downgrade check)."""
    return seats_count(license=license).used


def invitation_for_digest(digest: str) -> Invitation | None:
    """The invitation a link points at, whatever its state (the join page explains each), by the
    token's digest (what the session keeps of a link opened before login)."""
    return (
        Invitation.objects.filter(token_digest=digest)
        .select_related("team__license__plan", "team__license__owner", "invited_by")
        .first()
    )


def memberships_of(user) -> QuerySet[Membership]:
    """The user's own memberships, owned teams first."""
    if not user.is_authenticated:
        return Membership.objects.none()
    return (
        Membership.objects.filter(user=user)
        .select_related("team__license__plan", "team__license__owner")
        .annotate(
            owned=Case(When(role=Role.OWNER, then=Value(0)), default=Value(1), output_field=IntegerField())
        )
        .order_by("owned", "created_at")
    )


def live_first(memberships) -> list[Membership]:
    """Memberships of teams whose license works now before those of ended ones (a returning
    customer's old team, a team whose subscription stopped), keeping their order otherwise."""
    now = timezone.now()
    memberships = list(memberships)
    for membership in memberships:
        membership.team_is_live = membership.team.license.state(now) in VALID_CODES
    return sorted(memberships, key=lambda m: not m.team_is_live)


def membership_for(user, team_id=None) -> Membership | None:
    """The user's membership in the chosen team (by public id), else in their first live team
    (owned first), else in their first team.

    A team the user does not belong to is a 404: it is never told apart from no team at all.
    """
    memberships = memberships_of(user)
    if team_id is None:
        return next(iter(live_first(memberships)), None)
    membership = memberships.filter(team__public_id=team_id).first()
    if membership is None:
        raise Http404("No such team.")
    return membership


def members_with_keys(team: Team) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(team=team)
        .select_related("user", "key")
        .annotate(
            devices_used=Count("key__devices", filter=Q(key__devices__last_heartbeat_at__gte=stale_cutoff()))
        )
        .order_by(
            Case(
                When(role=Role.OWNER, then=Value(0)), When(role=Role.ADMIN, then=Value(1)), default=Value(2)
            ),
            "created_at",
        )
    )


def open_invitations(team: Team) -> QuerySet[Invitation]:
    return Invitation.objects.filter(team=team).open().select_related("invited_by").order_by("-sent_at")


@dataclass
class TeamView:
    """What one user may see of one team: managers see everyone, members see themselves."""

    membership: Membership
    seats: Seats
    members: list[Membership] = field(default_factory=list)
    invitations: list[Invitation] = field(default_factory=list)
    other_teams: list[Membership] = field(default_factory=list)

    @property
    def team(self) -> Team:
        return self.membership.team

    @property
    def can_manage(self) -> bool:
        return self.membership.can_manage

    @property
    def license_problem(self) -> str:
        """Why the team's keys do not work right now, or "" when they do."""
        code = self.team.license.state(timezone.now())
        return "" if code in VALID_CODES else ValidationCode(code).label


def team_view(membership: Membership, *, user) -> TeamView:
    """The team page's data in a fixed number of queries, whatever the team's size."""
    team = membership.team
    members = members_with_keys(team)
    if not membership.can_manage:
        members = members.filter(pk=membership.pk)
    members = list(members)
    for member in members:
        member.team = team
    own = next((m for m in members if m.pk == membership.pk), membership)
    return TeamView(
        membership=own,
        seats=seats_count(license=team.license),
        members=members,
        invitations=list(open_invitations(team)) if membership.can_manage else [],
        other_teams=[m for m in live_first(memberships_of(user)) if m.team_id != team.pk],
    )

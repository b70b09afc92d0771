"""The last seat under concurrency, on PostgreSQL with real transactions and threads."""

import threading

import pytest
from django.db import connection, connections

from accounts.tests.factories import UserFactory
from licensing.models import LicenseKey
from teams import services
from teams.tests.factories import InvitationFactory, MembershipFactory, TeamFactory

pytestmark = pytest.mark.django_db(transaction=True)

# Enough threads that, without the row lock, several would count the same free seat.
RACERS = 8


def _race(*calls):
    """Run the calls at the same moment in their own threads (own connections); collect outcomes."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def _split(outcomes):
    errors = [o for o in outcomes if isinstance(o, Exception)]
    return [o for o in outcomes if not isinstance(o, Exception)], errors


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the race needs PostgreSQL row locks")


def test_people_joining_by_code_for_the_last_seat_at_once_one_wins():
    team = TeamFactory()
    MembershipFactory.create_batch(3, team=team)  # 4 of 5 seats
    code = services.team_code_regenerate(team=team, by=team.license.owner).code
    users = UserFactory.create_batch(RACERS)

    outcomes = _race(
        *[(lambda user=user: services.team_join_by_code(code=code, user=user)) for user in users]
    )

    joined, errors = _split(outcomes)
    assert len(joined) == 1, outcomes
    assert all(isinstance(error, services.SeatLimitReached) for error in errors), outcomes
    assert "All 5 seats" in str(errors[0])
    assert LicenseKey.objects.filter(license=team.license).active().count() == 5


def test_two_invitations_accepted_at_once_for_the_last_seat_one_wins():
    """After the seats went down, two pending invitations compete for one free seat."""
    team = TeamFactory()
    MembershipFactory.create_batch(2, team=team)  # 3 keys
    invitations = InvitationFactory.create_batch(2, team=team)  # 5 of 5 seats
    team.license.seats = 4
    team.license.save()
    users = [UserFactory(email=invitation.email) for invitation in invitations]

    outcomes = _race(
        *[
            (lambda inv=inv, user=user: services.invitation_accept(token=inv.token, user=user))
            for inv, user in zip(invitations, users, strict=True)
        ]
    )

    joined, errors = _split(outcomes)
    assert len(joined) == 1, outcomes
    assert len(errors) == 1 and isinstance(errors[0], services.SeatLimitReached), outcomes
    assert "cannot be accepted now" in str(errors[0])
    assert LicenseKey.objects.filter(license=team.license).active().count() == 4


def test_an_invitation_and_a_code_join_race_for_the_last_seat_one_wins():
    team = TeamFactory()
    MembershipFactory.create_batch(3, team=team)  # 4 keys of 5
    code = services.team_code_regenerate(team=team, by=team.license.owner).code
    invited = services.team_invite_member(team=team, email="late@example.com", by=team.license.owner)
    invitee = UserFactory(email="late@example.com")
    walker = UserFactory()

    outcomes = _race(
        lambda: services.invitation_accept(token=invited.token, user=invitee),
        lambda: services.team_join_by_code(code=code, user=walker),
    )

    # The pending invitation held the seat, so the invitee wins whichever thread runs first.
    assert not isinstance(outcomes[0], Exception), outcomes
    assert isinstance(outcomes[1], services.SeatLimitReached), outcomes
    assert LicenseKey.objects.filter(license=team.license).active().count() == 5

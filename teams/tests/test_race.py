"""The last seat under concurrency, on PostgreSQL with real transactions and threads."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from accounts.tests.factories import UserFactory
from licensing.models import LicenseKey
from teams import selectors, services
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


def _hold(call):
    """Run `call` in a thread of its own inside a transaction left open until `release` is set."""
    done, release, result = threading.Event(), threading.Event(), {}

    def run():
        try:
            with transaction.atomic():
                result["outcome"] = call()
                done.set()
                release.wait(timeout=30)
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            result["outcome"] = exc
        finally:
            done.set()
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    assert done.wait(timeout=30)
    assert not isinstance(result.get("outcome"), Exception), result
    return thread, release, result


def _start(call):
    """Start `call` in a thread of its own; returns its state (backend pid, outcome, done)."""
    state = {"done": threading.Event(), "pid": None}
    ready = threading.Event()

    def run():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                state["pid"] = cursor.fetchone()[0]
            ready.set()
            state["outcome"] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            state["outcome"] = exc
        finally:
            ready.set()
            state["done"].set()
            connections.close_all()

    state["thread"] = threading.Thread(target=run)
    state["thread"].start()
    assert ready.wait(timeout=30)
    return state


def _waits_for_a_lock(state) -> bool:
    """True once the thread's connection waits on a lock; False if it finished without waiting."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if state["done"].is_set():
            return False
        with connection.cursor() as cursor:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [state["pid"]])
            row = cursor.fetchone()
        if row and row[0] == "Lock":
            return True
        time.sleep(0.01)
    raise AssertionError("the second workflow neither finished nor waited on a lock")


def test_a_code_join_while_the_last_seat_is_being_invited_waits_and_is_refused():
    """The invitation is written but not yet committed when someone joins by code: without the
    license lock the join would count no pending invitation and take the seat as well."""
    team = TeamFactory()
    MembershipFactory.create_batch(3, team=team)  # 4 keys of 5
    code = services.team_code_regenerate(team=team, by=team.license.owner).code
    walker = UserFactory()

    inviting, release, _ = _hold(
        lambda: services.team_invite_member(team=team, email="late@example.com", by=team.license.owner)
    )
    joining = _start(lambda: services.team_join_by_code(code=code, user=walker))
    waited = _waits_for_a_lock(joining)
    release.set()
    inviting.join(timeout=30)
    joining["thread"].join(timeout=30)

    assert isinstance(joining["outcome"], services.SeatLimitReached), joining["outcome"]
    assert waited
    seats = selectors.seats_count(license=team.license)
    assert (seats.keys, seats.pending) == (4, 1)


def test_a_code_join_while_the_invitee_is_accepting_waits_and_is_refused():
    """The pending invitation holds the last seat; the invitee is accepting it (not yet committed)
    when someone joins by code: the join waits for the accept, then finds every seat taken."""
    team = TeamFactory()
    MembershipFactory.create_batch(3, team=team)  # 4 keys of 5
    code = services.team_code_regenerate(team=team, by=team.license.owner).code
    invited = services.team_invite_member(team=team, email="late@example.com", by=team.license.owner)
    invitee = UserFactory(email="late@example.com")
    walker = UserFactory()

    accepting, release, accepted = _hold(
        lambda: services.invitation_accept(token=invited.token, user=invitee)
    )
    joining = _start(lambda: services.team_join_by_code(code=code, user=walker))
    waited = _waits_for_a_lock(joining)
    release.set()
    accepting.join(timeout=30)
    joining["thread"].join(timeout=30)

    assert accepted["outcome"].user == invitee
    assert isinstance(joining["outcome"], services.SeatLimitReached), joining["outcome"]
    assert waited, "the code join did not wait for the accept holding the license"
    assert LicenseKey.objects.filter(license=team.license).active().count() == 5

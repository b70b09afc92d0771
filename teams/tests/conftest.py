import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from teams.models import Role
from teams.tests.factories import MembershipFactory, TeamFactory


@pytest.fixture(autouse=True)
def clear_cache():
    """Rate-limit windows and validation counters live in the cache; each test starts afresh."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def team(db):
    return TeamFactory()


@pytest.fixture
def owner(team):
    return team.license.owner


@pytest.fixture
def member_ship(team):
    return MembershipFactory(team=team)


@pytest.fixture
def member(member_ship):
    return member_ship.user


@pytest.fixture
def admin_ship(team):
    return MembershipFactory(team=team, role=Role.ADMIN)


@pytest.fixture
def outsider(db):
    """Owner of another team: has data of their own, must never see ours."""
    return TeamFactory().license.owner


def _api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def api_for():
    return _api

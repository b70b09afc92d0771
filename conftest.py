"""Fixtures shared by every app's tests. App-specific factories live in <app>/tests/factories.py."""

import pytest

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from billing.tests.factories import PlanFactory


@pytest.fixture
def password():
    return DEFAULT_PASSWORD


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def plan(db):
    return PlanFactory(slug="solo", name="Solo", seats=1, devices_per_seat=2, entitlements=["core"])


@pytest.fixture
def team_plan(db):
    return PlanFactory(
        slug="team",
        name="Team",
        access_level="team",
        seats=5,
        devices_per_seat=3,
        entitlements=["core", "collaboration", "priority_support"],
        monthly_amount=4900,
        yearly_amount=49000,
    )

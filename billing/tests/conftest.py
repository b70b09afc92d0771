"""Fixtures of the billing tests that drive the whole loop: the catalogue synced to the Stripe
simulator, signed webhooks into the real endpoint."""

import pytest
from django.core.management import call_command

from accounts.tests.factories import UserFactory


@pytest.fixture
def catalogue(stripe_simulator):
    call_command("seed_plans")
    call_command("sync_plans")
    return stripe_simulator


@pytest.fixture
def buyer(db):
    return UserFactory(email="buyer@example.com")

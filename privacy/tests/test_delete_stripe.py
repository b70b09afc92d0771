"""Deleting an account cancels what is pending in Stripe (through the simulator): a Checkout
session left open can no longer be paid; a live subscription refuses the deletion."""

import pytest
import stripe
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from billing.tests.lifecycle import buy, start_checkout

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def catalogue(stripe_simulator):
    call_command("seed_plans")
    call_command("sync_plans")
    return stripe_simulator


def test_an_open_checkout_is_expired_when_the_account_is_deleted(catalogue):
    user = UserFactory()
    client = Client()
    session_id = start_checkout(client, user, plan="solo", interval="month")
    assert stripe.checkout.Session.retrieve(session_id)["status"] == "open"
    response = client.post(reverse("account_delete"), {"password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert stripe.checkout.Session.retrieve(session_id)["status"] == "expired"
    with pytest.raises(Exception, match="expired"):
        catalogue.complete_checkout(session_id)


def test_a_live_stripe_subscription_refuses_deletion(catalogue):
    user = UserFactory()
    client = Client()
    license_ = buy(client, catalogue, user, plan="solo")
    response = client.post(reverse("account_delete"), {"password": DEFAULT_PASSWORD})
    assert response.status_code == 409
    assert "Cancel your subscription first; it ends on" in response.content.decode()
    user.refresh_from_db()
    assert user.is_active
    assert stripe.Subscription.retrieve(license_.stripe_subscription_id)["status"] == "active"

"""The Stripe simulator end to end: stripe-python against it, and its signed webhooks into the
real dj-stripe endpoint of a live server, where dj-stripe verifies and syncs them."""

import pytest
import stripe
from djstripe.models import Customer, Event, Invoice, Session, Subscription, WebhookEventTrigger


def make_catalogue():
    product = stripe.Product.create(name="Team")
    monthly = stripe.Price.create(
        product=product.id,
        currency="usd",
        unit_amount=4900,
        recurring={"interval": "month"},
        lookup_key="qb_team_monthly",
    )
    yearly = stripe.Price.create(
        product=product.id,
        currency="usd",
        unit_amount=49000,
        recurring={"interval": "year"},
        lookup_key="qb_team_yearly",
    )
    return product, monthly, yearly


def open_checkout(price, user):
    """As the app does it: one dj-stripe Customer per user, created before Checkout."""
    customer, _ = Customer.get_or_create(subscriber=user)
    return stripe.checkout.Session.create(
        mode="subscription",
        customer=customer.id,
        line_items=[{"price": price.id, "quantity": 1}],
        client_reference_id="1",
        metadata={"plan": "team", "interval": "month"},
        success_url="http://testserver/billing/success/?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="http://testserver/billing/cancel/",
    )


@pytest.mark.django_db(transaction=True)
def test_a_paid_checkout_reaches_dj_stripe_through_signed_webhooks(stripe_simulator, team_plan, user):
    _, monthly, _ = make_catalogue()
    session = open_checkout(monthly, user)
    mark = stripe_simulator.mark()

    stripe_simulator.complete_checkout(session.id)

    assert stripe_simulator.failed_deliveries() == []
    types = stripe_simulator.event_types(mark)
    assert types == [
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]
    session = stripe.checkout.Session.retrieve(session.id)
    assert Event.objects.filter(type="checkout.session.completed").exists()
    assert Customer.objects.filter(id=session.customer).exists()
    sub = Subscription.objects.get(id=session.subscription)
    assert sub.stripe_data["status"] == "active"
    assert sub.stripe_data["items"]["data"][0]["current_period_end"] > 0
    assert Invoice.objects.filter(customer__id=session.customer).exists()
    assert Session.objects.filter(id=session.id).exists()
    triggers = WebhookEventTrigger.objects.all()
    assert triggers.count() >= len(types)
    assert all(t.valid and t.processed for t in triggers)

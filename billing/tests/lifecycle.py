"""Steps of a customer's life with Stripe, as the tests drive them: through our pages, the
simulator's Stripe-side actions, and the validation API's answer at the end."""

import stripe
from django.core import mail
from django.urls import reverse

from licensing.models import License


def start_checkout(client, user, plan="team", interval="month") -> str:
    """Press Subscribe and continue to payment; returns the Checkout Session id."""
    client.force_login(user)
    response = client.post(f"{reverse('billing:subscribe', args=[plan])}?interval={interval}")
    assert response.status_code == 302, response.content[:500]
    assert "/checkout/" in response["Location"]
    return response["Location"].rstrip("/").rsplit("/", 1)[-1]


def buy(client, sim, user, plan="team", interval="month", deliver=True) -> License | None:
    session_id = start_checkout(client, user, plan, interval)
    sim.complete_checkout(session_id, deliver=deliver)
    return License.objects.filter(owner=user).first()


def validate(client, license_, **extra) -> dict:
    key = license_.keys.get(holder=license_.owner)
    response = client.post(
        "/api/v1/licenses/validate", {"key": key.reveal(), **extra}, content_type="application/json"
    )
    assert response.status_code == 200
    return response.json()


def subject_lines() -> list[str]:
    return [message.subject for message in mail.outbox]


def subscribe_in_stripe_dashboard(sim, license_: License, lookup_key: str = "qb_solo_monthly") -> License:
    """A second subscription for the same Stripe customer and card, made outside Checkout (the
    Stripe dashboard): no `user_id` in its metadata. Returns its license once the webhooks landed."""
    existing = stripe.Subscription.retrieve(license_.stripe_subscription_id)
    price = stripe.Price.list(lookup_keys=[lookup_key]).data[0]
    made = stripe.Subscription.create(
        customer=existing["customer"],
        items=[{"price": price["id"]}],
        default_payment_method=existing["default_payment_method"],
    )
    sim.flush()
    return License.objects.get(stripe_subscription_id=made["id"])


def preview_change(client, plan: str, interval: str):
    """Open the preview of a plan change (a GET: nothing is charged)."""
    return client.get(reverse("billing:change_preview"), {"plan": plan, "interval": interval})


def change_plan(client, plan: str, interval: str):
    """Preview a plan change and confirm it, as a customer does; returns the last response (the
    confirmation's, or the preview's when the preview refused the change)."""
    response = preview_change(client, plan, interval)
    if response.status_code != 200 or "preview" not in (response.context or {}):
        return response
    token = response.context["preview"].token
    return client.post(
        reverse("billing:change_confirm"), {"plan": plan, "interval": interval, "token": token}
    )

"""Steps of a customer's life with Stripe, as the tests drive them: through our pages, the
simulator's Stripe-side actions, and the validation API's answer at the end."""

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

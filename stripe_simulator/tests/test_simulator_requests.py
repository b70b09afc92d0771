"""How the simulator answers the requests themselves, over raw HTTP as Stripe's API is spoken
(form-encoded, Bearer key): required and not-modelled parameters, a card that is not the
customer's, list filters, Stripe's webhook signature and the test helper that expires a session.
No database: these need only the simulator."""

import hashlib
import hmac
import json

import pytest
import requests
import stripe
from django.conf import settings

from stripe_simulator import StripeError
from stripe_simulator.delivery import sign
from stripe_simulator.tests.test_simulator import make_catalogue, open_checkout


@pytest.fixture
def api(stripe_api, stripe_simulator_server):
    """`api("POST", "/v1/products", {...})` → (status, JSON), as stripe-python would send it."""

    def call(method: str, path: str, data: dict | None = None, key: str | None = None):
        response = requests.request(
            method,
            stripe_simulator_server.url + path,
            data=data,
            headers={"Authorization": f"Bearer {key or settings.STRIPE_SIMULATOR_API_KEY}"},
            timeout=5,
        )
        return response.status_code, response.json()

    return call


def customer_and_price():
    _, monthly, _ = make_catalogue()
    return stripe.Customer.create(email="owner@example.com"), monthly


@pytest.mark.parametrize(
    ("path", "data", "missing"),
    [
        ("/v1/products", {"description": "no name"}, "name"),
        ("/v1/prices", {"product": "prod_x", "unit_amount": "100"}, "currency"),
        ("/v1/prices", {"currency": "usd", "unit_amount": "100"}, "product"),
        ("/v1/prices", {"currency": "usd", "product": "prod_x"}, "unit_amount"),
        ("/v1/subscriptions", {"items[0][price]": "price_x"}, "customer"),
        ("/v1/billing_portal/sessions", {"return_url": "http://testserver/"}, "customer"),
        ("/v1/webhook_endpoints", {"enabled_events[0]": "*"}, "url"),
        ("/v1/webhook_endpoints", {"url": "http://testserver/hook/"}, "enabled_events"),
    ],
)
def test_a_missing_required_parameter_is_stripes_400_naming_it(api, path, data, missing):
    status, body = api("POST", path, data)
    assert status == 400
    assert body == {
        "error": {
            "message": f"Missing required param: {missing}.",
            "type": "invalid_request_error",
            "param": missing,
        }
    }


def test_a_price_of_zero_is_not_a_missing_amount(api):
    product = stripe.Product.create(name="Free")
    status, body = api("POST", "/v1/prices", {"product": product.id, "currency": "usd", "unit_amount": "0"})
    assert status == 200
    assert body["unit_amount"] == 0


def test_a_value_the_simulator_does_not_model_is_refused_loudly(api):
    customer, price = customer_and_price()
    refused = [
        (
            "/v1/prices",
            {"product": price.product, "currency": "usd", "unit_amount": "1", "billing_scheme": "tiered"},
        ),
        ("/v1/subscriptions", {"customer": customer.id, "collection_method": "send_invoice"}),
        ("/v1/checkout/sessions", {"mode": "subscription", "ui_mode": "embedded"}),
    ]
    for path, data in refused:
        status, body = api("POST", path, data)
        param = next(name for name in ("billing_scheme", "collection_method", "ui_mode") if name in data)
        assert status == 400, path
        assert body["error"]["param"] == param
        assert (
            body["error"]["message"]
            == f"Stripe simulator: only {param}="
            + {
                "billing_scheme": "per_unit",
                "collection_method": "charge_automatically",
                "ui_mode": "hosted",
            }[param]
            + " is modelled"
        )


def test_a_subscription_takes_only_a_card_attached_to_its_customer(stripe_api, api):
    customer, price = customer_and_price()
    stripe_api.attach_card(customer.id)
    stranger = stripe.Customer.create(email="stranger@example.com")
    strangers_card = stripe_api.attach_card(stranger.id)
    expected = {
        "message": f"The customer does not have a payment method with the ID {strangers_card['id']}. "
        "The payment method must be attached to the customer.",
        "type": "invalid_request_error",
        "param": "default_payment_method",
    }
    status, body = api(
        "POST",
        "/v1/subscriptions",
        {
            "customer": customer.id,
            "items[0][price]": price.id,
            "default_payment_method": strangers_card["id"],
        },
    )
    assert (status, body) == (400, {"error": expected})
    assert stripe.Subscription.list(customer=customer.id).data == []

    status, sub = api("POST", "/v1/subscriptions", {"customer": customer.id, "items[0][price]": price.id})
    assert status == 200
    status, body = api(
        "POST", f"/v1/subscriptions/{sub['id']}", {"default_payment_method": strangers_card["id"]}
    )
    assert (status, body) == (400, {"error": expected})
    assert stripe.Subscription.retrieve(sub["id"]).default_payment_method is None


def test_lists_filter_by_each_field_given(api):
    product = stripe.Product.create(name="Team")
    other = stripe.Product.create(name="Other")
    usd = stripe.Price.create(product=product.id, currency="usd", unit_amount=100)
    stripe.Price.create(product=product.id, currency="eur", unit_amount=100)
    stripe.Price.create(product=other.id, currency="usd", unit_amount=100)
    _, body = api("GET", f"/v1/prices?product={product.id}&currency=usd")
    assert [p["id"] for p in body["data"]] == [usd.id]
    _, body = api("GET", f"/v1/prices?product={product.id}")
    assert len(body["data"]) == 2
    stripe.Customer.create(email="a@example.com")
    b = stripe.Customer.create(email="b@example.com")
    _, body = api("GET", "/v1/customers?email=b@example.com")
    assert [c["id"] for c in body["data"]] == [b.id]


def test_the_webhook_signature_is_stripes_hmac_of_time_and_payload():
    payload = json.dumps({"id": "evt_1", "object": "event"})
    header = sign(payload, "whsec_test", 1_700_000_000)
    expected = hmac.new(b"whsec_test", f"1700000000.{payload}".encode(), hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    # stripe-python's own check accepts what the simulator signs now, and refuses another secret.
    assert stripe.WebhookSignature.verify_header(payload, sign(payload, "whsec_test"), "whsec_test")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(payload, sign(payload, "whsec_other"), "whsec_test")


def test_expire_checkout_expires_an_open_session_with_its_event(stripe_api):
    customer, price = customer_and_price()
    session = open_checkout(price, customer.id)
    mark = stripe_api.mark()
    expired = stripe_api.expire_checkout(session.id)
    assert (expired["id"], expired["status"], expired["url"]) == (session.id, "expired", None)
    assert [e["type"] for e in stripe_api.events(since=mark)] == ["checkout.session.expired"]
    with pytest.raises(StripeError, match="Only Checkout Sessions with a status"):
        stripe_api.expire_checkout(session.id)

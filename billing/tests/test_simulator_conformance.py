"""Every object the Stripe simulator returns has the fields and nesting of Stripe's own examples.

The reference is Stripe's published `fixtures3.json` (stripe/openapi), kept outside this project at
../shared/stripe/fixtures3.json. Where the folder is absent the test skips, except in CI
(CI=true), where a missing reference fails the run.

Comparison: every key of the example must be present, and no key may be added, recursively
through nested objects and the first element of lists. A null on either side matches anything
(Stripe's nullable sub-objects); an id string matches an expanded object. The few keys Stripe
returns that the examples happen to omit are listed in ALLOWED_EXTRA with the reason; metadata
holds the caller's own keys and is not compared.
"""

import json
import os
from pathlib import Path

import pytest
import stripe
from django.conf import settings

from billing.tests.test_simulator import make_catalogue

FIXTURES = Path(settings.BASE_DIR).parent / "shared" / "stripe" / "fixtures3.json"

FREE_FORM = {"metadata"}  # the caller's keys, not Stripe's
ALLOWED_EXTRA = {
    (
        "invoice",
        "lines.data[].pricing.price_details",
    ): "price-based lines carry price_details; the example omits it",
    ("event", "data.previous_attributes"): "sent with *.updated events; the example is a *.created event",
    ("webhook_endpoint", "secret"): "returned by the create call only",
}


def load_reference(path: Path) -> dict:
    if not path.exists():
        message = f"Stripe's example objects are not at {path} (../shared/stripe/fixtures3.json)."
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} CI must run the conformance test, not skip it.")
        pytest.skip(f"{message} Skipping the simulator conformance test outside CI.")
    return json.loads(path.read_text())["resources"]


@pytest.fixture(scope="module")
def reference():
    return load_reference(FIXTURES)


def differences(ours, ref, kind: str, path: str = "") -> list[str]:
    problems = []
    if ours is None or ref is None:
        return problems
    if isinstance(ref, dict) and isinstance(ours, dict):
        for key in ref:
            if key not in ours:
                problems.append(f"{kind}: missing {path}{key}")
        for key in ours:
            if key not in ref and (kind, f"{path}{key}") not in ALLOWED_EXTRA:
                problems.append(f"{kind}: unexpected {path}{key}")
        for key in ref.keys() & ours.keys() - FREE_FORM:
            problems += differences(ours[key], ref[key], kind, f"{path}{key}.")
    elif isinstance(ref, list) and isinstance(ours, list):
        if ref and isinstance(ref[0], dict):
            for element in ours:
                problems += differences(element, ref[0], kind, f"{path[:-1]}[].")
    elif isinstance(ref, dict) or isinstance(ours, dict):
        if not (isinstance(ref, str) or isinstance(ours, str)):  # an id matches an expanded object
            problems.append(f"{kind}: {path[:-1]} is {type(ours).__name__}, Stripe's is {type(ref).__name__}")
    elif isinstance(ref, list) != isinstance(ours, list):
        problems.append(f"{kind}: {path[:-1]} is {type(ours).__name__}, Stripe's is {type(ref).__name__}")
    return problems


def raw(obj) -> dict:
    return json.loads(str(obj))


def assert_conforms(reference, obj, kind: str | None = None):
    data = raw(obj) if not isinstance(obj, dict) else obj
    kind = kind or data["object"]
    if kind == "event":  # the example event carries a plan; compare the payload with its own kind
        inner = data["data"]["object"]
        envelope = {**data, "data": {**data["data"], "object": None}}
        problems = differences(envelope, reference["event"], "event")
        problems += [
            f"event data.object: {p}" for p in differences(inner, reference[inner["object"]], inner["object"])
        ]
    else:
        problems = differences(data, reference[kind], kind)
    assert problems == []


@pytest.fixture
def lifecycle(stripe_api):
    """Objects in every state the app meets: created, paid, past due, changed, canceled."""
    sim = stripe_api
    product, monthly, yearly = make_catalogue()
    customer = stripe.Customer.create(
        email="owner@example.com", name="Owner", metadata={"djstripe_subscriber": 1}
    )
    session = stripe.checkout.Session.create(
        mode="subscription",
        customer=customer.id,
        line_items=[{"price": monthly.id, "quantity": 1}],
        client_reference_id="1",
        metadata={"plan": "team"},
        success_url="https://example.com/s?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="https://example.com/c",
    )
    open_session = stripe.checkout.Session.create(
        mode="subscription",
        customer_email="new@example.com",
        line_items=[{"price": yearly.id, "quantity": 1}],
        success_url="https://example.com/s",
        cancel_url="https://example.com/c",
    )
    sim.complete_checkout(session.id)
    sub_id = stripe.checkout.Session.retrieve(session.id).subscription
    sim.fail_payment(sub_id)
    sim.retry_payment(sub_id)
    stripe.Subscription.modify(
        sub_id,
        items=[{"id": stripe.Subscription.retrieve(sub_id)["items"].data[0].id, "price": yearly.id}],
        proration_behavior="always_invoice",
    )
    sim.cancel_at_period_end(sub_id)
    return {
        "sim": sim,
        "product": product,
        "monthly": monthly,
        "customer": customer,
        "session": session,
        "open_session": open_session,
        "sub_id": sub_id,
    }


def test_the_reference_file_is_stripes_examples(reference):
    assert {
        "subscription",
        "subscription_item",
        "checkout.session",
        "invoice",
        "customer",
        "price",
        "product",
        "billing_portal.session",
        "event",
        "account",
        "webhook_endpoint",
    } <= set(reference)


def test_account_customer_product_and_price_conform(reference, lifecycle):
    assert_conforms(reference, stripe.Account.retrieve())
    assert_conforms(reference, stripe.Customer.retrieve(lifecycle["customer"].id))
    assert_conforms(reference, stripe.Product.retrieve(lifecycle["product"].id))
    assert_conforms(reference, stripe.Price.retrieve(lifecycle["monthly"].id))
    for obj in stripe.Price.list(lookup_keys=["qb_team_monthly", "qb_team_yearly"]).data:
        assert_conforms(reference, obj)


def test_checkout_sessions_conform_open_and_complete(reference, lifecycle):
    assert_conforms(reference, stripe.checkout.Session.retrieve(lifecycle["open_session"].id))
    assert_conforms(reference, stripe.checkout.Session.retrieve(lifecycle["session"].id))
    expanded = raw(stripe.checkout.Session.retrieve(lifecycle["session"].id, expand=["line_items"]))
    for item in expanded["line_items"]["data"]:
        assert_conforms(reference, item, "item")


def test_subscriptions_and_their_items_conform(reference, lifecycle):
    sub = stripe.Subscription.retrieve(lifecycle["sub_id"])
    assert_conforms(reference, sub)
    assert_conforms(reference, stripe.SubscriptionItem.retrieve(sub["items"].data[0].id))
    expanded = raw(stripe.Subscription.retrieve(lifecycle["sub_id"], expand=["latest_invoice", "customer"]))
    assert_conforms(reference, expanded["latest_invoice"])
    assert_conforms(reference, expanded["customer"])
    lifecycle["sim"].cancel_now(lifecycle["sub_id"])
    assert_conforms(reference, stripe.Subscription.retrieve(lifecycle["sub_id"]))


def test_invoices_conform_paid_failed_prorated_and_previewed(reference, lifecycle):
    invoices = stripe.Invoice.list(customer=lifecycle["customer"].id, limit=100).data
    assert {i.billing_reason for i in invoices} == {
        "subscription_create",
        "subscription_cycle",
        "subscription_update",
    }
    for invoice in invoices:
        assert_conforms(reference, stripe.Invoice.retrieve(invoice.id))
        assert raw(invoice)["parent"]["subscription_details"]["subscription"] == lifecycle["sub_id"]
    lifecycle["sim"].resume(lifecycle["sub_id"])
    assert_conforms(reference, stripe.Invoice.create_preview(subscription=lifecycle["sub_id"]))


def test_portal_sessions_webhook_endpoints_and_events_conform(reference, lifecycle):
    portal = stripe.billing_portal.Session.create(
        customer=lifecycle["customer"].id, return_url="https://e.com/b"
    )
    assert_conforms(reference, portal)
    endpoint = stripe.WebhookEndpoint.create(url="https://example.com/hook", enabled_events=["plan.created"])
    assert raw(endpoint)["secret"].startswith("whsec_")
    assert_conforms(reference, endpoint)
    assert_conforms(reference, stripe.WebhookEndpoint.retrieve(endpoint.id))
    events = lifecycle["sim"].events()
    assert {e["type"] for e in events} >= {
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice.payment_failed",
        "customer.created",
        "product.created",
        "price.created",
    }
    for event in events:
        assert_conforms(reference, event)
    assert_conforms(reference, stripe.Event.retrieve(events[-1]["id"]))


def test_deleted_objects_conform(reference, lifecycle):
    endpoint = stripe.WebhookEndpoint.create(url="https://example.com/hook", enabled_events=["plan.created"])
    assert_conforms(reference, stripe.WebhookEndpoint.delete(endpoint.id), "deleted_webhook_endpoint")
    assert_conforms(reference, stripe.Customer.delete(lifecycle["customer"].id), "deleted_customer")


def test_a_missing_reference_skips_outside_ci_and_fails_in_ci(tmp_path, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        load_reference(tmp_path / "fixtures3.json")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        load_reference(tmp_path / "fixtures3.json")


def test_the_comparison_catches_missing_added_and_reshaped_fields():
    ref = {"a": 1, "b": {"c": 1}, "items": [{"d": 1}], "metadata": {}}
    assert differences({"a": 1, "b": {"c": 2}, "items": [{"d": 2}], "metadata": {"x": "1"}}, ref, "k") == []
    assert differences({"b": {"c": 1}, "items": [], "metadata": {}}, ref, "k") == ["k: missing a"]
    assert differences({**ref, "z": 1}, ref, "k") == ["k: unexpected z"]
    assert differences({**ref, "b": {"c": 1, "e": 2}}, ref, "k") == ["k: unexpected b.e"]
    assert differences({**ref, "items": [{"d": 1, "e": 2}]}, ref, "k") == ["k: unexpected items[].e"]
    assert differences({**ref, "b": [1]}, ref, "k") == ["k: b is list, Stripe's is dict"]

"""Every object the Stripe simulator returns has the fields and nesting of Stripe's own examples.

The reference is Stripe's published `fixtures3.json` (stripe/openapi), kept outside this project at
../shared/stripe/fixtures3.json. Where the folder is absent the test skips, except in CI
(CI=true), where a missing reference fails the run.

Comparison: every key of the example must be present, and no key may be added, recursively
through nested objects and the first element of lists. Scalars must have the example's JSON type
(a number where Stripe has a string fails; a boolean is not a number). A null in Stripe's example
matches anything (a nullable field); a null here where the example has a value fails unless the
field is documented nullable and listed, with the reason, in ALLOWED_NULL. An id string matches
an expanded object. The few keys Stripe returns that the examples happen to omit are listed in
ALLOWED_EXTRA with the reason; metadata holds the caller's own keys and is not compared.
"""

import json
import os
import typing
from pathlib import Path

import pytest
import stripe
from django.conf import settings

from stripe_simulator.tests.test_simulator import make_catalogue

FIXTURES = Path(settings.BASE_DIR).parent / "shared" / "stripe" / "fixtures3.json"

FREE_FORM = {"metadata"}  # the caller's keys, not Stripe's
ALLOWED_EXTRA = {
    ("line_item", "pricing.price_details"): "price-based lines carry price_details; the example omits it",
    ("invoice", "payments"): "includable: present only with expand[]=payments",
    **{
        ("payment_intent", f"last_payment_error.{key}"): "the example error has only its type; a card "
        "decline carries these (spec: api_errors)"
        for key in ("charge", "code", "decline_code", "doc_url", "message", "payment_method")
    },
    ("event", "data.previous_attributes"): "sent with *.updated events; the example is a *.created event",
    ("webhook_endpoint", "secret"): "returned by the create call only",
    ("invoice_payment", "payment.payment_intent"): "the example names the type only; a payment_intent "
    "payment carries its id (spec: invoices_payments_invoice_payment_associated_payment)",
}
# Fields null here while Stripe's example shows a value, per kind (nested objects such as an item's
# price are held to their own kind). Each is documented nullable - stripe-python 15.6.2, generated
# from Stripe's spec, types it Optional[...], which test_every_allowed_null_is_documented_nullable
# checks - and null in the states the simulator models.
ALLOWED_NULL = {
    # account: the simulated account has no revenue figures, support address or open requirement
    "account": {
        "business_profile.annual_revenue",
        "business_profile.support_address",
        "requirements.disabled_reason",
    },
    # billing_portal.session: no deep-link flow
    "billing_portal.session": {"flow"},
    # charge: card payments made off-session: no 3-D Secure, wallet, installments, shipping, legacy source
    # or Connect transfer; a declined charge moves no money (no balance transaction)
    "charge": {
        "balance_transaction",
        "payment_method_details.card.installments",
        "payment_method_details.card.three_d_secure",
        "payment_method_details.card.wallet",
        "shipping",
        "source",
        "transfer_data",
    },
    # checkout.session: hosted subscription-mode sessions without the optional features (consent, custom
    # text, shipping, invoice creation...); details and the url depend on the state
    "checkout.session": {
        "after_expiration",
        "automatic_tax.liability",
        "collected_information",
        "consent",
        "consent_collection",
        "currency_conversion",
        "custom_text.after_submit",
        "custom_text.shipping_address",
        "custom_text.submit",
        "custom_text.terms_of_service_acceptance",
        "customer_details",
        "customer_details.address",
        "invoice_creation",
        "payment_intent",
        "payment_method_configuration_details",
        "permissions",
        "shipping_address_collection",
        "shipping_cost",
        "url",
        "wallet_options",
    },
    # customer: customers created by the app have no address, shipping, discount or rendering options
    "customer": {"address", "currency", "discount", "invoice_settings.rendering_options", "shipping"},
    # invoice: subscription invoices without tax, shipping, quotes, rendering or due date
    # (charge_automatically); set only in the states that have them
    "invoice": {
        "automatic_tax.liability",
        "customer_address",
        "customer_shipping",
        "due_date",
        "effective_at",
        "from_invoice",
        "last_finalization_error",
        "next_payment_attempt",
        "parent.quote_details",
        "payment_settings.payment_method_options",
        "rendering",
        "shipping_cost",
        "shipping_details",
    },
    # item: fixed-quantity Checkout line items with plain per-unit prices
    "item": {"adjustable_quantity"},
    "line_item": {
        "parent.invoice_item_details",
        "parent.subscription_item_details.proration_details.credited_items",
    },
    # payment_intent: off-session invoice payments: no automatic payment methods, shipping, next action or
    # error until a state has one
    "payment_intent": {
        "automatic_payment_methods",
        "canceled_at",
        "last_payment_error",
        "next_action",
        "payment_method_configuration_details",
        "processing",
        "shipping",
        "transfer_data",
    },
    # payment_method: cards saved without a billing address or phone; not from a wallet or a charge
    "payment_method": {
        "billing_details.address.city",
        "billing_details.address.country",
        "billing_details.address.line1",
        "billing_details.address.postal_code",
        "billing_details.address.state",
        "billing_details.phone",
        "card.generated_from",
        "card.wallet",
    },
    "plan": {"transform_usage"},
    # price: plain per-unit prices
    "price": {"custom_unit_amount", "transform_quantity"},
    # product: products without description, dimensions or default price
    "product": {"default_price", "description", "package_dimensions"},
    # subscription: single-price subscriptions without thresholds, transfers or pause; trial, pending update
    # and end dates set only in the states that have them
    "subscription": {
        "automatic_tax.liability",
        "billing_cycle_anchor_config",
        "billing_mode.flexible",
        "billing_thresholds",
        "cancel_at",
        "canceled_at",
        "ended_at",
        "next_pending_invoice_item_invoice",
        "pause_collection",
        "payment_settings.payment_method_options",
        "pending_invoice_item_interval",
        "pending_update",
        "pending_update.discount",
        "transfer_data",
        "trial_end",
        "trial_start",
    },
    # subscription_item: items without billing thresholds
    "subscription_item": {"billing_thresholds"},
    # webhook_endpoint: endpoints created without a description
    "webhook_endpoint": {"description"},
}


KIND_CLASS = {
    "account": stripe.Account,
    "balance_transaction": stripe.BalanceTransaction,
    "billing_portal.session": stripe.billing_portal.Session,
    "charge": stripe.Charge,
    "checkout.session": stripe.checkout.Session,
    "customer": stripe.Customer,
    "dispute": stripe.Dispute,
    "invoice": stripe.Invoice,
    "invoice_payment": stripe.InvoicePayment,
    "item": stripe.LineItem,
    "line_item": stripe.InvoiceLineItem,
    "payment_intent": stripe.PaymentIntent,
    "payment_method": stripe.PaymentMethod,
    "plan": stripe.Plan,
    "price": stripe.Price,
    "product": stripe.Product,
    "refund": stripe.Refund,
    "subscription": stripe.Subscription,
    "subscription_item": stripe.SubscriptionItem,
    "webhook_endpoint": stripe.WebhookEndpoint,
}


def _annotation(cls, name):
    for klass in cls.__mro__:
        if name in getattr(klass, "__annotations__", {}):
            return klass.__annotations__[name]
    return None


def _class_of(annotation, owner):
    """The class an annotation names through Optional[...], ExpandableField[...], ListObject[...]."""
    if isinstance(annotation, str):
        annotation = typing.ForwardRef(annotation)
    if isinstance(annotation, typing.ForwardRef):
        name = annotation.__forward_arg__
        return getattr(owner, name, None) or getattr(stripe, name, None)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Union and len(args) > 1:  # ExpandableField: str | X
        args = [a for a in args if a is not str]
    return _class_of(args[-1], owner) if args else annotation


def documented_nullable(kind: str, path: str) -> bool:
    """Whether stripe-python's typed resource declares the field Optional (nullable in the spec)."""
    cls = KIND_CLASS[kind]
    parts = path.split(".")
    for index, part in enumerate(parts):
        annotation = _annotation(cls, part)
        if annotation is None:
            return False
        if index == len(parts) - 1:
            return typing.get_origin(annotation) is typing.Union and type(None) in typing.get_args(annotation)
        cls = _class_of(annotation, cls)
        if not isinstance(cls, type):
            return False
    return False


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


def json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: True is an int to Python, not to JSON
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def differences(ours, ref, kind: str, path: str = "") -> list[str]:
    where = path[:-1]
    if ref is None:  # null in Stripe's example: a nullable field, any value
        return []
    if ours is None:
        if where in ALLOWED_NULL.get(kind, ()):
            return []
        return [f"{kind}: {where} is null, Stripe's example is {json_type(ref)}"]
    problems = []
    if isinstance(ref, dict) and isinstance(ours, dict):
        nested = ours.get("object")
        if path and isinstance(nested, str) and nested not in (kind, "list"):
            kind, path = nested, ""  # a nested object (an item's price...) is held to its own kind
        for key in ref:
            if key not in ours:
                problems.append(f"{kind}: missing {path}{key}")
        for key in ours:
            if key not in ref and (kind, f"{path}{key}") not in ALLOWED_EXTRA:
                problems.append(f"{kind}: unexpected {path}{key}")
        for key in ref.keys() & ours.keys() - FREE_FORM:
            problems += differences(ours[key], ref[key], kind, f"{path}{key}.")
    elif isinstance(ref, list) and isinstance(ours, list):
        if ref:
            for element in ours:
                problems += differences(element, ref[0], kind, f"{path[:-1]}[].")
    elif {json_type(ours), json_type(ref)} == {"object", "string"}:
        pass  # an id where Stripe's example has the expanded object, or the other way round
    elif json_type(ours) != json_type(ref):
        problems.append(f"{kind}: {where} is {json_type(ours)}, Stripe's is {json_type(ref)}")
    return problems


def raw(obj) -> dict:
    return json.loads(str(obj))


def assert_conforms(reference, obj, kind: str | None = None):
    data = raw(obj) if not isinstance(obj, dict) else obj
    kind = kind or data["object"]
    if kind == "event":  # the example event carries a plan; compare the payload with its own kind
        inner = data["data"]["object"]
        envelope = {**data, "data": {**data["data"], "object": reference["event"]["data"]["object"]}}
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


@pytest.fixture
def payments(lifecycle):
    """Payments in every state: paid and declined charges, a partial refund, disputes won and
    open, a pending update, an API-created subscription on trial, a deleted customer."""
    sim = lifecycle["sim"]
    sub_id = lifecycle["sub_id"]
    invoices = stripe.Invoice.list(subscription=sub_id, status="paid", limit=100).data
    sim.refund(invoices[0].id, 1000)
    won = sim.dispute(invoices[1].id)
    sim.close_dispute(won["id"], won=True)
    sim.resume(sub_id)
    sim.renew(sub_id)
    open_dispute = sim.dispute(stripe.Subscription.retrieve(sub_id).latest_invoice, reason="general")
    item = stripe.Subscription.retrieve(sub_id)["items"].data[0]
    sim.fail_next_payments(1)
    pending = stripe.Subscription.modify(
        sub_id,
        items=[{"id": item.id, "quantity": 3}],
        proration_behavior="always_invoice",
        payment_behavior="pending_if_incomplete",
    )
    other = stripe.Customer.create(email="trial@example.com")
    trial = stripe.Subscription.create(
        customer=other.id, items=[{"price": lifecycle["monthly"].id}], trial_period_days=14
    )
    gone = stripe.Customer.create(email="gone@example.com")
    sim.delete_customer(gone.id)
    return {**lifecycle, "pending": pending, "trial": trial, "gone": gone, "open_dispute": open_dispute}


def test_charges_payment_intents_and_invoice_payments_conform(reference, payments):
    charges = stripe.Charge.list(customer=payments["customer"].id, limit=100).data
    assert {c.status for c in charges} == {"succeeded", "failed"}
    assert any(c.refunded is False and c.amount_refunded for c in charges)
    for charge in charges:
        assert_conforms(reference, stripe.Charge.retrieve(charge.id))
        intent = stripe.PaymentIntent.retrieve(charge.payment_intent)
        assert_conforms(reference, intent)
        for payment in stripe.InvoicePayment.list(
            payment={"type": "payment_intent", "payment_intent": intent.id}
        ).data:
            assert_conforms(reference, payment)
    expanded = raw(stripe.Invoice.retrieve(payments["pending"].latest_invoice, expand=["payments"]))
    assert_conforms(reference, expanded)
    for payment in expanded["payments"]["data"]:
        assert_conforms(reference, payment)
    txn = raw(stripe.Charge.retrieve(charges[-1].id, expand=["balance_transaction"]))["balance_transaction"]
    assert_conforms(reference, txn)
    method = stripe.PaymentMethod.retrieve(charges[0].payment_method)
    assert_conforms(reference, method)


def test_refunds_and_disputes_conform(reference, payments):
    refunds = stripe.Refund.list(limit=100).data
    assert refunds
    for refund in refunds:
        assert_conforms(reference, stripe.Refund.retrieve(refund.id))
    disputes = stripe.Dispute.list(limit=100).data
    assert {d.status for d in disputes} == {"won", "needs_response"}
    for dispute in disputes:
        assert_conforms(reference, stripe.Dispute.retrieve(dispute.id))
    assert_conforms(reference, stripe.Dispute.close(payments["open_dispute"]["id"]))


def test_a_subscription_with_a_pending_update_and_one_on_trial_conform(reference, payments):
    sub = stripe.Subscription.retrieve(payments["sub_id"])
    assert sub.pending_update is not None
    assert_conforms(reference, sub)
    for item in raw(sub)["pending_update"]["subscription_items"]:
        assert_conforms(reference, item, "subscription_item")
    trial = stripe.Subscription.retrieve(payments["trial"].id)
    assert trial.status == "trialing"
    assert_conforms(reference, trial)
    assert_conforms(reference, stripe.Invoice.retrieve(trial.latest_invoice))


def test_a_deleted_customer_conforms(reference, payments):
    assert_conforms(reference, raw(stripe.Customer.retrieve(payments["gone"].id)), "deleted_customer")


def test_every_event_of_the_payments_conforms(reference, payments):
    events = payments["sim"].events()
    assert {e["type"] for e in events} >= {
        "payment_intent.created",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "charge.succeeded",
        "charge.failed",
        "charge.refunded",
        "refund.created",
        "invoice_payment.paid",
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.closed",
        "charge.dispute.funds_reinstated",
        "payment_method.attached",
        "customer.deleted",
    }
    for event in events:
        if event["type"] == "customer.deleted":
            continue  # its payload is the customer as it was, compared with "customer" below
        assert_conforms(reference, event)


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
        "charge",
        "refund",
        "dispute",
        "payment_intent",
        "invoice_payment",
        "deleted_customer",
        "balance_transaction",
        "payment_method",
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
    assert differences({**ref, "b": [1]}, ref, "k") == ["k: b is array, Stripe's is object"]


def test_the_comparison_checks_scalar_types_and_nulls():
    ref = {"n": 1, "s": "x", "b": True, "o": {"k": 1}, "z": None, "l": ["x"]}
    assert differences({**ref, "z": {"any": "thing"}}, ref, "k") == []
    assert differences({**ref, "n": "1"}, ref, "k") == ["k: n is string, Stripe's is number"]
    assert differences({**ref, "s": 1}, ref, "k") == ["k: s is number, Stripe's is string"]
    assert differences({**ref, "b": 1}, ref, "k") == ["k: b is number, Stripe's is boolean"]
    assert differences({**ref, "n": True}, ref, "k") == ["k: n is boolean, Stripe's is number"]
    assert differences({**ref, "n": 1.5}, ref, "k") == []
    assert differences({**ref, "l": [2]}, ref, "k") == ["k: l[] is number, Stripe's is string"]
    assert differences({**ref, "o": None}, ref, "k") == ["k: o is null, Stripe's example is object"]
    assert differences({**ref, "s": None}, ref, "k") == ["k: s is null, Stripe's example is string"]
    assert differences({**ref, "o": "id_1"}, ref, "k") == []  # an id for an expandable object


def test_every_allowed_null_is_documented_nullable():
    not_nullable = [
        f"{kind}: {path}"
        for kind, paths in ALLOWED_NULL.items()
        for path in paths
        if not documented_nullable(kind, path)
    ]
    assert not_nullable == []
    assert documented_nullable("subscription", "pending_update")
    assert not documented_nullable("subscription", "status")

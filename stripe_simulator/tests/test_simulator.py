"""The Stripe simulator end to end: stripe-python against it, and its signed webhooks into the
real dj-stripe endpoint of a live server, where dj-stripe verifies and syncs them."""

import json
import re
import time
import uuid

import pytest
import requests
import stripe
from django.conf import settings
from django.core.management import call_command
from djstripe.models import (
    Customer,
    Event,
    Invoice,
    LineItem,
    Session,
    Subscription,
    SubscriptionItem,
    WebhookEndpoint,
    WebhookEventTrigger,
)
from djstripe.models.api import API_KEY_REGEX

from stripe_simulator import SimulatorRefused, SimulatorServer, StripeSimulator
from stripe_simulator.delivery import sign
from stripe_simulator.server import check_allowed

# An invoice is finalized with its PaymentIntent; each attempt charges the card.
NEW_INVOICE = ["invoice.created", "invoice.finalized", "payment_intent.created"]
PAID = [
    "charge.succeeded",
    "payment_intent.succeeded",
    "invoice_payment.paid",
    "invoice.updated",
    "invoice.paid",
    "invoice.payment_succeeded",
]
DECLINED = ["charge.failed", "payment_intent.payment_failed", "invoice.updated", "invoice.payment_failed"]
FIRST_PAYMENT = [
    "checkout.session.completed",
    "payment_method.attached",
    "customer.subscription.created",
    *NEW_INVOICE,
    *PAID,
    "customer.subscription.updated",
]
RENEWAL = [*NEW_INVOICE, "customer.subscription.updated", *PAID]


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


def open_checkout(price, customer_id: str):
    return stripe.checkout.Session.create(
        mode="subscription",
        customer=customer_id,
        line_items=[{"price": price.id, "quantity": 1}],
        client_reference_id="1",
        metadata={"plan": "team", "interval": "month"},
        success_url="http://testserver/billing/success/?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="http://testserver/billing/cancel/",
        idempotency_key=str(uuid.uuid4()),
    )


def subscribed(sim, price=None):
    """A paid subscription, made the way Checkout makes it; returns its id."""
    price = price or make_catalogue()[1]
    customer = stripe.Customer.create(email="owner@example.com")
    session = open_checkout(price, customer.id)
    return sim.complete_checkout(session.id)["subscription"]


def period_end(sub_id: str) -> int:
    return stripe.Subscription.retrieve(sub_id)["items"].data[0].current_period_end


# --------------------------------------------------------------------- the API


def test_the_settings_key_looks_real_and_is_the_simulators():
    assert re.match(API_KEY_REGEX, settings.STRIPE_SIMULATOR_API_KEY)
    assert settings.STRIPE_TEST_SECRET_KEY == settings.STRIPE_SIMULATOR_API_KEY
    assert StripeSimulator().api_key == settings.STRIPE_SIMULATOR_API_KEY


def test_stripe_python_manages_customers_products_and_prices(stripe_api):
    product, monthly, yearly = make_catalogue()
    assert stripe.Price.list(lookup_keys=["qb_team_yearly"], active=True).data[0].id == yearly.id
    assert {p.id for p in stripe.Price.list(product=product.id).data} == {monthly.id, yearly.id}
    stripe.Price.modify(monthly.id, active=False)
    assert [p.id for p in stripe.Price.list(active=True).data] == [yearly.id]

    customer = stripe.Customer.create(email="a@example.com", metadata={"user": "7"})
    customer = stripe.Customer.modify(customer.id, name="Ada", metadata={"user": ""})
    assert (customer.name, customer.metadata.to_dict()) == ("Ada", {})
    assert stripe.Customer.search(query="email:'a@example.com'").data[0].id == customer.id
    assert stripe.Customer.list(email="a@example.com").data[0].id == customer.id


def test_lists_page_and_filter_by_creation_time(stripe_api):
    first = stripe.Customer.create(email="first@example.com")
    stripe_api.advance_clock(60)
    second = stripe.Customer.create(email="second@example.com")
    assert [c.id for c in stripe.Customer.list(limit=1).data] == [second.id]
    assert [c.id for c in stripe.Customer.list(limit=1, starting_after=second.id).data] == [first.id]
    assert stripe.Customer.list(limit=1).has_more is True
    assert [c.id for c in stripe.Customer.list(created={"lt": second.created}).data] == [first.id]
    assert [c.id for c in stripe.Customer.list().auto_paging_iter()] == [second.id, first.id]


def test_a_lookup_key_moves_only_when_asked(stripe_api):
    product, monthly, _ = make_catalogue()
    with pytest.raises(stripe.InvalidRequestError, match="already uses that lookup key"):
        stripe.Price.create(
            product=product.id,
            currency="usd",
            unit_amount=5900,
            recurring={"interval": "month"},
            lookup_key="qb_team_monthly",
        )
    moved = stripe.Price.create(
        product=product.id,
        currency="usd",
        unit_amount=5900,
        recurring={"interval": "month"},
        lookup_key="qb_team_monthly",
        transfer_lookup_key=True,
    )
    assert stripe.Price.retrieve(monthly.id).lookup_key is None
    assert stripe.Price.list(lookup_keys=["qb_team_monthly"]).data[0].id == moved.id


def test_an_idempotency_key_replays_the_first_answer_and_rejects_other_parameters(stripe_api):
    first = stripe.Customer.create(email="once@example.com", idempotency_key="signup-1")
    again = stripe.Customer.create(email="once@example.com", idempotency_key="signup-1")
    assert again.id == first.id
    assert len(stripe.Customer.list().data) == 1
    with pytest.raises(stripe.IdempotencyError):
        stripe.Customer.create(email="other@example.com", idempotency_key="signup-1")


def test_errors_look_like_stripes(stripe_api):
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe.Subscription.retrieve("sub_doesnotexist")
    assert missing.value.code == "resource_missing"
    assert missing.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError, match="Received unknown parameter: colour"):
        stripe.Customer.create(email="a@example.com", colour="blue")
    with pytest.raises(stripe.AuthenticationError):
        stripe.Customer.list(api_key="sk_test_" + "x" * 30)


def test_an_unknown_route_is_a_loud_400_never_resource_missing(stripe_api, stripe_simulator_server):
    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe.Coupon.create(percent_off=10, duration="once")
    assert error.value.http_status == 400
    assert error.value.code is None
    assert "Stripe simulator: unknown route POST /v1/coupons" in str(error.value)
    response = requests.get(
        f"{stripe_simulator_server.url}/v1/transfers/tr_1",
        headers={"Authorization": f"Bearer {settings.STRIPE_SIMULATOR_API_KEY}"},
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "resource_missing" not in response.text


def test_a_checkout_session_is_created_retrieved_and_expanded(stripe_api):
    _, monthly, _ = make_catalogue()
    customer = stripe.Customer.create(email="owner@example.com")
    session = open_checkout(monthly, customer.id)
    assert session.url.endswith(f"/checkout/{session.id}")
    assert (session.status, session.mode, session.client_reference_id) == ("open", "subscription", "1")
    stripe_api.complete_checkout(session.id)
    session = stripe.checkout.Session.retrieve(session.id, expand=["subscription", "line_items"])
    assert session.status == "complete" and session.payment_status == "paid"
    assert session.subscription.status == "active"
    assert session.line_items.data[0].price.id == monthly.id
    item = session.subscription["items"].data[0]
    assert item.current_period_end > item.current_period_start
    invoice = stripe.Invoice.retrieve(session.invoice)
    assert invoice.parent.subscription_details.subscription == session.subscription.id
    assert invoice.status == "paid" and invoice.amount_paid == 4900


# ------------------------------------------------------------- Stripe-side actions


def test_renewal_starts_the_next_period_and_pays_it(stripe_api):
    sub_id = subscribed(stripe_api)
    end = period_end(sub_id)
    mark = stripe_api.mark()
    stripe_api.renew(sub_id)
    assert stripe_api.event_types(mark) == RENEWAL
    sub = stripe.Subscription.retrieve(sub_id)
    assert sub["items"].data[0].current_period_start == end
    assert sub["items"].data[0].current_period_end > end
    assert stripe.Invoice.retrieve(sub.latest_invoice).billing_reason == "subscription_cycle"


def test_a_backdated_renewal_ends_the_old_period_now(stripe_api):
    sub_id = subscribed(stripe_api)
    before = time.time()
    stripe_api.renew(sub_id, backdate=True)
    item = stripe.Subscription.retrieve(sub_id)["items"].data[0]
    assert before - 5 <= item.current_period_start <= time.time() + 5
    invoice = stripe.Invoice.retrieve(stripe.Subscription.retrieve(sub_id).latest_invoice)
    assert invoice.lines.data[0].period.start == item.current_period_start


def test_backdate_moves_the_period_behind_the_clock_without_an_event(stripe_api):
    sub_id = subscribed(stripe_api)
    end = period_end(sub_id)
    mark = stripe_api.mark()
    stripe_api.backdate(sub_id, 40 * 86400)
    assert period_end(sub_id) == end - 40 * 86400 < time.time()
    assert stripe_api.event_types(mark) == []


def test_the_dashboard_lists_subscriptions_and_runs_stripe_side_actions(stripe_api, stripe_simulator_server):
    sub_id = subscribed(stripe_api)
    page = requests.get(f"{stripe_simulator_server.url}/", timeout=5)
    assert sub_id in page.text and "Renewal fails" in page.text
    requests.post(f"{stripe_simulator_server.url}/dashboard/subscriptions/{sub_id}/fail_payment", timeout=5)
    assert stripe.Subscription.retrieve(sub_id).status == "past_due"


def test_a_failed_renewal_is_past_due_until_a_retry_pays(stripe_api):
    sub_id = subscribed(stripe_api)
    mark = stripe_api.mark()
    stripe_api.fail_payment(sub_id)
    assert stripe_api.event_types(mark) == [
        *NEW_INVOICE,
        "customer.subscription.updated",
        *DECLINED,
        "customer.subscription.updated",
    ]
    sub = stripe.Subscription.retrieve(sub_id)
    assert sub.status == "past_due"
    assert stripe.Invoice.retrieve(sub.latest_invoice).status == "open"
    mark = stripe_api.mark()
    stripe_api.retry_payment(sub_id)
    assert stripe_api.event_types(mark) == [*PAID, "customer.subscription.updated"]
    assert stripe.Subscription.retrieve(sub_id).status == "active"


@pytest.mark.parametrize(
    ("outcome", "status", "last_event"),
    [
        ("cancel", "canceled", "customer.subscription.deleted"),
        ("mark_unpaid", "unpaid", "customer.subscription.updated"),
    ],
)
def test_exhausted_retries_cancel_or_mark_unpaid(stripe_api, outcome, status, last_event):
    sub_id = subscribed(stripe_api)
    stripe_api.fail_payment(sub_id)
    mark = stripe_api.mark()
    stripe_api.exhaust_retries(sub_id, outcome=outcome)
    assert stripe_api.event_types(mark) == [*DECLINED, last_event]
    assert stripe.Subscription.retrieve(sub_id).status == status


def test_cancel_at_period_end_keeps_it_active_until_the_period_ends(stripe_api):
    sub_id = subscribed(stripe_api)
    end = period_end(sub_id)
    mark = stripe_api.mark()
    stripe_api.cancel_at_period_end(sub_id)
    sub = stripe.Subscription.retrieve(sub_id)
    assert (sub.status, sub.cancel_at_period_end, sub.cancel_at) == ("active", True, end)
    event = stripe_api.events(mark)[0]
    assert event["type"] == "customer.subscription.updated"
    assert event["data"]["previous_attributes"]["cancel_at_period_end"] is False
    stripe_api.end_period(sub_id)
    sub = stripe.Subscription.retrieve(sub_id)
    assert (sub.status, sub.ended_at) == ("canceled", end)
    assert stripe_api.event_types(mark)[-1] == "customer.subscription.deleted"


def test_resume_undoes_cancel_at_period_end(stripe_api):
    sub_id = subscribed(stripe_api)
    stripe_api.cancel_at_period_end(sub_id)
    stripe.Subscription.modify(sub_id, cancel_at_period_end=False)
    sub = stripe.Subscription.retrieve(sub_id)
    assert (sub.cancel_at_period_end, sub.cancel_at, sub.status) == (False, None, "active")


def test_cancel_now_through_the_api_ends_it_at_once(stripe_api):
    sub_id = subscribed(stripe_api)
    mark = stripe_api.mark()
    stripe.Subscription.cancel(sub_id)
    stripe_api.flush()
    assert stripe_api.event_types(mark) == ["customer.subscription.deleted"]
    assert stripe.Subscription.retrieve(sub_id).status == "canceled"
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Subscription.modify(sub_id, cancel_at_period_end=True)


def test_a_price_change_in_the_same_interval_keeps_the_period_and_prorates_next_invoice(stripe_api):
    product, monthly, _ = make_catalogue()
    bigger = stripe.Price.create(
        product=product.id, currency="usd", unit_amount=19900, recurring={"interval": "month"}
    )
    sub_id = subscribed(stripe_api, monthly)
    end = period_end(sub_id)
    item_id = stripe.Subscription.retrieve(sub_id)["items"].data[0].id
    mark = stripe_api.mark()
    sub = stripe.Subscription.modify(
        sub_id, items=[{"id": item_id, "price": bigger.id}], proration_behavior="create_prorations"
    )
    assert sub["items"].data[0].price.id == bigger.id
    assert sub["items"].data[0].current_period_end == end
    assert stripe_api.event_types(mark) == ["customer.subscription.updated"]
    preview = stripe.Invoice.create_preview(subscription=sub_id)
    assert [line.amount for line in preview.lines.data][-1] == 19900
    assert len(preview.lines.data) == 3  # credit, charge for the rest of the period, next period


def test_the_upcoming_invoice_is_previewed_until_the_subscription_is_ending(stripe_api):
    sub_id = subscribed(stripe_api)
    customer = stripe.Subscription.retrieve(sub_id).customer
    preview = stripe.Invoice.create_preview(customer=customer)
    assert (preview.amount_due, preview.next_payment_attempt) == (4900, period_end(sub_id))
    stripe_api.cancel_at_period_end(sub_id)
    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe.Invoice.create_preview(subscription=sub_id)
    assert error.value.code == "invoice_upcoming_none"


def test_switching_to_yearly_resets_the_cycle_and_invoices_at_once(stripe_api):
    _, monthly, yearly = make_catalogue()
    sub_id = subscribed(stripe_api, monthly)
    item_id = stripe.Subscription.retrieve(sub_id)["items"].data[0].id
    mark = stripe_api.mark()
    stripe_api.change_price(sub_id, yearly.id)
    assert stripe_api.event_types(mark) == ["customer.subscription.updated", *NEW_INVOICE, *PAID]
    sub = stripe.Subscription.retrieve(sub_id)
    item = sub["items"].data[0]
    assert (item.id, item.price.id) == (item_id, yearly.id)
    assert item.current_period_end - item.current_period_start > 360 * 86400
    assert stripe.Invoice.retrieve(sub.latest_invoice).billing_reason == "subscription_update"


def test_one_update_is_one_event_with_every_previous_value(stripe_api):
    _, monthly, yearly = make_catalogue()
    sub_id = subscribed(stripe_api, monthly)
    stripe_api.cancel_at_period_end(sub_id)
    item_id = stripe.Subscription.retrieve(sub_id)["items"].data[0].id
    mark = stripe_api.mark()
    stripe.Subscription.modify(
        sub_id,
        items=[{"id": item_id, "price": yearly.id}],
        cancel_at_period_end=False,
        metadata={"plan": "team", "interval": "year"},
        proration_behavior="create_prorations",
    )
    stripe_api.flush()
    events = stripe_api.events(mark)
    assert [e["type"] for e in events] == ["customer.subscription.updated", *NEW_INVOICE, *PAID]
    previous = events[0]["data"]["previous_attributes"]
    assert set(previous) >= {"items", "plan", "metadata", "cancel_at_period_end", "billing_cycle_anchor"}
    assert previous["items"]["data"][0]["price"]["id"] == monthly.id
    assert events[0]["request"]["id"].startswith("req_")


def test_a_failed_immediate_charge_leaves_the_subscription_past_due(stripe_api):
    _, monthly, yearly = make_catalogue()
    sub_id = subscribed(stripe_api, monthly)
    stripe_api.fail_next_payments(1)
    stripe_api.change_price(sub_id, yearly.id)
    sub = stripe.Subscription.retrieve(sub_id)
    assert sub.status == "past_due"
    stripe_api.fail_next_payments(1)
    with pytest.raises(stripe.CardError):
        stripe.Invoice.pay(sub.latest_invoice)
    stripe.Invoice.pay(sub.latest_invoice)
    assert stripe.Subscription.retrieve(sub_id).status == "active"


def test_previewing_a_switch_to_yearly_shows_the_immediate_invoice(stripe_api):
    _, monthly, yearly = make_catalogue()
    sub_id = subscribed(stripe_api, monthly)
    item_id = stripe.Subscription.retrieve(sub_id)["items"].data[0].id
    preview = stripe.Invoice.create_preview(
        subscription=sub_id, subscription_details={"items": [{"id": item_id, "price": yearly.id}]}
    )
    credit, charge = preview.lines.data
    assert credit.amount < 0 and charge.amount == 49000
    assert preview.amount_due == 49000 + credit.amount


def test_a_declined_checkout_creates_nothing_and_stays_open(stripe_api):
    _, monthly, _ = make_catalogue()
    session = open_checkout(monthly, stripe.Customer.create(email="x@example.com").id)
    mark = stripe_api.mark()
    stripe_api.decline_checkout(session.id)
    assert stripe_api.event_types(mark) == []
    assert stripe.checkout.Session.retrieve(session.id).status == "open"
    assert stripe.Subscription.list().data == []


# ------------------------------------------------------------------ hosted pages


def test_the_hosted_checkout_page_is_labelled_and_pays_or_declines(stripe_api):
    _, monthly, _ = make_catalogue()
    session = open_checkout(monthly, stripe.Customer.create(email="buyer@example.com").id)
    page = requests.get(session.url, timeout=5)
    assert "Stripe simulator — test mode, no real payment" in page.text
    assert ">Pay</button>" in page.text and ">Decline</button>" in page.text

    declined = requests.post(f"{session.url}/decline", timeout=5, allow_redirects=False)
    assert declined.status_code == 402
    assert "declined" in declined.text and "http://testserver/billing/cancel/" in declined.text

    paid = requests.post(f"{session.url}/pay", timeout=5, allow_redirects=False)
    assert paid.status_code == 303
    assert paid.headers["Location"] == f"http://testserver/billing/success/?session_id={session.id}"
    assert stripe.checkout.Session.retrieve(session.id).status == "complete"


def test_the_portal_page_cancels_at_period_end_and_returns(stripe_api):
    sub_id = subscribed(stripe_api)
    customer = stripe.Subscription.retrieve(sub_id).customer
    portal = stripe.billing_portal.Session.create(customer=customer, return_url="http://testserver/billing/")
    page = requests.get(portal.url, timeout=5)
    assert "http://testserver/billing/" in page.text and "Cancel at period end" in page.text
    requests.post(f"{portal.url}/subscriptions/{sub_id}/cancel", timeout=5)
    assert stripe.Subscription.retrieve(sub_id).cancel_at_period_end is True


# ------------------------------------------------------- webhooks into dj-stripe


@pytest.mark.django_db(transaction=True)
def test_a_paid_checkout_reaches_dj_stripe_through_signed_webhooks(stripe_simulator, team_plan, user):
    _, monthly, _ = make_catalogue()
    customer, _ = Customer.get_or_create(subscriber=user)  # as the app does, before Checkout
    session = open_checkout(monthly, customer.id)
    mark = stripe_simulator.mark()

    stripe_simulator.complete_checkout(session.id)

    assert stripe_simulator.failed_deliveries() == []
    assert stripe_simulator.event_types(mark) == FIRST_PAYMENT
    session = stripe.checkout.Session.retrieve(session.id)
    assert set(Event.objects.values_list("type", flat=True)) >= set(FIRST_PAYMENT)
    assert Customer.objects.get(id=session.customer).subscriber == user
    sub = Subscription.objects.get(id=session.subscription)
    assert sub.stripe_data["status"] == "active"
    assert sub.stripe_data["items"]["data"][0]["current_period_end"] > time.time()
    assert Invoice.objects.filter(customer__id=session.customer).exists()
    assert Session.objects.filter(id=session.id).exists()
    triggers = WebhookEventTrigger.objects.filter(event__type__in=FIRST_PAYMENT)
    assert triggers.count() == len(FIRST_PAYMENT)
    assert all(t.valid and t.processed for t in triggers)


@pytest.mark.django_db(transaction=True)
def test_dj_stripe_cannot_read_the_current_shapes_so_the_app_reads_stripe_data(
    stripe_simulator, team_plan, user
):
    """Pinned on purpose: the simulator answers as Stripe does now, and dj-stripe 2.11 reads the
    old fields. The period is on the items, an invoice names its subscription under `parent`."""
    _, monthly, _ = make_catalogue()
    customer, _ = Customer.get_or_create(subscriber=user)
    session = open_checkout(monthly, customer.id)
    stripe_simulator.complete_checkout(session.id)
    sub = Subscription.objects.get()
    invoice = Invoice.objects.get()

    assert sub.current_period_end is None
    with pytest.raises(TypeError):
        sub.is_valid()
    assert sub.stripe_data["items"]["data"][0]["current_period_end"] > time.time()
    assert invoice.subscription is None
    assert invoice.stripe_data["parent"]["subscription_details"]["subscription"] == sub.id
    with pytest.raises(KeyError):
        invoice.paid  # noqa: B018 - the property reads a field Stripe no longer sends
    assert invoice.stripe_data["status"] == "paid"
    line = LineItem.objects.get(stripe_data__invoice=invoice.id)
    assert (line.subscription, line.subscription_item) == (None, None)
    assert line.stripe_data["parent"]["subscription_item_details"]["subscription"] == sub.id
    assert SubscriptionItem.objects.get().subscription == sub  # items do sync, prices included
    upcoming = Invoice.upcoming(customer=customer.id, subscription=sub.id)
    assert upcoming.stripe_data["amount_due"] == 4900


@pytest.mark.django_db(transaction=True)
def test_held_events_can_be_delivered_twice_shuffled_and_concurrently(stripe_simulator, team_plan, user):
    _, monthly, _ = make_catalogue()
    customer, _ = Customer.get_or_create(subscriber=user)
    session = open_checkout(monthly, customer.id)
    with stripe_simulator.hold_webhooks():
        stripe_simulator.complete_checkout(session.id)
    pending = stripe_simulator.pending_events()
    assert [e["type"] for e in pending] == FIRST_PAYMENT
    assert not Event.objects.filter(type="checkout.session.completed").exists()

    statuses = stripe_simulator.deliver(pending, times=2, shuffle=True, concurrently=True, seed=4)

    assert statuses == [200] * (2 * len(FIRST_PAYMENT))
    assert stripe_simulator.pending_events() == []
    assert Event.objects.filter(type__in=FIRST_PAYMENT).count() == len(FIRST_PAYMENT)
    assert Subscription.objects.get().stripe_data["status"] == "active"


@pytest.mark.django_db(transaction=True)
def test_a_failed_delivery_is_recorded_and_can_be_redelivered(
    stripe_simulator, stripe_webhook_endpoint, user
):
    real_uuid = stripe_webhook_endpoint.djstripe_uuid
    WebhookEndpoint.objects.filter(pk=stripe_webhook_endpoint.pk).update(djstripe_uuid=uuid.uuid4())
    stripe.Customer.create(email="late@example.com")
    stripe_simulator.flush()
    failed = stripe_simulator.failed_deliveries()
    assert [(f["type"], f["attempts"][0]["status"]) for f in failed] == [("customer.created", 404)]

    WebhookEndpoint.objects.filter(pk=stripe_webhook_endpoint.pk).update(djstripe_uuid=real_uuid)
    assert stripe_simulator.redeliver(failed[0]["event_id"]) == [200]
    assert stripe_simulator.failed_deliveries() == []
    assert Event.objects.filter(id=failed[0]["event_id"]).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("problem", ["wrong secret", "stale timestamp", "no signature"])
def test_a_bad_signature_is_rejected_and_nothing_is_processed(
    stripe_simulator, stripe_webhook_endpoint, problem
):
    with stripe_simulator.hold_webhooks():
        stripe.Customer.create(email="forged@example.com")
    event = stripe_simulator.pending_events()[0]
    payload = json.dumps(event, indent=2)
    headers = {"Content-Type": "application/json"}
    if problem == "wrong secret":
        headers["Stripe-Signature"] = sign(payload, "whsec_" + "0" * 32)
    elif problem == "stale timestamp":
        headers["Stripe-Signature"] = sign(payload, stripe_webhook_endpoint.secret, int(time.time()) - 600)

    response = requests.post(stripe_webhook_endpoint.url, data=payload, headers=headers, timeout=10)

    assert response.status_code == 400
    assert not Event.objects.exists()
    assert not WebhookEventTrigger.objects.filter(valid=True).exists()
    # the genuine delivery of the same event is accepted
    assert stripe_simulator.deliver([event]) == [200]
    assert Event.objects.filter(id=event["id"]).exists()


# ------------------------------------------------------ endpoint command, guard


@pytest.mark.django_db
def test_create_webhook_endpoint_is_idempotent_and_prints_the_url(stripe_api, capsys):
    call_command("create_webhook_endpoint", base_url="http://127.0.0.1:8000")
    call_command("create_webhook_endpoint", base_url="http://127.0.0.1:8000")
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.url == f"http://127.0.0.1:8000/stripe/webhook/{endpoint.djstripe_uuid}/"
    assert endpoint.secret.startswith("whsec_")
    assert stripe.WebhookEndpoint.list().data[0].url == endpoint.url
    output = capsys.readouterr().out
    assert output.count(endpoint.url) == 2 and "Already exists" in output

    stripe_api.reset()  # the endpoint vanished on Stripe's side: a new one replaces the row
    call_command("create_webhook_endpoint", base_url="http://127.0.0.1:8000")
    assert WebhookEndpoint.objects.get().id != endpoint.id


@pytest.mark.django_db
def test_create_webhook_endpoint_records_a_stripe_listen_secret_locally(stripe_api):
    call_command("create_webhook_endpoint", base_url="http://localhost:8000", secret="whsec_fromthecli")
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret == "whsec_fromthecli"
    assert stripe.WebhookEndpoint.list().data == []


def test_the_simulator_refuses_to_start_with_debug_off(settings, monkeypatch):
    settings.DEBUG = False
    with pytest.raises(SimulatorRefused, match="DEBUG off"):
        SimulatorServer(StripeSimulator()).start()
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    with pytest.raises(SimulatorRefused):
        check_allowed(allow_in_tests=True)
    with pytest.raises(SimulatorRefused, match="loopback"):
        SimulatorServer(StripeSimulator(), host="0.0.0.0")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_development_simulator_keeps_its_objects_across_restarts(settings, tmp_path):
    from stripe_simulator import dev

    settings.DEBUG = True  # as under `make run`
    settings.STRIPE_SIMULATOR_URL = f"http://127.0.0.1:{free_port()}"
    settings.STRIPE_SIMULATOR_STATE_FILE = str(tmp_path / "stripe.json")
    saved = stripe.api_base, stripe.default_http_client
    try:
        dev.install()  # what StripeSimulatorConfig.ready() does: the first call starts the server
        customer = stripe.Customer.create(email="kept@example.com", api_key=settings.STRIPE_SIMULATOR_API_KEY)
        assert requests.get(settings.STRIPE_SIMULATOR_URL + "/", timeout=5).status_code == 200
        dev.stop()
        assert (
            stripe.Customer.retrieve(customer.id, api_key=settings.STRIPE_SIMULATOR_API_KEY).email
            == "kept@example.com"
        )
    finally:
        dev.stop()
        stripe.api_base, stripe.default_http_client = saved


def test_the_development_simulator_will_not_share_its_port_with_another_program(settings):
    import socket

    from stripe_simulator import dev

    settings.DEBUG = True
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        settings.STRIPE_SIMULATOR_URL = f"http://127.0.0.1:{squatter.getsockname()[1]}"
        try:
            with pytest.raises(SimulatorRefused, match="STRIPE_SIMULATOR_PORT"):
                dev.ensure_running()
        finally:
            dev.stop()

"""The simulator's subscriptions outside Checkout, trials, pausing, pending updates,
payment_behavior, deleted customers and Checkout's list/expire, over real HTTP with stripe-python."""

import time
import uuid

import pytest
import requests
import stripe

from stripe_simulator import StripeSimulator
from stripe_simulator.tests.test_simulator import (
    DECLINED,
    NEW_INVOICE,
    PAID,
    make_catalogue,
    open_checkout,
    subscribed,
)


def customer_with_card(sim, email="card@example.com"):
    customer = stripe.Customer.create(email=email)
    card = sim.attach_card(customer.id)
    return customer, card


def item_of(sub_id: str):
    return stripe.Subscription.retrieve(sub_id)["items"].data[0]


# ------------------------------------------------------------- POST /v1/subscriptions


def test_a_subscription_created_through_the_api_charges_the_default_card(stripe_api):
    _, monthly, _ = make_catalogue()
    customer, card = customer_with_card(stripe_api)
    assert stripe.Customer.retrieve(customer.id).invoice_settings.default_payment_method == card["id"]
    mark = stripe_api.mark()
    sub = stripe.Subscription.create(
        customer=customer.id,
        items=[{"price": monthly.id, "quantity": 2}],
        metadata={"plan": "team"},
        description="Team plan",
        expand=["latest_invoice"],
        idempotency_key="sub-once",
    )
    stripe_api.flush()
    assert (sub.status, sub.metadata["plan"], sub.description) == ("active", "team", "Team plan")
    assert sub.latest_invoice.status == "paid" and sub.latest_invoice.amount_paid == 9800
    assert stripe_api.event_types(mark) == [
        "customer.subscription.created",
        *NEW_INVOICE,
        *PAID,
        "customer.subscription.updated",
    ]
    again = stripe.Subscription.create(
        customer=customer.id,
        items=[{"price": monthly.id, "quantity": 2}],
        metadata={"plan": "team"},
        description="Team plan",
        expand=["latest_invoice"],
        idempotency_key="sub-once",
    )
    assert again.id == sub.id
    assert len(stripe.Subscription.list(customer=customer.id).data) == 1


def test_a_declined_first_payment_leaves_it_incomplete_until_it_expires(stripe_api):
    _, monthly, _ = make_catalogue()
    customer, _ = customer_with_card(stripe_api)
    stripe_api.fail_next_payments(1)
    mark = stripe_api.mark()
    sub = stripe.Subscription.create(customer=customer.id, items=[{"price": monthly.id}])
    stripe_api.flush()
    assert sub.status == "incomplete"
    assert stripe_api.event_types(mark) == ["customer.subscription.created", *NEW_INVOICE, *DECLINED]
    invoice = stripe.Invoice.retrieve(sub.latest_invoice)
    assert invoice.status == "open" and invoice.hosted_invoice_url

    mark = stripe_api.mark()
    stripe_api.expire_incomplete(sub.id)
    assert stripe_api.event_types(mark) == [
        "payment_intent.canceled",
        "invoice.voided",
        "customer.subscription.updated",
    ]
    sub = stripe.Subscription.retrieve(sub.id)
    assert sub.status == "incomplete_expired" and sub.ended_at
    assert stripe.Invoice.retrieve(sub.latest_invoice).status == "void"
    assert stripe_api.events(mark)[-1]["data"]["previous_attributes"]["status"] == "incomplete"


def test_paying_the_first_invoice_later_activates_an_incomplete_subscription(stripe_api):
    _, monthly, _ = make_catalogue()
    customer, _ = customer_with_card(stripe_api)
    sub = stripe.Subscription.create(
        customer=customer.id, items=[{"price": monthly.id}], payment_behavior="default_incomplete"
    )
    assert sub.status == "incomplete"
    assert stripe.Invoice.retrieve(sub.latest_invoice).attempt_count == 0  # not tried
    stripe.Invoice.pay(sub.latest_invoice)
    assert stripe.Subscription.retrieve(sub.id).status == "active"


def test_error_if_incomplete_answers_402_and_creates_nothing(stripe_api):
    _, monthly, _ = make_catalogue()
    customer, _ = customer_with_card(stripe_api)
    stripe_api.fail_next_payments(1)
    mark = stripe_api.mark()
    with pytest.raises(stripe.CardError) as declined:
        stripe.Subscription.create(
            customer=customer.id, items=[{"price": monthly.id}], payment_behavior="error_if_incomplete"
        )
    assert declined.value.http_status == 402 and declined.value.code == "card_declined"
    assert stripe.Subscription.list(customer=customer.id, status="all").data == []
    assert stripe_api.event_types(mark) == []


def test_a_customer_without_a_card_gets_an_incomplete_subscription(stripe_api):
    _, monthly, _ = make_catalogue()
    customer = stripe.Customer.create(email="nocard@example.com")
    sub = stripe.Subscription.create(customer=customer.id, items=[{"price": monthly.id}])
    assert sub.status == "incomplete"
    assert stripe.Charge.list(customer=customer.id).data == []  # nothing to charge
    with pytest.raises(stripe.InvalidRequestError, match="Received unknown parameter: coupon"):
        stripe.Subscription.create(customer=customer.id, items=[{"price": monthly.id}], coupon="x")


# ---------------------------------------------------------------------------- trials


def test_a_trial_starts_trialing_with_a_zero_invoice(stripe_api):
    _, monthly, _ = make_catalogue()
    customer = stripe.Customer.create(email="trial@example.com")
    mark = stripe_api.mark()
    sub = stripe.Subscription.create(
        customer=customer.id, items=[{"price": monthly.id}], trial_period_days=14
    )
    stripe_api.flush()
    assert sub.status == "trialing"
    assert sub.trial_end - sub.trial_start == 14 * 86400
    assert sub["items"].data[0].current_period_end == sub.trial_end
    invoice = stripe.Invoice.retrieve(sub.latest_invoice)
    assert (invoice.status, invoice.amount_due) == ("paid", 0)
    assert stripe_api.event_types(mark) == [
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]
    mark = stripe_api.mark()
    stripe_api.trial_will_end(sub.id)
    assert stripe_api.event_types(mark) == ["customer.subscription.trial_will_end"]


def test_a_trial_ending_with_a_card_bills_the_first_period(stripe_api):
    _, monthly, _ = make_catalogue()
    customer, _ = customer_with_card(stripe_api)
    trial_end = int(time.time()) + 7 * 86400
    sub = stripe.Subscription.create(customer=customer.id, items=[{"price": monthly.id}], trial_end=trial_end)
    mark = stripe_api.mark()
    stripe_api.end_trial(sub.id)
    assert stripe_api.event_types(mark) == [*NEW_INVOICE, "customer.subscription.updated", *PAID]
    sub = stripe.Subscription.retrieve(sub.id)
    assert sub.status == "active" and sub.trial_end <= time.time() + 5
    assert stripe.Invoice.retrieve(sub.latest_invoice).amount_paid == 4900


@pytest.mark.parametrize(
    ("end_behavior", "status", "last_events"),
    [
        ("cancel", "canceled", ["customer.subscription.deleted"]),
        ("pause", "paused", ["customer.subscription.updated", "customer.subscription.paused"]),
        ("create_invoice", "past_due", [*DECLINED[1:], "customer.subscription.updated"]),
    ],
)
def test_a_trial_ending_without_a_card_follows_its_end_behavior(
    stripe_api, end_behavior, status, last_events
):
    _, monthly, _ = make_catalogue()
    customer = stripe.Customer.create(email="nocard@example.com")
    sub = stripe.Subscription.create(
        customer=customer.id,
        items=[{"price": monthly.id}],
        trial_period_days=30,
        trial_settings={"end_behavior": {"missing_payment_method": end_behavior}},
    )
    assert sub.trial_settings.end_behavior.missing_payment_method == end_behavior
    mark = stripe_api.mark()
    stripe_api.end_trial(sub.id)
    types = stripe_api.event_types(mark)
    assert types[-len(last_events) :] == last_events
    assert stripe.Subscription.retrieve(sub.id).status == status
    if end_behavior == "create_invoice":
        assert stripe.Invoice.retrieve(stripe.Subscription.retrieve(sub.id).latest_invoice).status == "open"


def test_a_paused_subscription_resumes_through_the_api_once_a_card_is_added(stripe_api):
    _, monthly, _ = make_catalogue()
    customer = stripe.Customer.create(email="paused@example.com")
    sub = stripe.Subscription.create(
        customer=customer.id,
        items=[{"price": monthly.id}],
        trial_period_days=3,
        trial_settings={"end_behavior": {"missing_payment_method": "pause"}},
    )
    stripe_api.end_trial(sub.id)
    stripe_api.attach_card(customer.id)
    mark = stripe_api.mark()
    resumed = stripe.Subscription.resume(sub.id, billing_cycle_anchor="now")
    stripe_api.flush()
    assert resumed.status == "active"
    assert "customer.subscription.resumed" in stripe_api.event_types(mark)
    assert stripe.Invoice.retrieve(resumed.latest_invoice).status == "paid"
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Subscription.resume(sub.id)  # only a paused one


def test_resume_paused_is_the_dashboards_resume(stripe_api):
    _, monthly, _ = make_catalogue()
    customer, _ = customer_with_card(stripe_api)
    stripe.Customer.modify(customer.id)  # no change
    sub = stripe.Subscription.create(
        customer=customer.id,
        items=[{"price": monthly.id}],
        trial_period_days=3,
        trial_settings={"end_behavior": {"missing_payment_method": "pause"}},
    )
    stripe_api.objects[customer.id]["invoice_settings"]["default_payment_method"] = None  # card removed
    stripe_api.end_trial(sub.id)
    assert stripe.Subscription.retrieve(sub.id).status == "paused"
    mark = stripe_api.mark()
    stripe_api.resume_paused(sub.id, succeed=True)
    assert stripe_api.event_types(mark)[-len(PAID) :] == PAID
    assert stripe.Subscription.retrieve(sub.id).status == "active"


# -------------------------------------------------------------------- pending updates


def pending_upgrade(sim, **extra):
    _, monthly, yearly = make_catalogue()
    sub_id = subscribed(sim, monthly)
    item = item_of(sub_id)
    sim.fail_next_payments(1)
    mark = sim.mark()
    sub = stripe.Subscription.modify(
        sub_id,
        items=[{"id": item.id, "price": yearly.id}],
        proration_behavior="always_invoice",
        payment_behavior="pending_if_incomplete",
        **extra,
    )
    sim.flush()
    return sub, item, yearly, mark


def test_a_declined_pending_update_keeps_the_subscription_as_it_was(stripe_api):
    sub, item, yearly, mark = pending_upgrade(stripe_api)
    assert sub.status == "active"
    assert (sub["items"].data[0].price.id, sub["items"].data[0].current_period_end) == (
        item.price.id,
        item.current_period_end,
    )
    pending = sub.pending_update
    assert pending.subscription_items[0].price.id == yearly.id
    assert pending.subscription_items[0].id == item.id
    assert time.time() + 22 * 3600 < pending.expires_at <= time.time() + 23 * 3600 + 5
    invoice = stripe.Invoice.retrieve(sub.latest_invoice)
    assert invoice.status == "open" and invoice.hosted_invoice_url
    assert invoice.billing_reason == "subscription_update"
    assert stripe_api.event_types(mark) == [*NEW_INVOICE, *DECLINED, "customer.subscription.updated"]
    update = stripe_api.events(mark)[-1]
    assert update["data"]["previous_attributes"]["pending_update"] is None
    assert "items" not in update["data"]["previous_attributes"]


def test_paying_the_pending_invoice_applies_the_update(stripe_api):
    sub, item, yearly, _ = pending_upgrade(stripe_api)
    mark = stripe_api.mark()
    stripe.Invoice.pay(sub.latest_invoice)
    stripe_api.flush()
    assert stripe_api.event_types(mark) == [
        *PAID,
        "customer.subscription.updated",
        "customer.subscription.pending_update_applied",
    ]
    applied = stripe.Subscription.retrieve(sub.id)
    assert applied.pending_update is None
    assert applied["items"].data[0].price.id == yearly.id
    assert applied["items"].data[0].current_period_end - time.time() > 360 * 86400
    previous = stripe_api.events(mark)[-2]["data"]["previous_attributes"]
    assert previous["items"]["data"][0]["price"]["id"] == item.price.id
    assert previous["pending_update"]["subscription_items"][0]["price"]["id"] == yearly.id


@pytest.mark.parametrize("how", ["retry_payment", "hosted page"])
def test_a_retry_or_the_hosted_invoice_page_applies_the_pending_update(stripe_api, how):
    sub, _, yearly, _ = pending_upgrade(stripe_api)
    if how == "retry_payment":
        stripe_api.retry_payment(sub.id)
    else:
        url = stripe.Invoice.retrieve(sub.latest_invoice).hosted_invoice_url
        assert requests.post(f"{url}/pay", timeout=5, allow_redirects=False).status_code == 303
    applied = stripe.Subscription.retrieve(sub.id)
    assert applied.pending_update is None and applied["items"].data[0].price.id == yearly.id


def test_an_expired_pending_update_voids_its_invoice_and_changes_nothing(stripe_api):
    sub, item, _, _ = pending_upgrade(stripe_api)
    mark = stripe_api.mark()
    stripe_api.expire_pending_update(sub.id)
    assert stripe_api.event_types(mark) == [
        "payment_intent.canceled",
        "invoice.voided",
        "customer.subscription.updated",
        "customer.subscription.pending_update_expired",
    ]
    after = stripe.Subscription.retrieve(sub.id)
    assert after.pending_update is None and after.status == "active"
    assert after["items"].data[0].price.id == item.price.id
    assert stripe.Invoice.retrieve(sub.latest_invoice).status == "void"


def test_a_renewal_first_expires_a_pending_update(stripe_api):
    sub, item, _, _ = pending_upgrade(stripe_api)
    stripe_api.renew(sub.id, backdate=True)
    after = stripe.Subscription.retrieve(sub.id)
    assert after.pending_update is None and after["items"].data[0].price.id == item.price.id


@pytest.mark.parametrize("param", [{"metadata": {"plan": "x"}}, {"cancel_at_period_end": True}])
def test_pending_if_incomplete_refuses_the_parameters_pending_updates_do_not_support(stripe_api, param):
    _, monthly, yearly = make_catalogue()
    sub_id = subscribed(stripe_api, monthly)
    name = next(iter(param))
    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe.Subscription.modify(
            sub_id,
            items=[{"id": item_of(sub_id).id, "price": yearly.id}],
            payment_behavior="pending_if_incomplete",
            **param,
        )
    assert error.value.user_message == (
        "When `payment_behavior` is set to `pending_if_incomplete`, you can only pass supported params. "
        f"`{name}` is not supported. See https://stripe.com/docs/billing/subscriptions/"
        "pending-updates-reference#supported-attributes for more details."
    )
    assert error.value.param == name
    assert item_of(sub_id).price.id == monthly.id


def test_a_change_without_an_immediate_invoice_applies_at_once_even_if_pending(stripe_api):
    product, monthly, _ = make_catalogue()
    bigger = stripe.Price.create(
        product=product.id, currency="usd", unit_amount=9900, recurring={"interval": "month"}
    )
    sub_id = subscribed(stripe_api, monthly)
    stripe_api.fail_next_payments(1)
    sub = stripe.Subscription.modify(
        sub_id,
        items=[{"id": item_of(sub_id).id, "price": bigger.id}],
        proration_behavior="create_prorations",
        payment_behavior="pending_if_incomplete",
    )
    assert sub.pending_update is None and sub["items"].data[0].price.id == bigger.id


def test_error_if_incomplete_on_update_answers_402_and_changes_nothing(stripe_api):
    _, monthly, yearly = make_catalogue()
    sub_id = subscribed(stripe_api, monthly)
    before = stripe.Subscription.retrieve(sub_id)
    stripe_api.fail_next_payments(1)
    mark = stripe_api.mark()
    with pytest.raises(stripe.CardError):
        stripe.Subscription.modify(
            sub_id,
            items=[{"id": before["items"].data[0].id, "price": yearly.id}],
            payment_behavior="error_if_incomplete",
        )
    stripe_api.flush()
    assert stripe_api.event_types(mark) == []
    after = stripe.Subscription.retrieve(sub_id)
    assert (after.status, after["items"].data[0].price.id, after.latest_invoice) == (
        "active",
        monthly.id,
        before.latest_invoice,
    )


def test_allow_and_default_incomplete_apply_the_change_and_leave_it_past_due(stripe_api):
    _, monthly, yearly = make_catalogue()
    allowed = subscribed(stripe_api, monthly)
    stripe_api.fail_next_payments(1)
    sub = stripe.Subscription.modify(
        allowed, items=[{"id": item_of(allowed).id, "price": yearly.id}], payment_behavior="allow_incomplete"
    )
    assert (sub.status, sub["items"].data[0].price.id) == ("past_due", yearly.id)

    waiting = subscribed(stripe_api, monthly)
    sub = stripe.Subscription.modify(
        waiting,
        items=[{"id": item_of(waiting).id, "price": yearly.id}],
        payment_behavior="default_incomplete",
    )
    invoice = stripe.Invoice.retrieve(sub.latest_invoice)
    assert (sub.status, invoice.status, invoice.attempt_count) == ("past_due", "open", 0)
    stripe.Invoice.pay(invoice.id)
    assert stripe.Subscription.retrieve(waiting).status == "active"


def test_a_pending_update_survives_a_restart_and_shows_on_the_dashboard(stripe_api, stripe_simulator_server):
    sub, _, yearly, _ = pending_upgrade(stripe_api)
    page = requests.get(f"{stripe_simulator_server.url}/", timeout=5).text
    assert "active · pending update" in page and "Expire pending update" in page
    restarted = StripeSimulator()
    restarted.load_state(stripe_api.dump_state())
    restarted.retry_payment(sub.id, deliver=False)
    assert restarted.retrieve("subscription", sub.id)["items"]["data"][0]["price"]["id"] == yearly.id


# ------------------------------------------------------------------- deleted customers


def test_deleting_a_customer_cancels_its_subscriptions_and_leaves_a_deleted_stub(stripe_api):
    sub_id = subscribed(stripe_api)
    customer_id = stripe.Subscription.retrieve(sub_id).customer
    mark = stripe_api.mark()
    deleted = stripe.Customer.delete(customer_id)
    stripe_api.flush()
    assert deleted.deleted is True
    assert stripe_api.event_types(mark) == ["customer.subscription.deleted", "customer.deleted"]
    assert stripe.Subscription.retrieve(sub_id).status == "canceled"
    response = requests.get(
        f"{stripe.api_base}/v1/customers/{customer_id}",
        headers={"Authorization": f"Bearer {stripe.api_key}"},
        timeout=5,
    )
    assert response.status_code == 200
    assert response.json() == {"id": customer_id, "object": "customer", "deleted": True}
    assert stripe.Customer.retrieve(customer_id).deleted is True
    expanded = stripe.Subscription.retrieve(sub_id, expand=["customer"])
    assert expanded.customer.deleted is True
    with pytest.raises(stripe.InvalidRequestError) as gone:
        stripe.Customer.modify(customer_id, name="x")
    assert gone.value.http_status == 404
    assert customer_id not in [c.id for c in stripe.Customer.list().data]


def test_a_customer_deleted_in_the_dashboard(stripe_api):
    sub_id = subscribed(stripe_api)
    customer_id = stripe.Subscription.retrieve(sub_id).customer
    mark = stripe_api.mark()
    stripe_api.delete_customer(customer_id)
    assert stripe_api.event_types(mark) == ["customer.subscription.deleted", "customer.deleted"]
    assert stripe.Customer.retrieve(customer_id).deleted is True


# ------------------------------------------------------------------------- Checkout


def test_open_sessions_are_listed_per_customer_and_expired_through_the_api(stripe_api):
    _, monthly, _ = make_catalogue()
    customer = stripe.Customer.create(email="tabs@example.com")
    first, second = open_checkout(monthly, customer.id), open_checkout(monthly, customer.id)
    listed = stripe.checkout.Session.list(customer=customer.id, status="open")
    assert {s.id for s in listed.data} == {first.id, second.id}
    mark = stripe_api.mark()
    expired = stripe.checkout.Session.expire(first.id)
    stripe_api.flush()
    assert (expired.status, expired.url) == ("expired", None)
    assert stripe_api.event_types(mark) == ["checkout.session.expired"]
    assert [s.id for s in stripe.checkout.Session.list(customer=customer.id, status="open").data] == [
        second.id
    ]
    with pytest.raises(stripe.InvalidRequestError):
        stripe.checkout.Session.expire(first.id)


def test_two_tabs_paid_make_two_subscriptions_as_with_stripe(stripe_api):
    _, monthly, _ = make_catalogue()
    customer = stripe.Customer.create(email="tabs@example.com")
    first, second = open_checkout(monthly, customer.id), open_checkout(monthly, customer.id)
    stripe_api.complete_checkout(first.id)
    stripe_api.complete_checkout(second.id)
    subs = stripe.Subscription.list(customer=customer.id).data
    assert len(subs) == 2 and {s.status for s in subs} == {"active"}
    assert len(stripe.Charge.list(customer=customer.id).data) == 2


def test_the_dashboard_offers_the_trial_and_customer_actions(stripe_api, stripe_simulator_server):
    _, monthly, _ = make_catalogue()
    customer = stripe.Customer.create(email=f"{uuid.uuid4().hex[:6]}@example.com")
    sub = stripe.Subscription.create(customer=customer.id, items=[{"price": monthly.id}], trial_period_days=5)
    page = requests.get(f"{stripe_simulator_server.url}/", timeout=5).text
    assert "End trial" in page and "Trial ends in 3 days" in page and "Delete customer" in page
    requests.post(f"{stripe_simulator_server.url}/dashboard/subscriptions/{sub.id}/end_trial", timeout=5)
    assert stripe.Subscription.retrieve(sub.id).status == "past_due"  # no card: create_invoice
    requests.post(
        f"{stripe_simulator_server.url}/dashboard/subscriptions/{sub.id}/delete_customer", timeout=5
    )
    assert stripe.Customer.retrieve(customer.id).deleted is True

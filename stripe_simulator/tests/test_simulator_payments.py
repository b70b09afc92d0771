"""The simulator's payments over real HTTP with stripe-python: the PaymentIntent, Charge and
InvoicePayment behind every invoice, refunds, disputes, and their webhooks into dj-stripe."""

import pytest
import requests
import stripe

from stripe_simulator import StripeSimulator
from stripe_simulator.tests.test_simulator import DECLINED, NEW_INVOICE, PAID, make_catalogue, subscribed


def first_invoice(sub_id: str):
    return stripe.Invoice.list(subscription=sub_id).data[-1]


def payment_of(invoice_id: str):
    """The invoice's InvoicePayment and its PaymentIntent, the way the app finds them."""
    payment = stripe.InvoicePayment.list(invoice=invoice_id).data[0]
    return payment, stripe.PaymentIntent.retrieve(payment.payment.payment_intent)


# ------------------------------------------------------------ payments behind invoices


def test_a_paid_invoice_has_a_payment_intent_a_charge_and_an_invoice_payment(stripe_api):
    sub_id = subscribed(stripe_api)
    invoice = first_invoice(sub_id)
    payment, intent = payment_of(invoice.id)
    assert (payment.status, payment.amount_paid, payment.is_default) == ("paid", 4900, True)
    assert payment.payment.type == "payment_intent"
    assert (intent.status, intent.amount_received, intent.customer) == ("succeeded", 4900, invoice.customer)
    charge = stripe.Charge.retrieve(intent.latest_charge)
    assert (charge.status, charge.paid, charge.amount, charge.payment_intent) == (
        "succeeded",
        True,
        4900,
        intent.id,
    )
    assert charge.payment_method == stripe.Subscription.retrieve(sub_id).default_payment_method
    # Under this API version none of them names the other directly.
    assert "invoice" not in charge and "invoice" not in intent
    assert "charge" not in invoice and "payment_intent" not in invoice
    by_intent = stripe.InvoicePayment.list(payment={"type": "payment_intent", "payment_intent": intent.id})
    assert [p.id for p in by_intent.data] == [payment.id]
    assert stripe.InvoicePayment.retrieve(payment.id).invoice == invoice.id
    expanded = stripe.Invoice.retrieve(invoice.id, expand=["payments"])
    assert [p.id for p in expanded.payments.data] == [payment.id]
    assert [c.id for c in stripe.Charge.list(customer=invoice.customer).data] == [charge.id]
    assert [c.id for c in stripe.Charge.list(payment_intent=intent.id).data] == [charge.id]
    txn = stripe.BalanceTransaction.retrieve(charge.balance_transaction)
    assert (txn.amount, txn.source, txn.type) == (4900, charge.id, "charge")


def test_a_declined_renewal_leaves_a_failed_charge_and_an_open_payment(stripe_api):
    sub_id = subscribed(stripe_api)
    mark = stripe_api.mark()
    stripe_api.fail_payment(sub_id)
    assert stripe_api.event_types(mark) == [
        *NEW_INVOICE,
        "customer.subscription.updated",
        *DECLINED,
        "customer.subscription.updated",
    ]
    invoice = stripe.Invoice.retrieve(stripe.Subscription.retrieve(sub_id).latest_invoice)
    payment, intent = payment_of(invoice.id)
    assert (payment.status, payment.amount_paid) == ("open", None)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.code == "card_declined"
    charge = stripe.Charge.retrieve(intent.latest_charge)
    assert (charge.status, charge.failure_code, charge.failure_message) == (
        "failed",
        "card_declined",
        "Your card was declined.",
    )
    assert charge.balance_transaction is None
    stripe_api.retry_payment(sub_id)
    payment, intent = payment_of(invoice.id)
    assert (payment.status, intent.status) == ("paid", "succeeded")
    assert len(stripe.Charge.list(payment_intent=intent.id).data) == 2


def test_a_payment_needing_authentication_sends_payment_action_required(stripe_api):
    _, monthly, yearly = make_catalogue()
    sub_id = subscribed(stripe_api, monthly)
    stripe_api.fail_next_payments(1, requires_action=True)
    mark = stripe_api.mark()
    stripe_api.change_price(sub_id, yearly.id)
    types = stripe_api.event_types(mark)
    assert "invoice.payment_action_required" in types
    assert "charge.failed" not in types  # 3-D Secure comes before any charge
    assert types.index("invoice.payment_failed") < types.index("invoice.payment_action_required")
    _, intent = payment_of(stripe.Subscription.retrieve(sub_id).latest_invoice)
    assert intent.status == "requires_action"
    # a plain decline sends no payment_action_required
    stripe_api.fail_next_payments(1)
    mark = stripe_api.mark()
    stripe_api.change_price(sub_id, monthly.id, proration_behavior="always_invoice")
    assert "invoice.payment_action_required" not in stripe_api.event_types(mark)


def test_voiding_an_open_invoice_cancels_its_payment_intent(stripe_api):
    sub_id = subscribed(stripe_api)
    stripe_api.fail_payment(sub_id)
    invoice_id = stripe.Subscription.retrieve(sub_id).latest_invoice
    mark = stripe_api.mark()
    invoice = stripe.Invoice.void_invoice(invoice_id)
    stripe_api.flush()
    assert invoice.status == "void" and invoice.status_transitions.voided_at
    assert stripe_api.event_types(mark) == ["payment_intent.canceled", "invoice.voided"]
    payment, intent = payment_of(invoice_id)
    assert (payment.status, intent.status, intent.cancellation_reason) == (
        "canceled",
        "canceled",
        "void_invoice",
    )
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Invoice.void_invoice(first_invoice(sub_id).id)  # a paid invoice cannot be voided


def test_unknown_charges_answer_resource_missing(stripe_api):
    for call in (
        lambda: stripe.Charge.retrieve("ch_missing"),
        lambda: stripe.PaymentIntent.retrieve("pi_missing"),
        lambda: stripe.Refund.retrieve("re_missing"),
        lambda: stripe.Dispute.retrieve("du_missing"),
        lambda: stripe.InvoicePayment.retrieve("inpay_missing"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as error:
            call()
        assert (error.value.http_status, error.value.code) == (404, "resource_missing")


# --------------------------------------------------------------------------- refunds


def test_a_partial_then_full_refund_through_the_api(stripe_api):
    sub_id = subscribed(stripe_api)
    _, intent = payment_of(first_invoice(sub_id).id)
    mark = stripe_api.mark()
    refund = stripe.Refund.create(payment_intent=intent.id, amount=1000, reason="requested_by_customer")
    stripe_api.flush()
    assert stripe_api.event_types(mark) == ["refund.created", "charge.refunded"]
    assert (refund.status, refund.amount, refund.charge, refund.reason) == (
        "succeeded",
        1000,
        intent.latest_charge,
        "requested_by_customer",
    )
    charge = stripe.Charge.retrieve(intent.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (1000, False)
    assert [r.id for r in charge.refunds.data] == [refund.id]
    event = stripe_api.events(mark)[1]
    assert event["data"]["previous_attributes"] == {"amount_refunded": 0}

    rest = stripe.Refund.create(charge=charge.id, metadata={"ticket": "42"})
    assert rest.amount == 3900 and rest.metadata["ticket"] == "42"
    charge = stripe.Charge.retrieve(charge.id)
    assert (charge.amount_refunded, charge.refunded) == (4900, True)
    assert {r.id for r in stripe.Refund.list(charge=charge.id).data} == {refund.id, rest.id}
    assert len(stripe.Refund.list(payment_intent=intent.id).data) == 2
    assert stripe.Refund.retrieve(rest.id).payment_intent == intent.id


def test_refund_errors_are_stripes(stripe_api):
    sub_id = subscribed(stripe_api)
    _, intent = payment_of(first_invoice(sub_id).id)
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        stripe.Refund.create(charge=intent.latest_charge, amount=5000)
    assert str(too_much.value.user_message) == (
        "Refund amount ($50.00) is greater than unrefunded amount on charge ($49.00)"
    )
    assert too_much.value.param == "amount"
    stripe.Refund.create(charge=intent.latest_charge)
    with pytest.raises(stripe.InvalidRequestError) as again:
        stripe.Refund.create(charge=intent.latest_charge)
    assert again.value.code == "charge_already_refunded"
    assert again.value.user_message == f"Charge {intent.latest_charge} has already been refunded."
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Refund.create()
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Refund.create(charge=intent.latest_charge, payment_intent=intent.id)


def test_a_refund_in_the_dashboard_refunds_what_is_left_of_an_invoice(stripe_api):
    sub_id = subscribed(stripe_api)
    invoice = first_invoice(sub_id)
    mark = stripe_api.mark()
    refund = stripe_api.refund(invoice.id, 900)
    assert stripe_api.event_types(mark) == ["refund.created", "charge.refunded"]
    assert refund["amount"] == 900
    assert stripe_api.refund(refund["charge"])["amount"] == 4000
    assert stripe.Invoice.retrieve(invoice.id).status == "paid"  # a refund does not reopen it


# -------------------------------------------------------------------------- disputes


@pytest.mark.parametrize(
    ("won", "closing_events"),
    [
        (True, ["charge.dispute.closed", "charge.dispute.funds_reinstated"]),
        (False, ["charge.dispute.closed"]),
    ],
)
def test_a_dispute_withdraws_the_funds_and_closes_won_or_lost(stripe_api, won, closing_events):
    sub_id = subscribed(stripe_api)
    invoice = first_invoice(sub_id)
    mark = stripe_api.mark()
    dispute = stripe_api.dispute(invoice.id)
    assert stripe_api.event_types(mark) == ["charge.dispute.created", "charge.dispute.funds_withdrawn"]
    assert (dispute["status"], dispute["reason"], dispute["amount"]) == ("needs_response", "fraudulent", 4900)
    assert dispute["id"].startswith("du_")
    charge = stripe.Charge.retrieve(dispute["charge"])
    assert charge.disputed is True
    assert stripe.Dispute.list(charge=charge.id).data[0].id == dispute["id"]
    assert stripe.Dispute.list(payment_intent=charge.payment_intent).data[0].id == dispute["id"]
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe.Refund.create(charge=charge.id)
    assert refused.value.code == "charge_disputed"

    mark = stripe_api.mark()
    closed = stripe_api.close_dispute(dispute["id"], won=won)
    assert stripe_api.event_types(mark) == closing_events
    assert closed["status"] == ("won" if won else "lost")
    assert len(closed["balance_transactions"]) == (2 if won else 1)


def test_closing_a_dispute_through_the_api_accepts_it_as_lost(stripe_api):
    sub_id = subscribed(stripe_api)
    dispute = stripe_api.dispute(first_invoice(sub_id).id, reason="product_not_received")
    mark = stripe_api.mark()
    closed = stripe.Dispute.close(dispute["id"])
    stripe_api.flush()
    assert closed.status == "lost"
    assert stripe_api.event_types(mark) == ["charge.dispute.closed"]
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Dispute.close(dispute["id"])


# ---------------------------------------------------- persistence and the dashboard


def test_payments_refunds_and_disputes_survive_a_restart(stripe_api):
    sub_id = subscribed(stripe_api)
    invoice = first_invoice(sub_id)
    refund = stripe_api.refund(invoice.id, 100)
    dispute = stripe_api.dispute(invoice.id)
    restarted = StripeSimulator()
    restarted.load_state(stripe_api.dump_state())
    charge = restarted.retrieve("charge", refund["charge"])
    assert charge["amount_refunded"] == 100 and charge["disputed"] is True
    assert [r["id"] for r in charge["refunds"]["data"]] == [refund["id"]]
    assert restarted.retrieve("dispute", dispute["id"])["status"] == "needs_response"
    assert restarted.invoice_payments_of(invoice.id)["data"][0]["status"] == "paid"


def test_the_dashboard_refunds_and_disputes_the_last_payment(stripe_api, stripe_simulator_server):
    sub_id = subscribed(stripe_api)
    base = f"{stripe_simulator_server.url}/dashboard/subscriptions/{sub_id}"
    page = requests.get(f"{stripe_simulator_server.url}/", timeout=5).text
    assert "Refund last payment" in page and "Dispute last payment" in page and "Delete customer" in page
    requests.post(f"{base}/dispute", timeout=5)
    stripe_api.flush()
    page = requests.get(f"{stripe_simulator_server.url}/", timeout=5).text
    assert "Dispute won" in page and "Dispute lost" in page
    requests.post(f"{base}/dispute_lost", timeout=5)
    assert stripe.Dispute.list().data[0].status == "lost"


# --------------------------------------------------------- webhooks into dj-stripe


@pytest.mark.django_db(transaction=True)
def test_payment_refund_and_dispute_events_reach_dj_stripe(stripe_simulator, team_plan, user):
    from djstripe.models import Charge, Customer, Dispute, PaymentIntent, Refund

    from stripe_simulator.tests.test_simulator import open_checkout

    _, monthly, _ = make_catalogue()
    customer, _ = Customer.get_or_create(subscriber=user)
    session = open_checkout(monthly, customer.id)
    stripe_simulator.complete_checkout(session.id)
    invoice = stripe.checkout.Session.retrieve(session.id).invoice
    stripe_simulator.refund(invoice, 500)
    dispute = stripe_simulator.dispute(invoice)
    stripe_simulator.close_dispute(dispute["id"], won=True)

    assert stripe_simulator.failed_deliveries() == []
    charge = Charge.objects.get()
    assert charge.stripe_data["amount_refunded"] == 500
    assert PaymentIntent.objects.get().stripe_data["status"] == "succeeded"
    assert Refund.objects.get().stripe_data["amount"] == 500
    assert Dispute.objects.get().stripe_data["status"] == "won"
    assert set(PAID) <= set(stripe_simulator.event_types())

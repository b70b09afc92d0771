"""Money coming in (a mixin of `StripeSimulator`): payment methods, payment intents, charges,
invoice payments and balance transactions. Money going back is refunds.py's and disputes.py's.

Under the pinned API version (`settings.STRIPE_API_VERSION`) an invoice names no charge or
payment intent and a charge or payment intent names no invoice: the link is the InvoicePayment
(`inpay_…`, `payment.type = "payment_intent"`), listed by `GET /v1/invoice_payments?invoice=…` or
`expand[]=payments` on the invoice. What Stripe does, and the simulator with it:

- An invoice with something to pay gets, when it is finalized, a PaymentIntent
  (`payment_intent.created`) and its default InvoicePayment (status `open`).
- Each attempt makes a Charge: `charge.succeeded`, `payment_intent.succeeded`,
  `invoice_payment.paid` (then the invoice's own events), or `charge.failed` ("Your card was
  declined.") and `payment_intent.payment_failed`. An attempt that needs authentication (3-D
  Secure) makes no charge: `payment_intent.requires_action`, then `invoice.payment_failed` and
  `invoice.payment_action_required`.
- Voiding the invoice cancels its PaymentIntent (`payment_intent.canceled`).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from stripe_simulator.common import (
    PAYMENT_FAILED_MESSAGE,
    StripeError,
    check_params,
    matching,
    missing_param,
    new_id,
)

NULL_ADDRESS = {
    "city": None,
    "country": None,
    "line1": None,
    "line2": None,
    "postal_code": None,
    "state": None,
}


class PaymentsMixin:
    """Needs the host's state (`state.SimulatorState`) and the other resources' mixins (see core.py)."""

    # -------------------------------------------------------- payment methods

    def _new_card(self, customer: dict, *, last4: str = "4242") -> dict:
        """A card PaymentMethod attached to `customer` (`payment_method.attached`)."""
        now = self.now()
        year = datetime.fromtimestamp(now, UTC).year
        card = {
            "allow_redisplay": "unspecified",
            "billing_details": {
                "address": dict(NULL_ADDRESS),
                "email": customer["email"],
                "name": customer["name"],
                "phone": None,
                "tax_id": None,
            },
            "card": {
                "brand": "visa",
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": None,
                    "cvc_check": "pass",
                },
                "country": "US",
                "display_brand": "visa",
                "exp_month": 12,
                "exp_year": year + 4,
                "fingerprint": "QbSimulator" + last4,
                "funding": "credit",
                "generated_from": None,
                "last4": last4,
                "networks": {"available": ["visa"], "preferred": None},
                "regulated_status": "unregulated",
                "three_d_secure_usage": {"supported": True},
                "wallet": None,
            },
            "created": now,
            "customer": customer["id"],
            "customer_account": None,
            "id": new_id("pm_"),
            "livemode": False,
            "metadata": {},
            "object": "payment_method",
            "type": "card",
        }
        self._store("payment_method", card)
        self._emit("payment_method.attached", card)
        return card

    def attach_card(self, customer, *, default: bool = True, deliver: bool = True) -> dict:
        """The customer saves a card (Checkout, the portal, a SetupIntent): `payment_method.attached`
        and, with `default`, `customer.updated` (it becomes `invoice_settings.default_payment_method`).
        Returns the payment method."""
        with self.lock, self.outbox.batch():
            customer = self._get("customer", customer if isinstance(customer, str) else customer["id"])
            card = self._new_card(customer)
            if default:
                settings = customer["invoice_settings"]
                previous = {"invoice_settings": copy.deepcopy(settings)}
                settings["default_payment_method"] = card["id"]
                self._emit("customer.updated", customer, previous)
        if deliver:
            self._after_action()
        return self.render(card["id"])

    def _customers_payment_method(self, customer_id: str, method_id: str) -> dict:
        """`default_payment_method` as a subscription takes it: a card attached to its customer."""
        method = self._get("payment_method", method_id, "default_payment_method")
        if method["customer"] != customer_id:
            raise StripeError(
                400,
                "The customer does not have a payment method with the ID "
                f"{method['id']}. The payment method must be attached to the customer.",
                param="default_payment_method",
            )
        return method

    def _payment_method_of(self, invoice: dict) -> str | None:
        """The card Stripe charges for an invoice: the subscription's default payment method, else
        the customer's `invoice_settings.default_payment_method`."""
        sub = self.objects.get(invoice["parent"]["subscription_details"]["subscription"]) or {}
        customer = self.objects.get(invoice["customer"]) or {}
        return sub.get("default_payment_method") or (customer.get("invoice_settings") or {}).get(
            "default_payment_method"
        )

    def payment_method_list(self, params: dict, customer_id: str | None = None) -> dict:
        check_params(params, ("customer", "type", "limit", "starting_after", "ending_before"))
        with self.lock:
            customer_id = customer_id or params.get("customer")
            methods = self._all("payment_method")
            if customer_id:
                self._get("customer", customer_id, "customer")
                methods = [m for m in methods if m["customer"] == customer_id]
            methods = matching(methods, params, "type")
            url = f"/v1/customers/{customer_id}/payment_methods" if customer_id else "/v1/payment_methods"
            return self.paginate(methods, params, url)

    # ------------------------------------------------------ balance transactions

    def _balance_transaction(
        self, amount: int, currency: str, source: str, kind: str, description: str
    ) -> str:
        now = self.now()
        fee = round(abs(amount) * 0.029) + 30 if kind == "charge" else (1500 if kind == "adjustment" else 0)
        if kind == "adjustment" and amount > 0:
            fee = -1500  # a won dispute gives the dispute fee back
        txn = {
            "amount": amount,
            "available_on": now + 2 * 86400,
            "balance_type": "payments",
            "created": now,
            "currency": currency,
            "description": description,
            "exchange_rate": None,
            "fee": fee,
            "fee_details": (
                [
                    {
                        "amount": fee,
                        "application": None,
                        "currency": currency,
                        "description": "Stripe processing fees" if kind == "charge" else "Dispute fee",
                        "type": "stripe_fee",
                    }
                ]
                if fee
                else []
            ),
            "id": new_id("txn_"),
            "net": amount - fee,
            "object": "balance_transaction",
            "reporting_category": {"charge": "charge", "refund": "refund", "adjustment": "dispute"}[kind],
            "source": source,
            "status": "pending",
            "type": kind,
        }
        self._store("balance_transaction", txn)
        return txn["id"]

    # --------------------------------------------- invoice payment intents

    def _open_payment(self, invoice: dict) -> None:
        """At finalization: the invoice's PaymentIntent and default InvoicePayment."""
        if invoice["amount_due"] <= 0:
            return
        now = self.now()
        pi_id = new_id("pi_")
        method = self._payment_method_of(invoice)
        intent = {
            "amount": invoice["amount_due"],
            "amount_capturable": 0,
            "amount_details": {"tip": {}},
            "amount_received": 0,
            "application": None,
            "application_fee_amount": None,
            "automatic_payment_methods": None,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic",
            "client_secret": f"{pi_id}_secret_{new_id('', 25)}",
            "confirmation_method": "automatic",
            "created": now,
            "currency": invoice["currency"],
            "customer": invoice["customer"],
            "customer_account": None,
            "description": self._payment_description(invoice),
            "excluded_payment_method_types": None,
            "id": pi_id,
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "managed_payments": {"enabled": False},
            "metadata": {},
            "next_action": None,
            "object": "payment_intent",
            "on_behalf_of": None,
            "payment_method": method,
            "payment_method_configuration_details": None,
            "payment_method_options": {},
            "payment_method_types": ["card"],
            "processing": None,
            "receipt_email": None,
            "review": None,
            "setup_future_usage": "off_session",
            "shipping": None,
            "source": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": "requires_confirmation" if method else "requires_payment_method",
            "transfer_data": None,
            "transfer_group": None,
        }
        self._store("payment_intent", intent, invoice=invoice["id"])
        payment = {
            "amount_paid": None,
            "amount_requested": invoice["amount_due"],
            "created": now,
            "currency": invoice["currency"],
            "id": new_id("inpay_"),
            "invoice": invoice["id"],
            "is_default": True,
            "livemode": False,
            "object": "invoice_payment",
            "payment": {"payment_intent": pi_id, "type": "payment_intent"},
            "status": "open",
            "status_transitions": {"canceled_at": None, "paid_at": None},
        }
        self._store("invoice_payment", payment)
        self.internal[invoice["id"]]["payment_intent"] = pi_id
        self.internal[invoice["id"]]["invoice_payment"] = payment["id"]
        self._emit("payment_intent.created", intent)

    @staticmethod
    def _payment_description(invoice: dict) -> str:
        return {
            "subscription_create": "Subscription creation",
            "subscription_cycle": "Subscription update",
            "subscription_update": "Subscription update",
        }.get(invoice["billing_reason"], "Payment for Invoice")

    def _intent_of(self, invoice: dict) -> dict | None:
        pi_id = self.internal.get(invoice["id"], {}).get("payment_intent")
        return self.objects.get(pi_id) if pi_id else None

    def _charge_invoice(self, invoice: dict, outcome: str) -> bool:
        """One payment attempt on an open invoice: "succeed", "decline" or "requires_action".
        Emits the payment events (not the invoice's); True when paid."""
        intent = self._intent_of(invoice)
        if intent is None:  # an invoice from an older state file: give it its payment now
            self._open_payment(invoice)
            intent = self._intent_of(invoice)
        method = intent["payment_method"] or self._payment_method_of(invoice)
        if outcome == "succeed" and method is None:
            # paid by hand (hosted invoice page, new card): the card is attached first
            method = self._new_card(self.objects[invoice["customer"]])["id"]
        intent["payment_method"] = method
        if outcome == "requires_action":
            intent.update(
                status="requires_action",
                next_action={
                    "type": "use_stripe_sdk",
                    "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": ""},
                },
                last_payment_error=None,
            )
            self._emit("payment_intent.requires_action", intent)
            return False
        if method is None:  # nothing to charge: the attempt fails without a charge
            intent.update(
                status="requires_payment_method",
                last_payment_error={
                    "code": "payment_intent_payment_attempt_failed",
                    "doc_url": "https://stripe.com/docs/error-codes/payment-intent-payment-attempt-failed",
                    "message": "The customer has no payment method to charge.",
                    "type": "invalid_request_error",
                },
            )
            self._emit("payment_intent.payment_failed", intent)
            return False
        succeeded = outcome == "succeed"
        charge = self._new_charge(intent, method, succeeded, self._payment_description(invoice))
        intent["latest_charge"] = charge["id"]
        intent["next_action"] = None
        if succeeded:
            intent.update(status="succeeded", amount_received=intent["amount"], last_payment_error=None)
            self._emit("charge.succeeded", charge)
            self._emit("payment_intent.succeeded", intent)
            payment = self.objects[self.internal[invoice["id"]]["invoice_payment"]]
            payment.update(status="paid", amount_paid=intent["amount"])
            payment["status_transitions"]["paid_at"] = self.now()
            self._emit("invoice_payment.paid", payment)
            return True
        intent.update(
            status="requires_payment_method",
            last_payment_error={
                "charge": charge["id"],
                "code": "card_declined",
                "decline_code": "generic_decline",
                "doc_url": "https://stripe.com/docs/error-codes/card-declined",
                "message": PAYMENT_FAILED_MESSAGE,
                "payment_method": copy.deepcopy(self.objects[method]),
                "type": "card_error",
            },
        )
        self._emit("charge.failed", charge)
        self._emit("payment_intent.payment_failed", intent)
        return False

    def _new_charge(self, intent: dict, method: str, succeeded: bool, description: str) -> dict:
        now = self.now()
        charge_id = new_id("ch_")
        card = self.objects[method]
        charge = {
            "amount": intent["amount"],
            "amount_captured": intent["amount"] if succeeded else 0,
            "amount_refunded": 0,
            "application": None,
            "application_fee": None,
            "application_fee_amount": None,
            "balance_transaction": (
                self._balance_transaction(
                    intent["amount"], intent["currency"], charge_id, "charge", description
                )
                if succeeded
                else None
            ),
            "billing_details": copy.deepcopy(card["billing_details"]),
            "calculated_statement_descriptor": "QUALITYBYTES",
            "captured": succeeded,
            "created": now,
            "currency": intent["currency"],
            "customer": intent["customer"],
            "description": description,
            "disputed": False,
            "failure_balance_transaction": None,
            "failure_code": None if succeeded else "card_declined",
            "failure_message": None if succeeded else PAYMENT_FAILED_MESSAGE,
            "fraud_details": {},
            "id": charge_id,
            "livemode": False,
            "metadata": {},
            "object": "charge",
            "on_behalf_of": None,
            "outcome": {
                "advice_code": None if succeeded else "try_again_later",
                "network_advice_code": None,
                "network_decline_code": None,
                "network_status": "approved_by_network" if succeeded else "declined_by_network",
                "reason": None if succeeded else "generic_decline",
                "seller_message": (
                    "Payment complete."
                    if succeeded
                    else "The bank did not return any further details with this decline."
                ),
                "type": "authorized" if succeeded else "issuer_declined",
            },
            "paid": succeeded,
            "payment_intent": intent["id"],
            "payment_method": method,
            "payment_method_details": {
                "card": {
                    "amount_authorized": intent["amount"] if succeeded else None,
                    "authorization_code": "123456" if succeeded else None,
                    "brand": card["card"]["brand"],
                    "checks": copy.deepcopy(card["card"]["checks"]),
                    "country": card["card"]["country"],
                    "exp_month": card["card"]["exp_month"],
                    "exp_year": card["card"]["exp_year"],
                    "extended_authorization": {"status": "disabled"},
                    "fingerprint": card["card"]["fingerprint"],
                    "funding": card["card"]["funding"],
                    "incremental_authorization": {"status": "unavailable"},
                    "installments": None,
                    "last4": card["card"]["last4"],
                    "mandate": None,
                    "multicapture": {"status": "unavailable"},
                    "network": "visa",
                    "network_token": {"used": False},
                    "network_transaction_id": "QBSIM" + charge_id[-10:],
                    "overcapture": {"maximum_amount_capturable": intent["amount"], "status": "unavailable"},
                    "regulated_status": "unregulated",
                    "three_d_secure": None,
                    "transaction_link_id": None,
                    "wallet": None,
                },
                "type": "card",
            },
            "receipt_email": None,
            "receipt_number": None,
            "receipt_url": f"{self.public_url}/receipts/{charge_id}",
            "refunded": False,
            "refunds": self._list([], f"/v1/charges/{charge_id}/refunds"),
            "review": None,
            "shipping": None,
            "source": None,
            "source_transfer": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": "succeeded" if succeeded else "failed",
            "transfer_data": None,
            "transfer_group": None,
        }
        self._store("charge", charge, refunds=[])
        return charge

    def _cancel_payment(self, invoice: dict) -> None:
        """The invoice is voided: its PaymentIntent is canceled, its InvoicePayment too."""
        intent = self._intent_of(invoice)
        payment_id = self.internal.get(invoice["id"], {}).get("invoice_payment")
        now = self.now()
        if payment_id and self.objects[payment_id]["status"] == "open":
            payment = self.objects[payment_id]
            payment["status"] = "canceled"
            payment["status_transitions"]["canceled_at"] = now
        if intent and intent["status"] not in ("succeeded", "canceled"):
            intent.update(
                status="canceled", canceled_at=now, cancellation_reason="void_invoice", next_action=None
            )
            self._emit("payment_intent.canceled", intent)

    def render_payment(self, obj: dict) -> dict:
        """Rendering hook: a charge lists its refunds, newest first."""
        if obj.get("object") == "charge":
            refunds = [copy.deepcopy(self.objects[r]) for r in reversed(self.internal[obj["id"]]["refunds"])]
            obj["refunds"] = self._list(refunds, f"/v1/charges/{obj['id']}/refunds")
        return obj

    def invoice_payments_of(self, invoice_id: str) -> dict:
        """`invoice.payments` when expanded."""
        payments = [p for p in self._all("invoice_payment") if p["invoice"] == invoice_id]
        return self._list([self.render(p["id"]) for p in payments], f"/v1/invoices/{invoice_id}/payments")

    # ------------------------------------------------------------ list APIs

    def charge_list(self, params: dict) -> dict:
        check_params(
            params,
            (
                "customer",
                "payment_intent",
                "transfer_group",
                "created",
                "limit",
                "starting_after",
                "ending_before",
            ),
        )
        with self.lock:
            charges = self._all("charge")
            charges = matching(charges, params, "customer", "payment_intent")
            return self.paginate(charges, params, "/v1/charges")

    def payment_intent_list(self, params: dict) -> dict:
        check_params(params, ("customer", "created", "limit", "starting_after", "ending_before"))
        with self.lock:
            intents = self._all("payment_intent")
            intents = matching(intents, params, "customer")
            return self.paginate(intents, params, "/v1/payment_intents")

    def invoice_payment_list(self, params: dict) -> dict:
        check_params(
            params, ("invoice", "payment", "status", "created", "limit", "starting_after", "ending_before")
        )
        with self.lock:
            payments = self._all("invoice_payment")
            payments = matching(payments, params, "invoice")
            if params.get("payment"):
                payment = params["payment"]
                if not isinstance(payment, dict):
                    raise StripeError(400, "Invalid object", param="payment")
                check_params(payment, ("type", "payment_intent", "payment_record"))
                if not payment.get("type"):
                    raise missing_param("payment[type]")
                payments = [p for p in payments if p["payment"]["type"] == payment["type"]]
                if payment.get("payment_intent"):
                    payments = [
                        p for p in payments if p["payment"]["payment_intent"] == payment["payment_intent"]
                    ]
            payments = matching(payments, params, "status")
            return self.paginate(payments, params, "/v1/invoice_payments")

    def balance_transaction_list(self, params: dict) -> dict:
        check_params(params, ("source", "type", "created", "limit", "starting_after", "ending_before"))
        with self.lock:
            txns = self._all("balance_transaction")
            txns = matching(txns, params, "source", "type")
            return self.paginate(txns, params, "/v1/balance_transactions")

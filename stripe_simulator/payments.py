"""Money movements of the Stripe simulator: payment methods, payment intents, charges, invoice
payments, balance transactions, refunds and disputes (a mixin of `StripeSimulator`).

Under API version 2026-08-26.dahlia an invoice names no charge or payment intent and a charge or
payment intent names no invoice: the link is the InvoicePayment (`inpay_…`, `payment.type =
"payment_intent"`), listed by `GET /v1/invoice_payments?invoice=…` or `expand[]=payments` on the
invoice. What Stripe does, and the simulator with it:

- An invoice with something to pay gets, when it is finalized, a PaymentIntent
  (`payment_intent.created`) and its default InvoicePayment (status `open`).
- Each attempt makes a Charge: `charge.succeeded`, `payment_intent.succeeded`,
  `invoice_payment.paid` (then the invoice's own events), or `charge.failed` ("Your card was
  declined.") and `payment_intent.payment_failed`. An attempt that needs authentication (3-D
  Secure) makes no charge: `payment_intent.requires_action`, then `invoice.payment_failed` and
  `invoice.payment_action_required`.
- Voiding the invoice cancels its PaymentIntent (`payment_intent.canceled`).
- Refunds: `refund.created`, `charge.refunded`. Disputes: `charge.dispute.created`,
  `charge.dispute.funds_withdrawn`; closing: `charge.dispute.closed`, plus
  `charge.dispute.funds_reinstated` when won.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from stripe_simulator.common import (
    PAYMENT_FAILED_MESSAGE,
    StripeError,
    as_int,
    as_list,
    check_params,
    merge_metadata,
    missing,
    money,
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
DISPUTE_REASONS = (
    "bank_cannot_process",
    "check_returned",
    "credit_not_processed",
    "customer_initiated",
    "debit_not_authorized",
    "duplicate",
    "fraudulent",
    "general",
    "incorrect_account_details",
    "insufficient_funds",
    "noncompliant",
    "product_not_received",
    "product_unacceptable",
    "subscription_canceled",
    "unrecognized",
)
NETWORK_REASON_CODES = {"fraudulent": "10.4", "duplicate": "12.6.1", "subscription_canceled": "13.2"}
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


class PaymentsMixin:
    """Needs the host's `_store`, `_get`, `_all`, `_emit`, `render`, `paginate`, `objects`,
    `internal`, `lock`, `outbox`, `now` and `public_url` (see core.StripeSimulator)."""

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
            if params.get("type"):
                methods = [m for m in methods if m["type"] == params["type"]]
            url = f"/v1/customers/{customer_id}/payment_methods" if customer_id else "/v1/payment_methods"
            return self.paginate(methods, params, url, as_list(params.get("expand"), "expand"))

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
            for key in ("customer", "payment_intent"):
                if params.get(key):
                    charges = [c for c in charges if c[key] == params[key]]
            return self.paginate(charges, params, "/v1/charges", as_list(params.get("expand"), "expand"))

    def payment_intent_list(self, params: dict) -> dict:
        check_params(params, ("customer", "created", "limit", "starting_after", "ending_before"))
        with self.lock:
            intents = self._all("payment_intent")
            if params.get("customer"):
                intents = [i for i in intents if i["customer"] == params["customer"]]
            return self.paginate(
                intents, params, "/v1/payment_intents", as_list(params.get("expand"), "expand")
            )

    def invoice_payment_list(self, params: dict) -> dict:
        check_params(
            params, ("invoice", "payment", "status", "created", "limit", "starting_after", "ending_before")
        )
        with self.lock:
            payments = self._all("invoice_payment")
            if params.get("invoice"):
                payments = [p for p in payments if p["invoice"] == params["invoice"]]
            if params.get("payment"):
                payment = params["payment"]
                if not isinstance(payment, dict):
                    raise StripeError(400, "Invalid object", param="payment")
                check_params(payment, ("type", "payment_intent", "payment_record"))
                if not payment.get("type"):
                    raise StripeError(400, "Missing required param: payment[type].", param="payment[type]")
                payments = [p for p in payments if p["payment"]["type"] == payment["type"]]
                if payment.get("payment_intent"):
                    payments = [
                        p for p in payments if p["payment"]["payment_intent"] == payment["payment_intent"]
                    ]
            if params.get("status"):
                payments = [p for p in payments if p["status"] == params["status"]]
            return self.paginate(
                payments, params, "/v1/invoice_payments", as_list(params.get("expand"), "expand")
            )

    def balance_transaction_list(self, params: dict) -> dict:
        check_params(params, ("source", "type", "created", "limit", "starting_after", "ending_before"))
        with self.lock:
            txns = self._all("balance_transaction")
            for key in ("source", "type"):
                if params.get(key):
                    txns = [t for t in txns if t[key] == params[key]]
            return self.paginate(
                txns, params, "/v1/balance_transactions", as_list(params.get("expand"), "expand")
            )

    # --------------------------------------------------------------- refunds

    def _charge_of(self, target: str, param: str = "charge") -> dict:
        """The charge behind a charge, payment intent or invoice id (its successful charge)."""
        kind = self.kind_of(target) if isinstance(target, str) else None
        if kind == "charge":
            return self._get("charge", target, param)
        if kind == "payment_intent":
            intent = self._get("payment_intent", target, param)
            charges = [c for c in self._all("charge") if c["payment_intent"] == intent["id"]]
            paid = [c for c in charges if c["status"] == "succeeded"]
            if not paid:
                raise StripeError(
                    400,
                    f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                    code="charge_not_refundable",
                    param=param,
                )
            return paid[0]
        if kind == "invoice":
            invoice = self._get("invoice", target, param)
            intent = self._intent_of(invoice)
            if intent is None or intent["status"] != "succeeded":
                raise StripeError(400, f"Invoice {invoice['id']} has no successful payment.", param=param)
            return self._charge_of(intent["id"], param)
        raise missing("charge" if param == "charge" else "payment_intent", str(target), param)

    def refund_create(self, params: dict) -> dict:
        check_params(
            params,
            (
                "charge",
                "payment_intent",
                "amount",
                "reason",
                "metadata",
                "instructions_email",
                "refund_application_fee",
            ),
        )
        if params.get("charge") and params.get("payment_intent"):
            raise StripeError(
                400, "You cannot specify both charge and payment_intent.", param="payment_intent"
            )
        if not params.get("charge") and not params.get("payment_intent"):
            raise StripeError(
                400,
                "One of the following params should be provided for this request: payment_intent or charge.",
            )
        reason = params.get("reason") or None
        if reason and reason not in REFUND_REASONS:
            raise StripeError(
                400,
                f"Invalid reason: must be one of {', '.join(REFUND_REASONS)}",
                param="reason",
                code="parameter_invalid_empty" if reason == "" else None,
            )
        with self.lock:
            if params.get("charge"):
                charge = self._get("charge", params["charge"], "charge")
            else:
                charge = self._charge_of(
                    self._get("payment_intent", params["payment_intent"], "payment_intent")["id"],
                    "payment_intent",
                )
            return self.render(
                self._refund(charge, params.get("amount"), reason, params.get("metadata"))["id"]
            )

    def _refund(self, charge: dict, amount, reason: str | None, metadata=None) -> dict:
        if charge["status"] != "succeeded":
            raise StripeError(
                400,
                f"Charge {charge['id']} has not been captured; it cannot be refunded.",
                code="charge_not_refundable",
                param="charge",
            )
        if charge["disputed"]:
            raise StripeError(
                400,
                f"Charge {charge['id']} has been charged back; cannot issue a refund.",
                code="charge_disputed",
                param="charge",
            )
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining <= 0:
            raise StripeError(
                400, f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
            )
        amount = remaining if amount in (None, "") else as_int(amount, "amount")
        if amount <= 0:
            raise StripeError(400, "Invalid positive integer", param="amount")
        if amount > remaining:
            raise StripeError(
                400,
                f"Refund amount ({money(amount, charge['currency'])}) is greater than unrefunded amount "
                f"on charge ({money(remaining, charge['currency'])})",
                param="amount",
            )
        refund_id = new_id("re_")
        refund = {
            "amount": amount,
            "balance_transaction": self._balance_transaction(
                -amount,
                charge["currency"],
                refund_id,
                "refund",
                f"REFUND FOR CHARGE ({charge['description']})",
            ),
            "charge": charge["id"],
            "created": self.now(),
            "currency": charge["currency"],
            "customer": charge["customer"],
            "customer_account": None,
            "destination_details": {"card": {"type": "refund"}, "type": "card"},
            "id": refund_id,
            "metadata": merge_metadata({}, metadata),
            "object": "refund",
            "payment_intent": charge["payment_intent"],
            "payment_method": charge["payment_method"],
            "reason": reason,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": None,
        }
        self._store("refund", refund)
        self.internal[charge["id"]]["refunds"].append(refund_id)
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        previous = {k: v for k, v in previous.items() if charge[k] != v}
        self._emit("refund.created", refund)
        self._emit("charge.refunded", charge, previous)
        return refund

    def refund_list(self, params: dict) -> dict:
        check_params(
            params, ("charge", "payment_intent", "created", "limit", "starting_after", "ending_before")
        )
        with self.lock:
            refunds = self._all("refund")
            for key in ("charge", "payment_intent"):
                if params.get(key):
                    refunds = [r for r in refunds if r[key] == params[key]]
            return self.paginate(refunds, params, "/v1/refunds", as_list(params.get("expand"), "expand"))

    def refund(
        self, target, amount: int | None = None, *, reason: str | None = None, deliver: bool = True
    ) -> dict:
        """Refunded in the Stripe Dashboard: `target` is a charge, payment intent or (paid) invoice
        id; `amount` defaults to what is left. Emits `refund.created`, `charge.refunded`."""
        with self.lock, self.outbox.batch():
            refund = self._refund(self._charge_of(target), amount, reason)
        if deliver:
            self._after_action()
        return self.render(refund["id"])

    # -------------------------------------------------------------- disputes

    def dispute(self, target, reason: str = "fraudulent", *, deliver: bool = True) -> dict:
        """The cardholder disputes the payment (a chargeback): dispute `needs_response`, the charge
        `disputed`, the funds withdrawn. Emits `charge.dispute.created`,
        `charge.dispute.funds_withdrawn`. `target`: a charge, payment intent or paid invoice id."""
        if reason not in DISPUTE_REASONS:
            raise ValueError(f"reason must be one of {DISPUTE_REASONS}")
        with self.lock, self.outbox.batch():
            charge = self._charge_of(target)
            if charge["disputed"]:
                raise StripeError(400, f"Charge {charge['id']} is already disputed.")
            now = self.now()
            amount = charge["amount"] - charge["amount_refunded"]
            dispute_id = new_id("du_")
            dispute = {
                "amount": amount,
                "balance_transactions": [],
                "charge": charge["id"],
                "created": now,
                "currency": charge["currency"],
                "enhanced_eligibility_types": [],
                "evidence": {
                    key: None
                    for key in (
                        "access_activity_log",
                        "billing_address",
                        "cancellation_policy",
                        "cancellation_policy_disclosure",
                        "cancellation_rebuttal",
                        "customer_communication",
                        "customer_email_address",
                        "customer_name",
                        "customer_purchase_ip",
                        "customer_signature",
                        "duplicate_charge_documentation",
                        "duplicate_charge_explanation",
                        "duplicate_charge_id",
                        "product_description",
                        "receipt",
                        "refund_policy",
                        "refund_policy_disclosure",
                        "refund_refusal_explanation",
                        "service_date",
                        "service_documentation",
                        "shipping_address",
                        "shipping_carrier",
                        "shipping_date",
                        "shipping_documentation",
                        "shipping_tracking_number",
                        "uncategorized_file",
                        "uncategorized_text",
                    )
                }
                | {"enhanced_evidence": {}},
                "evidence_details": {
                    "due_by": now + 21 * 86400,
                    "enhanced_eligibility": {},
                    "has_evidence": False,
                    "past_due": False,
                    "submission_count": 0,
                },
                "id": dispute_id,
                "is_charge_refundable": False,
                "livemode": False,
                "metadata": {},
                "object": "dispute",
                "payment_intent": charge["payment_intent"],
                "payment_method_details": {
                    "card": {
                        "brand": "visa",
                        "case_type": "chargeback",
                        "network": "visa",
                        "network_reason_code": NETWORK_REASON_CODES.get(reason, "13.1"),
                    },
                    "type": "card",
                },
                "reason": reason,
                "status": "needs_response",
            }
            self._store("dispute", dispute)
            charge["disputed"] = True
            self._emit("charge.dispute.created", dispute)
            txn = self._balance_transaction(
                -amount,
                charge["currency"],
                dispute_id,
                "adjustment",
                f"Chargeback withdrawal for {charge['id']}",
            )
            dispute["balance_transactions"].append(copy.deepcopy(self.objects[txn]))
            self._emit("charge.dispute.funds_withdrawn", dispute)
        if deliver:
            self._after_action()
        return self.render(dispute_id)

    def _close_dispute(self, dispute: dict, won: bool) -> None:
        if dispute["status"] in ("won", "lost", "warning_closed"):
            raise StripeError(
                400, f"This dispute is already closed (status: {dispute['status']}).", param="dispute"
            )
        dispute["status"] = "won" if won else "lost"
        self._emit("charge.dispute.closed", dispute)
        if won:
            charge = self.objects[dispute["charge"]]
            txn = self._balance_transaction(
                dispute["amount"],
                dispute["currency"],
                dispute["id"],
                "adjustment",
                f"Chargeback reversal for {charge['id']}",
            )
            dispute["balance_transactions"].append(copy.deepcopy(self.objects[txn]))
            self._emit("charge.dispute.funds_reinstated", dispute)

    def close_dispute(self, dispute_id: str, won: bool, *, deliver: bool = True) -> dict:
        """The card network decides: `won` (funds reinstated) or lost. Emits `charge.dispute.closed`
        and, when won, `charge.dispute.funds_reinstated`."""
        with self.lock, self.outbox.batch():
            self._close_dispute(self._get("dispute", dispute_id), won)
        if deliver:
            self._after_action()
        return self.render(dispute_id)

    def dispute_close(self, dispute_id: str, params: dict) -> dict:
        """POST /v1/disputes/:id/close: accepting the dispute, which is then lost."""
        check_params(params, ())
        with self.lock:
            self._close_dispute(self._get("dispute", dispute_id), won=False)
            return self.render(dispute_id)

    def dispute_list(self, params: dict) -> dict:
        check_params(
            params, ("charge", "payment_intent", "created", "limit", "starting_after", "ending_before")
        )
        with self.lock:
            disputes = self._all("dispute")
            for key in ("charge", "payment_intent"):
                if params.get(key):
                    disputes = [d for d in disputes if d[key] == params[key]]
            return self.paginate(disputes, params, "/v1/disputes", as_list(params.get("expand"), "expand"))

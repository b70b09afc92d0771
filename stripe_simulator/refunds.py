"""Refunds (a mixin of `StripeSimulator`): `POST /v1/refunds` and the tests' `refund()`:
`refund.created`, `charge.refunded`, with the balance transaction Stripe books.
"""

from __future__ import annotations

from stripe_simulator.common import (
    StripeError,
    as_int,
    check_params,
    matching,
    merge_metadata,
    missing,
    money,
    new_id,
)

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


class RefundsMixin:
    """Needs the host's state (`state.SimulatorState`) and the other resources' mixins (see core.py)."""

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
            refunds = matching(refunds, params, "charge", "payment_intent")
            return self.paginate(refunds, params, "/v1/refunds")

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

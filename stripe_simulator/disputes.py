"""Disputes (a mixin of `StripeSimulator`): the tests' `dispute()` and `close_dispute()` and
`POST /v1/disputes/:id/close`: `charge.dispute.created`, `charge.dispute.funds_withdrawn`;
closing: `charge.dispute.closed`, plus `charge.dispute.funds_reinstated` when won.
"""

from __future__ import annotations

import copy

from stripe_simulator.common import (
    StripeError,
    check_params,
    matching,
    new_id,
)

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


class DisputesMixin:
    """Needs the host's state (`state.SimulatorState`) and the other resources' mixins (see core.py)."""

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
            disputes = matching(disputes, params, "charge", "payment_intent")
            return self.paginate(disputes, params, "/v1/disputes")

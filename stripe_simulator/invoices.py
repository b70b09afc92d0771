"""Invoices (a mixin of `StripeSimulator`): drafting and finalizing a subscription's invoice,
attempting its payment, settling it (the subscription's status follows), paying, voiding,
listing and previewing the upcoming one.
"""

from __future__ import annotations

import copy

from stripe_simulator.common import (
    PRORATION_BEHAVIORS,
    StripeError,
    add_interval,
    as_int,
    as_list,
    card_declined,
    check_params,
    matching,
    missing_param,
    money,
    new_id,
    one_of,
)


class InvoicesMixin:
    """Needs the host's state (`state.SimulatorState`) and the other resources' mixins (see core.py)."""

    # ------------------------------------------------------------ invoices

    def _next_invoice_number(self, customer: dict) -> str:
        number = f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}"
        customer["next_invoice_sequence"] += 1
        return number

    def _invoice_line(
        self,
        invoice_id: str,
        sub: dict,
        item: dict,
        price: dict,
        *,
        amount: int,
        quantity: int,
        start: int,
        end: int,
        proration: bool = False,
        description: str | None = None,
    ) -> dict:
        product = self.objects[price["product"]]
        interval = (price["recurring"] or {}).get("interval", "month")
        return {
            "amount": amount,
            "currency": price["currency"],
            "description": description
            or f"{quantity} × {product['name']} "
            f"(at {money(price['unit_amount'], price['currency'])} / {interval})",
            "discount_amounts": [],
            "discountable": not proration,
            "discounts": [],
            "id": new_id("il_"),
            "invoice": invoice_id,
            "livemode": False,
            "metadata": {},
            "object": "line_item",
            "parent": {
                "invoice_item_details": None,
                "subscription_item_details": {
                    "invoice_item": new_id("ii_") if proration else None,
                    "proration": proration,
                    "proration_details": {"credited_items": None},
                    "subscription": sub["id"],
                    "subscription_item": item["id"],
                },
                "type": "subscription_item_details",
            },
            "period": {"end": end, "start": start},
            "pretax_credit_amounts": [],
            "pricing": {
                "price_details": {"price": price["id"], "product": price["product"]},
                "type": "price_details",
                "unit_amount_decimal": price["unit_amount_decimal"],
            },
            "quantity": quantity,
            "quantity_decimal": str(quantity),
            "subscription": None,
            "subtotal": amount,
            "taxes": [],
        }

    def _create_invoice(self, sub: dict, billing_reason: str, lines_spec: list[dict]) -> dict:
        """A draft invoice for `sub`; `lines_spec` are kwargs for `_invoice_line`."""
        customer = self.objects[sub["customer"]]
        now = self.now()
        invoice_id = new_id("in_")
        lines = [self._invoice_line(invoice_id, sub, **spec) for spec in lines_spec]
        total = sum(line["amount"] for line in lines)
        # The customer's balance applies to the invoice: a credit (negative) lowers what is
        # due, a debit adds to it; what is left of a credit, or a negative total, stays with
        # the customer for the next invoices.
        starting_balance = customer["balance"]
        due = total + starting_balance
        starts = [line["period"]["start"] for line in lines] or [now]
        ends = [line["period"]["end"] for line in lines] or [now]
        invoice = {
            "account_country": "US",
            "account_name": "QualityBytes (simulator)",
            "account_tax_ids": None,
            "amount_due": max(due, 0),
            "amount_overpaid": 0,
            "amount_paid": 0,
            "amount_remaining": max(due, 0),
            "amount_shipping": 0,
            "application": None,
            "attempt_count": 0,
            "attempted": False,
            "auto_advance": True,
            "automatic_tax": {
                "disabled_reason": None,
                "enabled": False,
                "liability": None,
                "provider": None,
                "status": None,
            },
            "automatically_finalizes_at": None,
            "billing_reason": billing_reason,
            "collection_method": "charge_automatically",
            "created": now,
            "currency": sub["currency"],
            "custom_fields": None,
            "customer": customer["id"],
            "customer_account": None,
            "customer_address": customer["address"],
            "customer_email": customer["email"],
            "customer_name": customer["name"],
            "customer_phone": customer["phone"],
            "customer_shipping": None,
            "customer_tax_exempt": "none",
            "customer_tax_ids": [],
            "default_payment_method": None,
            "default_source": None,
            "default_tax_rates": [],
            "description": None,
            "discounts": [],
            "due_date": None,
            "effective_at": None,
            "ending_balance": None,
            "footer": None,
            "from_invoice": None,
            "hosted_invoice_url": None,
            "id": invoice_id,
            "invoice_pdf": None,
            "issuer": {"type": "self"},
            "last_finalization_error": None,
            "latest_revision": None,
            "lines": self._list(lines, f"/v1/invoices/{invoice_id}/lines"),
            "livemode": False,
            "metadata": {},
            "next_payment_attempt": None,
            "number": None,
            "object": "invoice",
            "on_behalf_of": None,
            "parent": {
                "quote_details": None,
                "subscription_details": {
                    "metadata": copy.deepcopy(sub["metadata"]),
                    "subscription": sub["id"],
                },
                "type": "subscription_details",
            },
            "payment_settings": {
                "default_mandate": None,
                "payment_method_options": None,
                "payment_method_types": None,
            },
            # a first invoice covers its period; later ones report the usage period that just ended
            "period_end": max(ends) if billing_reason == "subscription_create" else min(starts),
            "period_start": min(starts),
            "post_payment_credit_notes_amount": 0,
            "pre_payment_credit_notes_amount": 0,
            "receipt_number": None,
            "rendering": None,
            "shipping_cost": None,
            "shipping_details": None,
            "starting_balance": starting_balance,
            "statement_descriptor": None,
            "status": "draft",
            "status_transitions": {
                "finalized_at": None,
                "marked_uncollectible_at": None,
                "paid_at": None,
                "voided_at": None,
            },
            "subscription": None,
            "subtotal": total,
            "subtotal_excluding_tax": total,
            "test_clock": None,
            "total": total,
            "total_discount_amounts": [],
            "total_excluding_tax": total,
            "total_pretax_credit_amounts": [],
            "total_taxes": [],
            "webhooks_delivered_at": now,
        }
        self._store("invoice", invoice)
        sub["latest_invoice"] = invoice_id
        self._emit("invoice.created", invoice)
        invoice["status"] = "open"
        invoice["number"] = self._next_invoice_number(customer)
        invoice["effective_at"] = now
        invoice["status_transitions"]["finalized_at"] = now
        invoice["hosted_invoice_url"] = f"{self.public_url}/invoice/{invoice_id}"
        invoice["invoice_pdf"] = f"{self.public_url}/invoice/{invoice_id}/pdf"
        invoice["ending_balance"] = min(due, 0)
        self._emit("invoice.finalized", invoice)
        if customer["balance"] != invoice["ending_balance"]:
            previous = {"balance": customer["balance"]}
            customer["balance"] = invoice["ending_balance"]
            self._emit("customer.updated", customer, previous)
        self._open_payment(invoice)
        return invoice

    def _take_payment_outcome(self, succeed: bool | None) -> str:
        """ "succeed", "decline" or "requires_action" for the next charge the API triggers."""
        if succeed is not None:
            return "succeed" if succeed else "decline"
        if self.failing_payments:
            self.failing_payments -= 1
            return self.failing_outcome
        return "succeed"

    def _attempt_payment(self, invoice: dict, succeed: bool | str) -> bool:
        """Charge an open invoice. Paid: the payment events, `invoice.updated`, `invoice.paid`,
        `invoice.payment_succeeded`. Not paid: the payment events, `invoice.updated`,
        `invoice.payment_failed` (and `invoice.payment_action_required` when the card asks for
        authentication)."""
        outcome = succeed if isinstance(succeed, str) else ("succeed" if succeed else "decline")
        now = self.now()
        if invoice["amount_due"] == 0:
            invoice.update(
                status="paid",
                amount_paid=0,
                amount_remaining=0,
                attempted=True,
                next_payment_attempt=None,
            )
            invoice["status_transitions"]["paid_at"] = now
            self._emit("invoice.paid", invoice)
            self._emit("invoice.payment_succeeded", invoice)
            return True
        watched = (
            "amount_paid",
            "amount_remaining",
            "attempt_count",
            "attempted",
            "next_payment_attempt",
            "status",
        )
        before = {key: copy.deepcopy(invoice[key]) for key in (*watched, "status_transitions")}
        paid = self._charge_invoice(invoice, outcome)
        if paid:
            invoice.update(
                status="paid",
                amount_paid=invoice["amount_due"],
                amount_remaining=0,
                attempted=True,
                attempt_count=invoice["attempt_count"] + 1,
                next_payment_attempt=None,
            )
            invoice["status_transitions"]["paid_at"] = now
        else:
            invoice.update(
                attempted=True,
                attempt_count=invoice["attempt_count"] + 1,
                next_payment_attempt=now + 3 * 86400,
            )
        self._emit("invoice.updated", invoice, {k: v for k, v in before.items() if invoice[k] != v})
        if paid:
            self._emit("invoice.paid", invoice)
            self._emit("invoice.payment_succeeded", invoice)
            return True
        self._emit("invoice.payment_failed", invoice)
        if outcome == "requires_action":
            self._emit("invoice.payment_action_required", invoice)
        return False

    def invoice_list(self, params: dict) -> dict:
        check_params(
            params,
            (
                "customer",
                "subscription",
                "status",
                "collection_method",
                "limit",
                "starting_after",
                "ending_before",
                "created",
            ),
        )
        with self.lock:
            invoices = self._all("invoice")
            invoices = matching(invoices, params, "customer")
            if params.get("subscription"):
                invoices = [
                    i
                    for i in invoices
                    if i["parent"]["subscription_details"]["subscription"] == params["subscription"]
                ]
            invoices = matching(invoices, params, "status")
            return self.paginate(invoices, params, "/v1/invoices")

    def invoice_lines(self, invoice_id: str, params: dict) -> dict:
        check_params(params, ("limit", "starting_after", "ending_before"))
        with self.lock:
            invoice = self._get("invoice", invoice_id)
            return copy.deepcopy(invoice["lines"])

    def invoice_pay(self, invoice_id: str, params: dict) -> dict:
        """POST /v1/invoices/:id/pay - also what a customer's new card on the hosted page does."""
        check_params(params, ("paid_out_of_band", "payment_method", "off_session"))
        with self.lock:
            invoice = self._get("invoice", invoice_id)
            if invoice["status"] == "paid":
                raise StripeError(400, "Invoice is already paid", code="invoice_already_paid")
            if invoice["status"] != "open":
                raise StripeError(400, f"You cannot pay an invoice with status {invoice['status']}.")
            outcome = self._take_payment_outcome(None)
            if not self._settle(invoice, outcome):
                raise card_declined()
            return self.render(invoice_id)

    def _settle(self, invoice: dict, succeed: bool | str) -> bool:
        """Pay an invoice and bring its subscription back to active when it was the one overdue
        (or the first one of an incomplete subscription); a pending update waiting for this
        invoice is applied. Returns whether it was paid."""
        paid = self._attempt_payment(invoice, succeed)
        sub_id = invoice["parent"]["subscription_details"]["subscription"]
        sub = self.objects.get(sub_id)
        if sub is None:
            return paid
        pending = self.internal[sub["id"]].get("pending")
        if paid and pending and pending["invoice"] == invoice["id"]:
            self._apply_pending_update(sub)
        elif (
            paid
            and sub["status"] in ("past_due", "unpaid", "incomplete")
            and sub["latest_invoice"] == invoice["id"]
        ):
            self._set_sub(sub, status="active")
        elif not paid and sub["status"] == "active" and not (pending and pending["invoice"] == invoice["id"]):
            self._set_sub(sub, status="past_due")
        return paid

    def invoice_void(self, invoice_id: str, params: dict) -> dict:
        """POST /v1/invoices/:id/void: `invoice.voided` (and its PaymentIntent is canceled)."""
        check_params(params, ())
        with self.lock:
            invoice = self._get("invoice", invoice_id)
            if invoice["status"] != "open":
                raise StripeError(
                    400,
                    "You can only pass in open or uncollectible invoices. "
                    f"This invoice is {invoice['status']}.",
                )
            self._void(invoice)
            return self.render(invoice_id)

    def _void(self, invoice: dict) -> None:
        invoice["status"] = "void"
        invoice["status_transitions"]["voided_at"] = self.now()
        invoice["next_payment_attempt"] = None
        self._cancel_payment(invoice)
        self._emit("invoice.voided", invoice)
        sub = self.objects.get(invoice["parent"]["subscription_details"]["subscription"])
        pending = self.internal[sub["id"]].get("pending") if sub else None
        if pending and pending["invoice"] == invoice["id"]:
            self._drop_pending_update(sub)

    def invoice_create_preview(self, params: dict) -> dict:
        """The next invoice of a subscription, optionally with a price change previewed, as
        Stripe previews it:

        - no change, or a change in the same interval with `create_prorations`: the upcoming
          renewal at the period end, carrying the prorations that wait for it;
        - a change in the same interval with `always_invoice`: the invoice the update creates at
          once, holding the prorations only (with any that were already waiting);
        - a change to another interval: the invoice the update creates at once, since the
          billing cycle restarts: the credit for the unused time and the new period in full.

        Prorations are computed for `subscription_details[proration_date]` (default: now), as
        the update computes them for its `proration_date`; the customer's balance applies
        (`starting_balance`, `amount_due`)."""
        check_params(params, ("customer", "subscription", "subscription_details"))
        with self.lock:
            details = params.get("subscription_details") or {}
            check_params(details, ("items", "proration_behavior", "proration_date"))
            if params.get("subscription"):
                sub = self._get("subscription", params["subscription"], "subscription")
                if params.get("customer") and params["customer"] != sub["customer"]:
                    raise StripeError(
                        400, "The subscription does not belong to this customer.", param="customer"
                    )
            elif params.get("customer"):
                self._get("customer", params["customer"], "customer")
                live = [
                    s
                    for s in self._all("subscription")
                    if s["customer"] == params["customer"]
                    and s["status"] not in ("canceled", "incomplete_expired")
                ]
                sub = live[0] if live else None
            else:
                raise missing_param("customer")
            ending = (
                sub is None
                or sub["status"] in ("canceled", "incomplete_expired")
                or (sub["cancel_at_period_end"] and not details.get("items"))
            )
            if ending:
                raise StripeError(
                    400,
                    f"No upcoming invoices for customer: {params.get('customer') or sub['customer']}",
                    code="invoice_upcoming_none",
                )
            item = sub["items"]["data"][0]
            price = self.objects[item["price"]["id"]]
            quantity = item["quantity"]
            start, end = item["current_period_start"], item["current_period_end"]
            pending = list(self.internal[sub["id"]].get("pending_prorations", []))
            when = self._proration_date(details.get("proration_date"), "subscription_details[proration_date]")
            billed_now = renews = False
            if details.get("items"):
                change = as_list(details["items"], "subscription_details[items]")[0]
                new_price = self._get(
                    "price", change.get("price", price["id"]), "subscription_details[items][0][price]"
                )
                new_qty = as_int(change.get("quantity", quantity), "quantity")
                behavior = one_of(details, "proration_behavior", PRORATION_BEHAVIORS)
                prorations = (
                    []
                    if behavior == "none"
                    else self._proration_specs(sub, item, price, quantity, new_price, new_qty, when)
                )
                if (new_price["recurring"]["interval"], new_price["recurring"]["interval_count"]) != (
                    price["recurring"]["interval"],
                    price["recurring"]["interval_count"],
                ):
                    # another interval restarts the cycle now: the preview is the immediate invoice
                    billed_now = renews = True
                    start = end = self.now()
                    prorations = [spec for spec in prorations if spec["amount"] < 0]
                elif behavior == "always_invoice" and prorations:
                    # prorations invoiced at once: the preview is that invoice, without the renewal
                    billed_now = True
                    start = end = when
                pending += prorations
                price, quantity = new_price, new_qty
            specs = list(pending)
            if renews or not billed_now:
                next_end = add_interval(
                    end, price["recurring"]["interval"], price["recurring"]["interval_count"]
                )
                specs.append(
                    {
                        "item": item,
                        "price": price,
                        "amount": price["unit_amount"] * quantity,
                        "quantity": quantity,
                        "start": end,
                        "end": next_end,
                    }
                )
            preview_id = new_id("upcoming_in_")
            lines = [self._invoice_line(preview_id, sub, **spec) for spec in specs]
            total = sum(line["amount"] for line in lines)
            starting_balance = self.objects[sub["customer"]]["balance"]
            invoice = copy.deepcopy(self.objects[sub["latest_invoice"]]) if sub["latest_invoice"] else {}
            invoice.update(
                id=preview_id,
                amount_due=max(total + starting_balance, 0),
                amount_paid=0,
                amount_remaining=max(total + starting_balance, 0),
                attempt_count=0,
                attempted=False,
                billing_reason="upcoming",
                created=self.now(),
                effective_at=None,
                ending_balance=None,
                hosted_invoice_url=None,
                invoice_pdf=None,
                lines=self._list(lines, f"/v1/invoices/{preview_id}/lines"),
                next_payment_attempt=end,
                number=None,
                period_start=start,
                period_end=end,
                starting_balance=starting_balance,
                status="draft",
                status_transitions={
                    "finalized_at": None,
                    "marked_uncollectible_at": None,
                    "paid_at": None,
                    "voided_at": None,
                },
                subtotal=total,
                subtotal_excluding_tax=total,
                total=total,
                total_excluding_tax=total,
            )
            return invoice

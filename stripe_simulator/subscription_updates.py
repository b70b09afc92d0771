"""Changing a subscription (a mixin of `StripeSimulator`): `POST /v1/subscriptions/:id` with its
item, price and quantity changes, prorations, the cancel-at-period-end flags, and pending updates:

- Pending updates (`payment_behavior=pending_if_incomplete`): a change billed at once applies only
  when its invoice is paid. Declined, the subscription keeps its items and status and carries
  `pending_update` (expiring 23 hours later, or at the period or trial end if sooner); paying the
  invoice later applies it (`customer.subscription.updated`,
  `customer.subscription.pending_update_applied`); when it expires Stripe voids the invoice and
  discards the update (`invoice.voided`, `customer.subscription.updated`,
  `customer.subscription.pending_update_expired`).
"""

from __future__ import annotations

import copy

from stripe_simulator.common import (
    PAYMENT_BEHAVIORS,
    PRORATION_BEHAVIORS,
    StripeError,
    add_interval,
    as_bool,
    as_int,
    as_list,
    card_declined,
    check_params,
    merge_metadata,
    one_of,
)

PENDING_UPDATE_LIFETIME = 23 * 3600


class SubscriptionUpdatesMixin:
    """Needs the host's state (`state.SimulatorState`) and the other resources' mixins (see core.py)."""

    def subscription_update(self, sub_id: str, params: dict) -> dict:
        """One API update = one customer.subscription.updated carrying every previous value,
        followed by the invoice events when the change is billed at once.

        `payment_behavior` decides what a declined immediate invoice does: `allow_incomplete`
        (default) applies the change and the subscription goes past_due; `error_if_incomplete`
        answers 402 and changes nothing; `default_incomplete` applies it and leaves the invoice
        open, unattempted (past_due); `pending_if_incomplete` applies it only once the invoice is
        paid, meanwhile the subscription carries `pending_update`."""
        check_params(
            params,
            (
                "cancel_at_period_end",
                "items",
                "proration_behavior",
                "metadata",
                "payment_behavior",
                "cancellation_details",
                "description",
                "proration_date",
                "default_payment_method",
                "off_session",
            ),
        )
        payment_behavior = one_of(params, "payment_behavior", PAYMENT_BEHAVIORS)
        if payment_behavior == "pending_if_incomplete":
            for name in params:
                if name not in self.PENDING_UPDATE_PARAMS:
                    raise StripeError(
                        400,
                        "When `payment_behavior` is set to `pending_if_incomplete`, you can only pass "
                        f"supported params. `{name}` is not supported. See "
                        "https://stripe.com/docs/billing/subscriptions/pending-updates-reference"
                        "#supported-attributes for more details.",
                        param=name,
                    )
        with self.lock:
            sub = self._get("subscription", sub_id)
            if sub["status"] in ("canceled", "incomplete_expired"):
                if set(params) - {"metadata", "cancellation_details", "expand"}:
                    raise StripeError(
                        400, "A canceled subscription can only update its cancellation_details and metadata."
                    )
            behavior = one_of(params, "proration_behavior", PRORATION_BEHAVIORS)
            change = self._item_change(sub, params) if params.get("items") else None
            before = copy.deepcopy(sub)
            prorations_before = copy.deepcopy(self.internal[sub_id]["pending_prorations"])
            previous: dict = {}

            def apply(**changes):
                for key, value in changes.items():
                    if sub[key] != value:
                        previous.setdefault(key, copy.deepcopy(sub[key]))
                        sub[key] = value

            if "metadata" in params:
                apply(metadata=merge_metadata(sub["metadata"], params["metadata"]))
            if "description" in params:
                apply(description=params["description"] or None)
            if params.get("default_payment_method"):
                method = self._customers_payment_method(sub["customer"], params["default_payment_method"])
                apply(default_payment_method=method["id"])
            if "cancellation_details" in params:
                details = dict(sub["cancellation_details"])
                details.update({k: v or None for k, v in (params["cancellation_details"] or {}).items()})
                apply(cancellation_details=details)
            when = self._proration_date(params.get("proration_date"), "proration_date")
            bill_now = self._change_price(sub, *change, behavior, previous, when) if change else None
            if "cancel_at_period_end" in params:
                flag = as_bool(params["cancel_at_period_end"], "cancel_at_period_end")
                apply(**self._cancel_flag_changes(sub, flag))
            if not bill_now:
                if previous:
                    self._emit("customer.subscription.updated", sub, previous)
                return self.render(sub_id)
            outcome = "none" if payment_behavior == "default_incomplete" else self._take_payment_outcome(None)
            if payment_behavior == "error_if_incomplete" and outcome != "succeed":
                sub.clear()
                sub.update(before)
                self.internal[sub_id]["pending_prorations"] = prorations_before
                raise card_declined()
            if payment_behavior == "pending_if_incomplete":
                self._pending_if_incomplete(sub, before, prorations_before, previous, bill_now, outcome)
                return self.render(sub_id)
            self._emit("customer.subscription.updated", sub, previous)
            invoice = self._create_invoice(sub, "subscription_update", bill_now)
            if outcome == "none":  # default_incomplete: the invoice waits for its payment
                self._set_sub(sub, status="past_due")
            else:
                self._settle(invoice, outcome)
            return self.render(sub_id)

    def _item_change(self, sub: dict, params: dict) -> tuple[dict, int]:
        changes = as_list(params["items"], "items")
        if len(changes) != 1 or len(sub["items"]["data"]) != 1:
            raise StripeError(
                400,
                "Stripe simulator: only single-item subscriptions with one item change are modelled",
                param="items",
            )
        change = changes[0]
        check_params(change, ("id", "price", "quantity"))
        item = sub["items"]["data"][0]
        if not change.get("id"):
            raise StripeError(
                400,
                "Stripe simulator: adding a second item is not modelled; "
                "pass items[0][id] to replace the price",
                param="items[0][id]",
            )
        if change["id"] != item["id"]:
            raise StripeError(400, f"Invalid subscription_item id: {change['id']}", param="items[0][id]")
        new_price = self._get("price", change.get("price", item["price"]["id"]), "items[0][price]")
        if not new_price["active"]:
            raise StripeError(
                400, f"The price specified is inactive: {new_price['id']}", param="items[0][price]"
            )
        if new_price["type"] != "recurring" or new_price["currency"] != sub["currency"]:
            raise StripeError(
                400,
                "The price must be recurring and in the subscription's currency.",
                param="items[0][price]",
            )
        return new_price, as_int(change.get("quantity", item["quantity"]), "items[0][quantity]")

    def _cancel_flag_changes(self, sub: dict, flag: bool) -> dict:
        if sub["status"] in ("canceled", "incomplete_expired"):
            raise StripeError(
                400, "A canceled subscription can only update its cancellation_details and metadata."
            )
        if flag == sub["cancel_at_period_end"]:
            return {}
        if flag:
            return {
                "cancel_at_period_end": True,
                "cancel_at": sub["items"]["data"][0]["current_period_end"],
                "canceled_at": self.now(),
                "cancellation_details": {**sub["cancellation_details"], "reason": "cancellation_requested"},
            }
        return {
            "cancel_at_period_end": False,
            "cancel_at": None,
            "canceled_at": None,
            "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        }

    def _proration_date(self, value, param: str) -> int:
        """The moment prorations are computed for: `proration_date` when given (an update made
        with the date its preview used charges exactly what the preview showed), else now."""
        return self.now() if value in (None, "") else as_int(value, param)

    def _proration_specs(self, sub, item, old_price, old_qty, new_price, new_qty, when: int) -> list[dict]:
        now = when
        start, end = item["current_period_start"], item["current_period_end"]
        fraction = max(0.0, min(1.0, (end - now) / max(end - start, 1)))
        old_name = self.objects[old_price["product"]]["name"]
        new_name = self.objects[new_price["product"]]["name"]
        return [
            {
                "item": item,
                "price": old_price,
                "quantity": old_qty,
                "start": now,
                "end": end,
                "proration": True,
                "amount": -round(old_price["unit_amount"] * old_qty * fraction),
                "description": f"Unused time on {old_qty} × {old_name}",
            },
            {
                "item": item,
                "price": new_price,
                "quantity": new_qty,
                "start": now,
                "end": end,
                "proration": True,
                "amount": round(new_price["unit_amount"] * new_qty * fraction),
                "description": f"Remaining time on {new_qty} × {new_name}",
            },
        ]

    def _change_price(
        self, sub: dict, new_price: dict, new_qty: int, behavior: str, previous: dict, when: int
    ):
        """Swap the item's price like Stripe: the same interval keeps the period (prorations go
        to the next invoice, or are billed now with always_invoice); another interval restarts
        the billing cycle and bills at once. Returns the lines to bill now, if any."""
        item = sub["items"]["data"][0]
        old_price = self.objects[item["price"]["id"]]
        old_qty = item["quantity"]
        if old_price["id"] == new_price["id"] and old_qty == new_qty:
            return None
        previous.setdefault("items", self._items_snapshot(sub)["items"])
        previous.setdefault("plan", self._plan_from_price(old_price))
        now = self.now()
        pending = self.internal[sub["id"]]["pending_prorations"]
        same_cycle = (old_price["recurring"]["interval"], old_price["recurring"]["interval_count"]) == (
            new_price["recurring"]["interval"],
            new_price["recurring"]["interval_count"],
        )
        prorations = (
            []
            if behavior == "none"
            else self._proration_specs(sub, item, old_price, old_qty, new_price, new_qty, when)
        )
        item["price"] = {"id": new_price["id"]}
        item["quantity"] = new_qty
        if not same_cycle:
            recurring = new_price["recurring"]
            end = add_interval(now, recurring["interval"], recurring["interval_count"])
            item["current_period_start"], item["current_period_end"] = now, end
            previous.setdefault("billing_cycle_anchor", sub["billing_cycle_anchor"])
            sub["billing_cycle_anchor"] = now
            credit = [spec for spec in prorations if spec["amount"] < 0]  # unused time of the old price
            full = {
                "item": item,
                "price": new_price,
                "quantity": new_qty,
                "start": now,
                "end": end,
                "amount": new_price["unit_amount"] * new_qty,
            }
            lines, pending[:] = [*pending, *credit, full], []
            return lines
        if behavior == "always_invoice" and prorations:
            lines, pending[:] = [*pending, *prorations], []
            return lines
        pending.extend(prorations)
        return None

    # -------------------------------------------------------- pending updates

    def _pending_if_incomplete(self, sub, before, prorations_before, previous, lines, outcome) -> None:
        """Bill a change made with pending_if_incomplete: paid, it applies as usual; not paid,
        the subscription is put back as it was and carries `pending_update`."""
        sub_id = sub["id"]
        after = copy.deepcopy(sub)
        prorations_after = copy.deepcopy(self.internal[sub_id]["pending_prorations"])
        invoice = self._create_invoice(sub, "subscription_update", lines)
        paid = self._attempt_payment(invoice, outcome)
        if paid:
            self._emit("customer.subscription.updated", sub, previous)
            return
        latest = sub["latest_invoice"]  # the open invoice of the update
        sub.clear()
        sub.update(before)
        sub["latest_invoice"] = latest
        self.internal[sub_id]["pending_prorations"] = prorations_before
        now = self.now()
        expires = now + PENDING_UPDATE_LIFETIME
        for boundary in (sub["trial_end"], *(i["current_period_end"] for i in sub["items"]["data"])):
            if boundary and now < boundary < expires:
                expires = boundary
        items = copy.deepcopy(self.render(sub_id)["items"]["data"])  # rendered as they will be
        for index, item in enumerate(after["items"]["data"]):
            price = copy.deepcopy(self.objects[item["price"]["id"]])
            items[index].update(
                price=price,
                plan=self._plan_from_price(price),
                quantity=item["quantity"],
                current_period_start=item["current_period_start"],
                current_period_end=item["current_period_end"],
            )
        anchor_changed = after["billing_cycle_anchor"] != before["billing_cycle_anchor"]
        pending_update = {
            "billing_cycle_anchor": after["billing_cycle_anchor"] if anchor_changed else None,
            "discount": None,
            "discounts": [],
            "expires_at": expires,
            "metadata": None,
            "subscription_items": items,
            "trial_end": None,
            "trial_from_plan": None,
        }
        self.internal[sub_id]["pending"] = {
            "invoice": invoice["id"],
            "items": copy.deepcopy(after["items"]),
            "billing_cycle_anchor": after["billing_cycle_anchor"],
            "prorations": prorations_after,
        }
        sub["pending_update"] = pending_update
        changed = {"pending_update": None}
        if latest != before["latest_invoice"]:
            changed["latest_invoice"] = before["latest_invoice"]
        self._emit("customer.subscription.updated", sub, changed)

    def _apply_pending_update(self, sub: dict) -> None:
        """The pending update's invoice was paid: the change applies now."""
        pending = self.internal[sub["id"]].pop("pending")
        previous = self._items_snapshot(sub)
        previous["plan"] = self._plan_from_price(self.objects[sub["items"]["data"][0]["price"]["id"]])
        previous["pending_update"] = copy.deepcopy(sub["pending_update"])
        if sub["billing_cycle_anchor"] != pending["billing_cycle_anchor"]:
            previous["billing_cycle_anchor"] = sub["billing_cycle_anchor"]
        sub["items"] = pending["items"]
        sub["billing_cycle_anchor"] = pending["billing_cycle_anchor"]
        sub["pending_update"] = None
        self.internal[sub["id"]]["pending_prorations"] = pending["prorations"]
        if sub["status"] in ("past_due", "unpaid"):
            previous["status"] = sub["status"]
            sub["status"] = "active"
        self._emit("customer.subscription.updated", sub, previous)
        self._emit("customer.subscription.pending_update_applied", sub)

    def _drop_pending_update(self, sub: dict) -> None:
        """The update is discarded (its invoice was voided or it expired)."""
        self.internal[sub["id"]].pop("pending", None)
        previous = {"pending_update": copy.deepcopy(sub["pending_update"])}
        sub["pending_update"] = None
        self._emit("customer.subscription.updated", sub, previous)
        self._emit("customer.subscription.pending_update_expired", sub)

    def _expire_pending_update(self, sub: dict) -> None:
        pending = self.internal[sub["id"]].get("pending")
        invoice = self.objects.get(pending["invoice"]) if pending else None
        if invoice and invoice["status"] == "open":
            self._void(invoice)  # voiding drops the update too
        elif sub["pending_update"]:
            self._drop_pending_update(sub)

    def expire_pending_update(self, sub, *, deliver: bool = True) -> dict:
        """The pending update reached `expires_at` unpaid: Stripe voids its invoice and discards
        the update (`invoice.voided`, `customer.subscription.updated`,
        `customer.subscription.pending_update_expired`)."""
        with self.lock, self.outbox.batch():
            sub = self._sub(sub)
            if not sub["pending_update"]:
                raise StripeError(400, "The subscription has no pending update.")
            self._expire_pending_update(sub)
        if deliver:
            self._after_action()
        return self.render(sub["id"])

"""Subscriptions (a mixin of `StripeSimulator`): the object, the API's create, list and cancel,
trials, pausing and incomplete subscriptions, as Stripe documents them:

- `POST /v1/subscriptions`: the first invoice is paid at once with the customer's card; on a
  decline the subscription is `incomplete` with an open invoice (`allow_incomplete`, the
  default), or the call answers 402 and creates nothing (`error_if_incomplete`);
  `default_incomplete` leaves it `incomplete` without trying. An incomplete subscription whose
  first invoice stays unpaid for 23 hours becomes `incomplete_expired` and that invoice is voided
  (`expire_incomplete`).
- A trial (`trial_period_days` / `trial_end`) starts `trialing` with a $0 invoice. Stripe sends
  `customer.subscription.trial_will_end` three days before the end. At the end, with a card on
  file, the first period is billed; without one, `trial_settings.end_behavior
  .missing_payment_method` decides: `cancel`, `pause` (`customer.subscription.paused`, resumed by
  `POST /v1/subscriptions/:id/resume` with `customer.subscription.resumed`) or `create_invoice`
  (the invoice cannot be paid: past_due).

Changing a subscription (items, prices, prorations, pending updates) is subscription_updates.py's;
the billing cycle's Stripe-side actions (renew, retries) are actions.py's.
"""

from __future__ import annotations

import copy

from stripe_simulator.common import (
    PAYMENT_BEHAVIORS,
    PRORATION_BEHAVIORS,
    StripeError,
    add_interval,
    as_int,
    as_list,
    card_declined,
    check_params,
    matching,
    merge_metadata,
    missing,
    missing_param,
    new_id,
    one_of,
    only_modelled,
)


class SubscriptionsMixin:
    """Needs the host's state (`state.SimulatorState`) and the other resources' mixins (see core.py)."""

    SUBSCRIPTION_CREATE_PARAMS = (
        "customer",
        "items",
        "metadata",
        "description",
        "trial_period_days",
        "trial_end",
        "trial_settings",
        "payment_behavior",
        "default_payment_method",
        "proration_behavior",
        "off_session",
        "collection_method",
        "currency",
    )

    # ----------------------------------------------------------------- create

    def subscription_create(self, params: dict) -> dict:
        check_params(params, self.SUBSCRIPTION_CREATE_PARAMS, required=("customer",))
        only_modelled(params, "collection_method", "charge_automatically")
        behavior = one_of(params, "payment_behavior", PAYMENT_BEHAVIORS)
        one_of(params, "proration_behavior", PRORATION_BEHAVIORS)  # checked: nothing to prorate yet
        end_behavior = "create_invoice"
        if params.get("trial_settings"):
            settings = params["trial_settings"]
            check_params(settings, ("end_behavior",))
            check_params(settings.get("end_behavior") or {}, ("missing_payment_method",))
            end_behavior = (settings.get("end_behavior") or {}).get(
                "missing_payment_method"
            ) or "create_invoice"
            if end_behavior not in ("cancel", "pause", "create_invoice"):
                raise StripeError(
                    400,
                    f"Invalid trial_settings[end_behavior][missing_payment_method]: {end_behavior}",
                    param="trial_settings[end_behavior][missing_payment_method]",
                )
        with self.lock:
            customer = self._get("customer", params["customer"], "customer")
            raw_items = as_list(params.get("items"), "items")
            if not raw_items:
                raise missing_param("items")
            if len(raw_items) != 1:
                raise StripeError(
                    400, "Stripe simulator: only single-item subscriptions are modelled", param="items"
                )
            lines = []
            for index, raw in enumerate(raw_items):
                check_params(raw, ("price", "quantity", "metadata"))
                price = self._get("price", raw.get("price"), f"items[{index}][price]")
                if not price["active"]:
                    raise StripeError(
                        400, f"The price specified is inactive: {price['id']}", param=f"items[{index}][price]"
                    )
                if price["type"] != "recurring":
                    raise StripeError(
                        400,
                        f"The price specified is set to `type=one_time` but this field only accepts prices "
                        f"with `type=recurring`: {price['id']}",
                        param=f"items[{index}][price]",
                    )
                lines.append((price, as_int(raw.get("quantity", 1), f"items[{index}][quantity]")))
            now = self.now()
            trial_end = None
            if params.get("trial_end") not in (None, ""):
                if params["trial_end"] == "now":
                    trial_end = None
                else:
                    trial_end = as_int(params["trial_end"], "trial_end")
                    if trial_end <= now:
                        raise StripeError(
                            400,
                            "Invalid timestamp: must be an integer Unix timestamp in the future.",
                            param="trial_end",
                        )
            if params.get("trial_period_days") not in (None, ""):
                if trial_end:
                    raise StripeError(
                        400,
                        "You cannot set both trial_end and trial_period_days.",
                        param="trial_period_days",
                    )
                days = as_int(params["trial_period_days"], "trial_period_days")
                if days > 0:
                    trial_end = now + days * 86400
            method = None
            if params.get("default_payment_method"):
                method = self._customers_payment_method(customer["id"], params["default_payment_method"])
            has_card = bool(method or customer["invoice_settings"]["default_payment_method"])
            outcome = None
            if not trial_end and behavior != "default_incomplete":
                outcome = self._take_payment_outcome(None) if has_card else "decline"
                if behavior == "error_if_incomplete" and outcome != "succeed":
                    if not has_card:
                        raise StripeError(
                            400,
                            "This customer has no attached payment source or default payment method. "
                            "Please consider adding a default payment method.",
                        )
                    raise card_declined()
            sub = self._build_subscription(
                customer,
                lines,
                metadata=merge_metadata({}, params.get("metadata")),
                description=params.get("description") or None,
                trial_end=trial_end,
                missing_payment_method=end_behavior,
                default_payment_method=method["id"] if method else None,
            )
            self._emit("customer.subscription.created", sub)
            item = sub["items"]["data"][0]
            price, quantity = lines[0]
            invoice = self._create_invoice(
                sub,
                "subscription_create",
                [
                    {
                        "item": item,
                        "price": price,
                        "quantity": quantity,
                        "start": item["current_period_start"],
                        "end": item["current_period_end"],
                        "amount": 0 if trial_end else price["unit_amount"] * quantity,
                        "description": (
                            f"Trial period for {self.objects[price['product']]['name']}"
                            if trial_end
                            else None
                        ),
                    }
                ],
            )
            if trial_end:
                self._attempt_payment(invoice, True)  # $0: paid at once, no charge
            elif outcome is not None:
                self._settle(invoice, outcome)  # incomplete -> active when paid
            return self.render(sub["id"])

    # ----------------------------------------------------------------- trials

    def trial_will_end(self, sub, *, deliver: bool = True) -> dict:
        """Three days before the trial ends Stripe sends `customer.subscription.trial_will_end`."""
        with self.lock:
            sub = self._sub(sub)
            if sub["status"] != "trialing":
                raise StripeError(400, f"The subscription is not trialing (status {sub['status']}).")
            self._emit("customer.subscription.trial_will_end", sub)
        if deliver:
            self._after_action()
        return self.render(sub["id"])

    def end_trial(self, sub, *, succeed: bool | None = None, deliver: bool = True) -> dict:
        """The trial ends now. With a card on file the first period is billed (active, or past_due
        when declined; `succeed=None` follows `fail_next_payments`). Without one,
        `trial_settings.end_behavior.missing_payment_method` decides: cancel, pause, or
        create_invoice (the invoice cannot be paid: past_due)."""
        with self.lock, self.outbox.batch():
            sub = self._sub(sub)
            if sub["status"] != "trialing":
                raise StripeError(400, f"The subscription is not trialing (status {sub['status']}).")
            now = self.now()
            customer = self.objects[sub["customer"]]
            has_card = bool(
                sub["default_payment_method"] or customer["invoice_settings"]["default_payment_method"]
            )
            behavior = sub["trial_settings"]["end_behavior"]["missing_payment_method"]
            if sub["pending_update"]:
                self._expire_pending_update(sub)
            if not has_card and behavior == "cancel":
                sub["trial_end"] = min(sub["trial_end"], now)
                self._cancel(sub, reason="cancellation_requested")
            elif not has_card and behavior == "pause":
                previous = {"status": sub["status"], "trial_end": sub["trial_end"]}
                sub.update(status="paused", trial_end=min(sub["trial_end"], now))
                self._emit("customer.subscription.updated", sub, previous)
                self._emit("customer.subscription.paused", sub)
            else:
                previous = self._items_snapshot(sub)
                previous.update(
                    status=sub["status"],
                    trial_end=sub["trial_end"],
                    billing_cycle_anchor=sub["billing_cycle_anchor"],
                )
                sub.update(trial_end=min(sub["trial_end"], now), billing_cycle_anchor=now, status="active")
                invoice = self._bill_next_period(sub, now)
                self._emit("customer.subscription.updated", sub, previous)
                outcome = self._take_payment_outcome(succeed) if has_card else "decline"
                self._settle(invoice, outcome)
        if deliver:
            self._after_action()
        return self.render(sub["id"])

    # ------------------------------------------------------- pause and resume

    def subscription_resume(self, sub_id: str, params: dict) -> dict:
        """POST /v1/subscriptions/:id/resume: a paused subscription starts a new period now and
        bills it (`customer.subscription.resumed`)."""
        check_params(params, ("billing_cycle_anchor", "proration_behavior", "proration_date"))
        if params.get("billing_cycle_anchor", "now") not in ("now", "unchanged"):
            raise StripeError(400, "Invalid billing_cycle_anchor", param="billing_cycle_anchor")
        with self.lock:
            sub = self._get("subscription", sub_id)
            if sub["status"] != "paused":
                raise StripeError(
                    400,
                    "Only paused subscriptions can be resumed. "
                    f"This subscription has status {sub['status']}.",
                )
            self._resume(sub, self._take_payment_outcome(None))
            return self.render(sub_id)

    def _bill_next_period(self, sub: dict, start: int) -> dict:
        """Start the subscription's next period at `start` and draft its `subscription_cycle`
        invoice; prorations waiting for the next invoice ride along, as on Stripe."""
        item = sub["items"]["data"][0]
        price = self.objects[item["price"]["id"]]
        end = add_interval(start, price["recurring"]["interval"], price["recurring"]["interval_count"])
        item["current_period_start"], item["current_period_end"] = start, end
        cycle = {
            "item": item,
            "price": price,
            "quantity": item["quantity"],
            "start": start,
            "end": end,
            "amount": price["unit_amount"] * item["quantity"],
        }
        lines = [*self.internal[sub["id"]]["pending_prorations"], cycle]
        self.internal[sub["id"]]["pending_prorations"] = []
        return self._create_invoice(sub, "subscription_cycle", lines)

    def _resume(self, sub: dict, outcome: str) -> None:
        now = self.now()
        previous = self._items_snapshot(sub)
        previous.update(status=sub["status"], billing_cycle_anchor=sub["billing_cycle_anchor"])
        sub.update(billing_cycle_anchor=now, status="active")
        invoice = self._bill_next_period(sub, now)
        self._emit("customer.subscription.updated", sub, previous)
        self._emit("customer.subscription.resumed", sub)
        self._settle(invoice, outcome)

    def resume_paused(self, sub, *, succeed: bool | None = None, deliver: bool = True) -> dict:
        """A paused subscription is resumed (Dashboard, or the customer adds a card)."""
        with self.lock, self.outbox.batch():
            sub = self._sub(sub)
            if sub["status"] != "paused":
                raise StripeError(400, f"The subscription is not paused (status {sub['status']}).")
            self._resume(sub, self._take_payment_outcome(succeed))
        if deliver:
            self._after_action()
        return self.render(sub["id"])

    # ------------------------------------------------------------- incomplete

    def expire_incomplete(self, sub, *, deliver: bool = True) -> dict:
        """23 hours after creation an `incomplete` subscription whose first invoice is unpaid
        becomes `incomplete_expired` (terminal) and the invoice is voided: `invoice.voided`,
        `customer.subscription.updated`."""
        with self.lock, self.outbox.batch():
            sub = self._sub(sub)
            if sub["status"] != "incomplete":
                raise StripeError(400, f"The subscription is not incomplete (status {sub['status']}).")
            invoice = self.objects.get(sub["latest_invoice"])
            if invoice and invoice["status"] == "open":
                self._void(invoice)
            now = self.now()
            self._set_sub(sub, status="incomplete_expired", canceled_at=now, ended_at=now)
        if deliver:
            self._after_action()
        return self.render(sub["id"])

    # ---------------------------------------------------------- the object

    def _build_subscription(
        self,
        customer: dict,
        lines: list[tuple[dict, int]],
        *,
        metadata: dict,
        description: str | None,
        trial_end: int | None = None,
        missing_payment_method: str = "create_invoice",
        default_payment_method: str | None = None,
    ) -> dict:
        """A new subscription (status `incomplete`, or `trialing` with `trial_end`), stored."""
        now = self.now()
        if customer["currency"] is None:  # Stripe fixes a customer's currency with its first subscription
            customer["currency"] = lines[0][0]["currency"]
        sub_id = new_id("sub_")
        items = []
        for price, quantity in lines:
            recurring = price["recurring"]
            items.append(
                {
                    "billing_thresholds": None,
                    "created": now,
                    "current_period_end": trial_end
                    or add_interval(now, recurring["interval"], recurring["interval_count"]),
                    "current_period_start": now,
                    "discounts": [],
                    "id": new_id("si_", 14),
                    "metadata": {},
                    "object": "subscription_item",
                    "plan": self._plan_from_price(price),
                    "price": {"id": price["id"]},
                    "quantity": quantity,
                    "subscription": sub_id,
                    "tax_rates": [],
                }
            )
        sub = {
            "application": None,
            "application_fee_percent": None,
            "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
            "billing_cycle_anchor": now,
            "billing_cycle_anchor_config": None,
            "billing_mode": {"flexible": None, "type": "classic"},
            "billing_schedules": [],
            "billing_thresholds": None,
            "cancel_at": None,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "cancellation_details": {"comment": None, "feedback": None, "reason": None},
            "collection_method": "charge_automatically",
            "created": now,
            "currency": lines[0][0]["currency"],
            "customer": customer["id"],
            "customer_account": None,
            "days_until_due": None,
            "default_payment_method": default_payment_method,
            "default_source": None,
            "default_tax_rates": [],
            "description": description,
            "discounts": [],
            "ended_at": None,
            "id": sub_id,
            "invoice_settings": {
                "account_tax_ids": None,
                "custom_fields": None,
                "description": None,
                "footer": None,
                "issuer": {"type": "self"},
            },
            "items": self._list(items, f"/v1/subscription_items?subscription={sub_id}"),
            "latest_invoice": None,
            "livemode": False,
            "managed_payments": {"enabled": False},
            "metadata": copy.deepcopy(metadata),
            "next_pending_invoice_item_invoice": None,
            "object": "subscription",
            "on_behalf_of": None,
            "pause_collection": None,
            "payment_settings": {
                "payment_method_options": None,
                "payment_method_types": None,
                "save_default_payment_method": "off",
            },
            "pending_invoice_item_interval": None,
            "pending_setup_intent": None,
            "pending_update": None,
            "schedule": None,
            "start_date": now,
            "status": "trialing" if trial_end else "incomplete",
            "test_clock": None,
            "transfer_data": None,
            "trial_end": trial_end,
            "trial_settings": {"end_behavior": {"missing_payment_method": missing_payment_method}},
            "trial_start": now if trial_end else None,
        }
        self._store("subscription", sub, pending_prorations=[])
        return sub

    def _set_sub(self, sub: dict, event: str = "customer.subscription.updated", **changes) -> None:
        previous = {k: copy.deepcopy(sub[k]) for k, v in changes.items() if sub[k] != v}
        sub.update(changes)
        if previous or event != "customer.subscription.updated":
            self._emit(event, sub, previous if event == "customer.subscription.updated" else None)

    def _items_snapshot(self, sub: dict) -> dict:
        return {"items": copy.deepcopy(self.render(sub["id"])["items"])}

    def subscription_list(self, params: dict) -> dict:
        check_params(
            params,
            (
                "customer",
                "price",
                "status",
                "limit",
                "starting_after",
                "ending_before",
                "created",
                "collection_method",
                "test_clock",
            ),
        )
        with self.lock:
            subs = self._all("subscription")
            status = params.get("status")
            if status and status not in ("all", "ended"):
                subs = [s for s in subs if s["status"] == status]
            elif status == "ended":
                subs = [s for s in subs if s["status"] in ("canceled", "incomplete_expired")]
            elif not status:
                subs = [s for s in subs if s["status"] != "canceled"]
            subs = matching(subs, params, "customer")
            if params.get("price"):
                subs = [
                    s for s in subs if any(i["price"]["id"] == params["price"] for i in s["items"]["data"])
                ]
            return self.paginate(subs, params, "/v1/subscriptions")

    PENDING_UPDATE_PARAMS = (
        "expand",
        "payment_behavior",
        "proration_behavior",
        "proration_date",
        "billing_cycle_anchor",
        "items",
        "trial_end",
        "trial_from_plan",
        "add_invoice_items",
    )

    # ------------------------------------------------------------- cancel

    def subscription_cancel(self, sub_id: str, params: dict) -> dict:
        check_params(params, ("invoice_now", "prorate", "cancellation_details"))
        with self.lock:
            sub = self._get("subscription", sub_id)
            if sub["status"] in ("canceled", "incomplete_expired"):
                raise missing("subscription", sub_id)
            details = params.get("cancellation_details") or {}
            self._cancel(
                sub,
                reason="cancellation_requested",
                comment=details.get("comment"),
                feedback=details.get("feedback"),
            )
            return self.render(sub_id)

    def _cancel(
        self, sub: dict, *, reason: str, ended_at: int | None = None, comment=None, feedback=None
    ) -> None:
        now = self.now()
        sub.update(
            status="canceled",
            canceled_at=sub["canceled_at"]
            if sub["cancel_at_period_end"] and reason == "cancellation_requested" and ended_at
            else now,
            ended_at=ended_at or now,
            cancellation_details={"comment": comment or None, "feedback": feedback or None, "reason": reason},
        )
        self.internal[sub["id"]]["pending_prorations"] = []
        self._emit("customer.subscription.deleted", sub)

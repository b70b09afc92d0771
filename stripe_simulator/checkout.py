"""Checkout Sessions (a mixin of `StripeSimulator`): the API (`mode=subscription`, hosted), and
what the buyer does on the hosted page: pay (customer, subscription, first invoice), be
declined, or let the session expire.
"""

from __future__ import annotations

import copy

from stripe_simulator.common import (
    StripeError,
    as_bool,
    as_int,
    as_list,
    check_params,
    merge_metadata,
    missing_param,
    new_id,
    only_modelled,
)


def _customer_details(customer: dict) -> dict:
    """A session's `customer_details`: what the customer entered, as Stripe records it."""
    return {
        "address": None,
        "business_name": None,
        "email": customer["email"],
        "individual_name": None,
        "name": customer["name"],
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }


class CheckoutMixin:
    """Needs the host's state (`state.SimulatorState`) and the other resources' mixins (see core.py)."""

    # ------------------------------------------------------ checkout sessions

    CHECKOUT_PARAMS = (
        "mode",
        "line_items",
        "customer",
        "customer_email",
        "client_reference_id",
        "metadata",
        "success_url",
        "cancel_url",
        "subscription_data",
        "expires_at",
        # Accepted and recorded, but with no effect on the simulated payment:
        "allow_promotion_codes",
        "billing_address_collection",
        "locale",
        "payment_method_types",
        "customer_update",
        "automatic_tax",
        "ui_mode",
    )

    def checkout_session_create(self, params: dict) -> dict:
        check_params(params, self.CHECKOUT_PARAMS)
        if params.get("mode") != "subscription":
            raise StripeError(
                400,
                "Stripe simulator: only Checkout Sessions with mode=subscription are modelled "
                f"(got mode={params.get('mode')!r}).",
                param="mode",
            )
        only_modelled(params, "ui_mode", "hosted")
        if not params.get("success_url"):
            raise missing_param("success_url")
        if params.get("customer") and params.get("customer_email"):
            raise StripeError(
                400,
                "You may only specify one of these parameters: customer, customer_email.",
                param="customer",
            )
        subscription_data = params.get("subscription_data") or {}
        check_params(subscription_data, ("metadata", "description"))
        now = self.now()
        with self.lock:
            customer = (
                self._get("customer", params["customer"], "customer") if params.get("customer") else None
            )
            raw_items = as_list(params.get("line_items"), "line_items")
            if not raw_items:
                raise StripeError(
                    400, "You must specify either `line_items` or `mode=setup`.", param="line_items"
                )
            session_id = new_id("cs_test_", 58)
            line_items, currency, subtotal = [], None, 0
            for index, raw in enumerate(raw_items):
                check_params(raw, ("price", "quantity"))
                price = self._get("price", raw.get("price"), f"line_items[{index}][price]")
                if not price["active"]:
                    raise StripeError(
                        400,
                        f"The price specified is inactive: {price['id']}",
                        param=f"line_items[{index}][price]",
                    )
                if price["type"] != "recurring":
                    raise StripeError(
                        400,
                        "You must provide at least one recurring price in `subscription` mode when using "
                        "prices.",
                        param=f"line_items[{index}][price]",
                    )
                if currency and price["currency"] != currency:
                    raise StripeError(400, "All prices must use the same currency.", param="line_items")
                currency = price["currency"]
                quantity = as_int(raw.get("quantity", 1), f"line_items[{index}][quantity]")
                amount = price["unit_amount"] * quantity
                subtotal += amount
                product = self.objects[price["product"]]
                line_items.append(
                    {
                        "adjustable_quantity": None,
                        "amount_discount": 0,
                        "amount_subtotal": amount,
                        "amount_tax": 0,
                        "amount_total": amount,
                        "currency": currency,
                        "description": product["name"],
                        "id": new_id("li_"),
                        "metadata": {},
                        "object": "item",
                        "price": copy.deepcopy(price),
                        "quantity": quantity,
                    }
                )
            session = {
                "adaptive_pricing": {"enabled": False},
                "after_expiration": None,
                "allow_promotion_codes": (
                    as_bool(params["allow_promotion_codes"], "allow_promotion_codes")
                    if "allow_promotion_codes" in params
                    else None
                ),
                "amount_subtotal": subtotal,
                "amount_total": subtotal,
                "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
                "billing_address_collection": params.get("billing_address_collection") or None,
                "cancel_url": params.get("cancel_url") or None,
                "client_reference_id": params.get("client_reference_id") or None,
                "client_secret": None,
                "collected_information": None,
                "consent": None,
                "consent_collection": None,
                "created": now,
                "currency": currency,
                "currency_conversion": None,
                "custom_fields": [],
                "custom_text": {
                    "after_submit": None,
                    "shipping_address": None,
                    "submit": None,
                    "terms_of_service_acceptance": None,
                },
                "customer": customer["id"] if customer else None,
                "customer_account": None,
                "customer_creation": None if customer else "always",
                "customer_details": _customer_details(customer) if customer else None,
                "customer_email": params.get("customer_email") or None,
                "discounts": [],
                "expires_at": as_int(params.get("expires_at", now + 86400), "expires_at"),
                "id": session_id,
                "integration_identifier": None,
                "invoice": None,
                "invoice_creation": None,
                "livemode": False,
                "locale": params.get("locale") or None,
                "managed_payments": {"enabled": False},
                "metadata": merge_metadata({}, params.get("metadata")),
                "mode": "subscription",
                "object": "checkout.session",
                "origin_context": None,
                "payment_intent": None,
                "payment_link": None,
                "payment_method_collection": "always",
                "payment_method_configuration_details": None,
                "payment_method_options": {},
                "payment_method_types": as_list(params.get("payment_method_types"), "payment_method_types")
                or ["card"],
                "payment_status": "unpaid",
                "permissions": None,
                "phone_number_collection": {"enabled": False},
                "recovered_from": None,
                "saved_payment_method_options": {
                    "allow_redisplay_filters": ["always"],
                    "payment_method_remove": None,
                    "payment_method_save": None,
                },
                "setup_intent": None,
                "shipping_address_collection": None,
                "shipping_cost": None,
                "shipping_options": [],
                "status": "open",
                "submit_type": None,
                "subscription": None,
                "success_url": params["success_url"],
                "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
                "ui_mode": "hosted",
                "url": f"{self.public_url}/checkout/{session_id}",
                "wallet_options": None,
            }
            self._store(
                "checkout.session",
                session,
                line_items=line_items,
                subscription_metadata=merge_metadata({}, subscription_data.get("metadata")),
                subscription_description=subscription_data.get("description") or None,
                declines=0,
            )
            return self.render(session_id)

    def checkout_session_list(self, params: dict) -> dict:
        check_params(
            params,
            (
                "customer",
                "subscription",
                "payment_intent",
                "status",
                "limit",
                "starting_after",
                "ending_before",
            ),
        )
        with self.lock:
            sessions = self._all("checkout.session")
            for key in ("customer", "subscription", "status"):
                if params.get(key):
                    sessions = [s for s in sessions if s[key] == params[key]]
            return self.paginate(sessions, params, "/v1/checkout/sessions")

    def checkout_session_line_items(self, session_id: str, params: dict) -> dict:
        check_params(params, ("limit", "starting_after", "ending_before"))
        with self.lock:
            self._get("checkout.session", session_id)
            return self._list(
                copy.deepcopy(self.internal[session_id]["line_items"]),
                f"/v1/checkout/sessions/{session_id}/line_items",
            )

    def checkout_session_expire(self, session_id: str) -> dict:
        with self.lock:
            session = self._get("checkout.session", session_id)
            if session["status"] != "open":
                raise StripeError(
                    400,
                    f'Only Checkout Sessions with a status in ["open"] can be expired. '
                    f'This Checkout Session has a status of "{session["status"]}".',
                )
            session["status"] = "expired"
            session["url"] = None
            self._emit("checkout.session.expired", session)
            return self.render(session_id)

    # ------------------------------------------- Stripe-side actions (tests)

    def _session(self, session_or_id) -> dict:
        session_id = session_or_id if isinstance(session_or_id, str) else session_or_id["id"]
        return self._get("checkout.session", session_id)

    def _new_subscription(self, session: dict, customer: dict) -> dict:
        internal = self.internal[session["id"]]
        return self._build_subscription(
            customer,
            [(self.objects[line["price"]["id"]], line["quantity"]) for line in internal["line_items"]],
            metadata=internal["subscription_metadata"],
            description=internal["subscription_description"],
        )

    def complete_checkout(
        self, session, *, email: str | None = None, name: str | None = None, deliver: bool = True
    ) -> dict:
        """The buyer pays on the hosted page: customer (if new), subscription, first invoice
        paid, session complete. Returns the completed session."""
        with self.lock, self.outbox.batch():
            session = self._session(session)
            if session["status"] != "open":
                raise StripeError(400, f"This Checkout Session is {session['status']}; it cannot be paid.")
            if session["expires_at"] <= self.now():
                self.checkout_session_expire(session["id"])
                raise StripeError(400, "This Checkout Session has expired.")
            if session["customer"]:
                customer = self.objects[session["customer"]]
            else:
                customer = self._get(
                    "customer",
                    self.customer_create(
                        {
                            "email": email or session["customer_email"] or "buyer@example.com",
                            "name": name or "",
                        }
                    )["id"],
                )
            first = len(self.event_log)
            card = self._new_card(customer)  # the card entered on the page, saved to the customer
            sub = self._new_subscription(session, customer)
            sub["default_payment_method"] = card["id"]
            self._emit("customer.subscription.created", sub)
            first_event = self.event_log[first]
            invoice = self._create_invoice(
                sub,
                "subscription_create",
                [
                    {
                        "item": i,
                        "price": self.objects[i["price"]["id"]],
                        "amount": self.objects[i["price"]["id"]]["unit_amount"] * i["quantity"],
                        "quantity": i["quantity"],
                        "start": i["current_period_start"],
                        "end": i["current_period_end"],
                    }
                    for i in sub["items"]["data"]
                ],
            )
            self._attempt_payment(invoice, True)
            self._set_sub(sub, status="active")
            session.update(
                status="complete",
                payment_status="paid",
                customer=customer["id"],
                subscription=sub["id"],
                invoice=invoice["id"],
                url=None,
                customer_details=_customer_details(customer),
            )
            completed = self._emit("checkout.session.completed", session)
            # Stripe's usual order puts checkout.session.completed first.
            self.event_log.remove(completed["id"])
            self.event_log.insert(self.event_log.index(first_event), completed["id"])
            self.outbox.move_before(completed["id"], first_event)
        if deliver:
            self._after_action()
        return self.render(session["id"])

    pay_checkout = complete_checkout

    def decline_checkout(self, session) -> dict:
        """The card is declined on the hosted page: nothing is created, the session stays open."""
        with self.lock:
            session = self._session(session)
            if session["status"] != "open":
                raise StripeError(400, f"This Checkout Session is {session['status']}; it cannot be paid.")
            self.internal[session["id"]]["declines"] += 1
            return self.render(session["id"])

    def expire_checkout(self, session) -> dict:
        with self.lock:
            result = self.checkout_session_expire(self._session(session)["id"])
        self._after_action()
        return result

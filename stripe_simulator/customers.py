"""Customers (a mixin of `StripeSimulator`): create, update, delete, list, search and retrieve,
and the Dashboard's deletion of a customer.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from stripe_simulator.common import (
    StripeError,
    as_int,
    as_list,
    check_params,
    matching,
    merge_metadata,
    new_id,
)


class CustomersMixin:
    """Needs the host's state (`state.SimulatorState`) and the other resources' mixins (see core.py)."""

    # ------------------------------------------------------------- customers

    CUSTOMER_PARAMS = ("email", "name", "description", "metadata", "phone", "preferred_locales", "address")

    def customer_create(self, params: dict) -> dict:
        check_params(params, self.CUSTOMER_PARAMS)
        now = self.now()
        with self.lock:
            customer = {
                "address": params.get("address") or None,
                "balance": 0,
                "created": now,
                "currency": None,
                "default_source": None,
                "delinquent": False,
                "description": params.get("description") or None,
                "discount": None,
                "email": params.get("email") or None,
                "id": new_id("cus_", 14),
                "invoice_prefix": new_id("", 8).upper(),
                "invoice_settings": {
                    "custom_fields": None,
                    "default_payment_method": None,
                    "footer": None,
                    "rendering_options": None,
                },
                "livemode": False,
                "metadata": merge_metadata({}, params.get("metadata")),
                "name": params.get("name") or None,
                "next_invoice_sequence": 1,
                "object": "customer",
                "phone": params.get("phone") or None,
                "preferred_locales": as_list(params.get("preferred_locales"), "preferred_locales"),
                "shipping": None,
                "tax_exempt": "none",
                "test_clock": None,
            }
            self._store("customer", customer)
            self._emit("customer.created", customer)
            return self.render(customer["id"])

    def customer_update(self, customer_id: str, params: dict) -> dict:
        check_params(params, self.CUSTOMER_PARAMS)
        with self.lock:
            customer = self._get("customer", customer_id)
            previous = {}
            for key, value in params.items():
                new = merge_metadata(customer["metadata"], value) if key == "metadata" else (value or None)
                if key == "preferred_locales":
                    new = as_list(value, key)
                if customer.get(key) != new:
                    previous[key] = copy.deepcopy(customer.get(key))
                    customer[key] = new
            if previous:
                self._emit("customer.updated", customer, previous)
            return self.render(customer_id)

    def customer_delete(self, customer_id: str) -> dict:
        with self.lock:
            customer = self._get("customer", customer_id)
            for sub in self._all("subscription"):
                if sub["customer"] == customer_id and sub["status"] not in ("canceled", "incomplete_expired"):
                    self._cancel(sub, reason="cancellation_requested")
            self._emit("customer.deleted", customer)
            customer["deleted"] = True
            return {"deleted": True, "id": customer_id, "object": "customer"}

    def customer_list(self, params: dict) -> dict:
        check_params(params, ("email", "limit", "starting_after", "ending_before", "created", "test_clock"))
        with self.lock:
            customers = self._all("customer")
            customers = matching(customers, params, "email")
            return self.paginate(customers, params, "/v1/customers")

    def customer_search(self, params: dict) -> dict:
        """Supports the clauses `email:'x'` and `metadata['key']:'value'`, joined by AND."""
        check_params(params, ("query", "limit", "page"))
        query = params.get("query") or ""
        with self.lock:
            customers = self._all("customer")
            for clause in [c.strip() for c in query.split(" AND ") if c.strip()]:
                field, _, value = clause.partition(":")
                value = value.strip().strip("'\"")
                field = field.strip()
                if field == "email":
                    customers = [c for c in customers if c["email"] == value]
                elif field.startswith("metadata[") and field.endswith("]"):
                    key = field[len("metadata[") : -1].strip("'\"")
                    customers = [c for c in customers if c["metadata"].get(key) == value]
                else:
                    raise StripeError(
                        400, f"Stripe simulator: search field not supported: {field!r}", param="query"
                    )
            limit = as_int(params.get("limit", 10), "limit")
            return {
                "object": "search_result",
                "data": [self.render(c["id"]) for c in customers[:limit]],
                "has_more": len(customers) > limit,
                "next_page": None,
                "url": "/v1/customers/search",
            }

    def customer_retrieve(self, customer_id: str, expand: Iterable[str] = ()) -> dict:
        """GET /v1/customers/:id: a deleted customer answers 200 with its deleted stub, as Stripe's."""
        with self.lock:
            obj = self.objects.get(customer_id)
            if obj is not None and self.kinds.get(customer_id) == "customer" and obj.get("deleted"):
                return self.deleted_stub(customer_id)
            return self.retrieve("customer", customer_id, expand)

    # ------------------------------------------- Stripe-side actions (tests)

    def delete_customer(self, customer, *, deliver: bool = True) -> dict:
        """The customer is deleted in the Dashboard: each live subscription is canceled
        (`customer.subscription.deleted`), then `customer.deleted`."""
        with self.lock, self.outbox.batch():
            result = self.customer_delete(customer if isinstance(customer, str) else customer["id"])
        if deliver:
            self._after_action()
        return result

"""State, object shapes, API operations and Stripe-side actions of the Stripe simulator.

Objects are kept in Stripe's current API shapes (held to Stripe's published examples in
../shared/stripe/fixtures3.json by stripe_simulator/tests/test_simulator_conformance.py). In particular
the billing period lives on subscription items (`items.data[i].current_period_start/end`) and an
invoice names its subscription under `parent.subscription_details.subscription`.

Every state change goes through one method here; the WSGI layer (wsgi.py) only parses HTTP and
renders pages. Events are recorded and handed to the webhook outbox (delivery.py).
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterable
from contextlib import contextmanager

from stripe_simulator.common import (  # noqa: F401 - re-exported for wsgi.py and tests
    ACCOUNT_ID,
    ALNUM,
    API_VERSION,
    KIND_NAME,
    PAYMENT_FAILED_MESSAGE,
    PREFIX_KIND,
    SIMULATOR_API_KEY,
    StripeError,
    add_interval,
    as_bool,
    as_int,
    as_list,
    check_params,
    day,
    merge_metadata,
    missing,
    money,
    new_id,
    unknown_parameter,
)
from stripe_simulator.delivery import WebhookOutbox
from stripe_simulator.payments import PaymentsMixin
from stripe_simulator.subscriptions import SubscriptionsMixin


class StripeSimulator(PaymentsMixin, SubscriptionsMixin):
    """The simulated Stripe account: objects, events, webhook endpoints and Stripe-side actions.

    Thread-safe: every state change holds `self.lock`; webhook deliveries never do.
    """

    def __init__(
        self,
        *,
        api_key: str = SIMULATOR_API_KEY,
        public_url: str = "",
        api_version: str = API_VERSION,
        retries_exhausted: str = "cancel",
        webhook_timeout: float = 30.0,
    ):
        self.lock = threading.RLock()
        self.api_keys = {api_key}
        self.api_key = api_key
        self.public_url = public_url.rstrip("/")
        self.api_version = api_version
        # What Stripe does when smart retries are exhausted ("cancel" or "mark_unpaid"),
        # as set in the Dashboard under Billing > Revenue recovery.
        self.retries_exhausted = retries_exhausted
        self._local = threading.local()
        self.outbox = WebhookOutbox(self, timeout=webhook_timeout)
        self.reset()

    # ------------------------------------------------------------------ state

    def reset(self) -> None:
        """Forget every object, event and delivery (webhook endpoints included)."""
        self.outbox.reset()
        with self.lock:
            self.objects: dict[str, dict] = {}
            self.kinds: dict[str, str] = {}
            self.seq: dict[str, int] = {}
            self.internal: dict[str, dict] = {}
            self.idempotency: dict[tuple[str, str], tuple[str, int, dict]] = {}
            self.event_log: list[str] = []
            self.request_log: list[tuple[str, str]] = []
            self.clock_offset = 0
            self.failing_payments = 0
            self.failing_outcome = "decline"
            self._counter = 0
            self._invoice_number = 0

    def now(self) -> int:
        return int(time.time()) + self.clock_offset

    def advance_clock(self, seconds: int) -> None:
        """Move the simulator's clock (like a Stripe test clock); only affects new timestamps."""
        with self.lock:
            self.clock_offset += int(seconds)

    def _store(self, kind: str, obj: dict, **internal) -> dict:
        with self.lock:
            self._counter += 1
            self.objects[obj["id"]] = obj
            self.kinds[obj["id"]] = kind
            self.seq[obj["id"]] = self._counter
            self.internal[obj["id"]] = internal
            return obj

    def _get(self, kind: str, object_id: str, param: str = "id") -> dict:
        obj = self.objects.get(object_id) if isinstance(object_id, str) else None
        if obj is None or self.kinds.get(object_id) != kind or obj.get("deleted"):
            raise missing(kind, str(object_id), param)
        return obj

    def _all(self, kind: str) -> list[dict]:
        ids = [i for i, k in self.kinds.items() if k == kind and not self.objects[i].get("deleted")]
        ids.sort(key=lambda i: (self.objects[i].get("created") or 0, self.seq[i]), reverse=True)
        return [self.objects[i] for i in ids]

    def kind_of(self, object_id: str) -> str | None:
        return self.kinds.get(object_id)

    # ------------------------------------------------------------- rendering

    def render(self, object_id: str) -> dict:
        """The object as the API returns it now (subscription items embed the current price)."""
        with self.lock:
            obj = copy.deepcopy(self.objects[object_id])
            if obj.get("object") == "subscription":
                for item in obj["items"]["data"]:
                    price = copy.deepcopy(self.objects[item["price"]["id"]])
                    item["price"] = price
                    item["plan"] = self._plan_from_price(price)
            return self.render_payment(obj)

    def retrieve(self, kind: str, object_id: str, expand: Iterable[str] = ()) -> dict:
        with self.lock:
            self._get(kind, object_id)
            obj = self.render(object_id)
            for path in expand:
                self._expand(obj, path.split("."), path)
            return obj

    def _resolve(self, value: str, path: str) -> dict:
        kind = next((k for p, k in PREFIX_KIND.items() if value.startswith(p)), None)
        if kind is None or value not in self.objects:
            raise StripeError(400, f"This property cannot be expanded ({path}).", param="expand")
        if self.objects[value].get("deleted"):
            return self.deleted_stub(value)
        return self.render(value)

    def deleted_stub(self, object_id: str) -> dict:
        """What Stripe answers for a deleted object: `{"id", "object", "deleted": true}`."""
        return {"deleted": True, "id": object_id, "object": self.objects[object_id]["object"]}

    def customer_retrieve(self, customer_id: str, expand: Iterable[str] = ()) -> dict:
        """GET /v1/customers/:id: a deleted customer answers 200 with its deleted stub, as Stripe's."""
        with self.lock:
            obj = self.objects.get(customer_id)
            if obj is not None and self.kinds.get(customer_id) == "customer" and obj.get("deleted"):
                return self.deleted_stub(customer_id)
            return self.retrieve("customer", customer_id, expand)

    def _includable(self, obj: dict, key: str, path: str):
        kind = obj.get("object")
        if kind == "checkout.session" and key == "line_items":
            return self._list(
                self.internal[obj["id"]]["line_items"], f"/v1/checkout/sessions/{obj['id']}/line_items"
            )
        if kind == "item" and key == "discounts":
            return []
        if key == "breakdown" and "amount_discount" in obj:  # checkout total_details
            return {"discounts": [], "taxes": []}
        if kind == "customer" and key == "sources":
            return self._list([], f"/v1/customers/{obj['id']}/sources")
        if kind == "customer" and key == "tax_ids":
            return self._list([], f"/v1/customers/{obj['id']}/tax_ids")
        if kind == "price" and key == "currency_options":
            return {
                obj["currency"]: {
                    "custom_unit_amount": None,
                    "tax_behavior": obj["tax_behavior"],
                    "unit_amount": obj["unit_amount"],
                    "unit_amount_decimal": obj["unit_amount_decimal"],
                }
            }
        if kind == "price" and key == "tiers":
            return None
        if kind == "invoice" and key == "payments":
            return self.invoice_payments_of(obj["id"])
        raise StripeError(400, f"This property cannot be expanded ({path}).", param="expand")

    def _expand(self, obj, parts: list[str], path: str) -> None:
        if isinstance(obj, list):
            for element in obj:
                self._expand(element, parts, path)
            return
        if not isinstance(obj, dict):
            return
        key, rest = parts[0], parts[1:]
        if key not in obj:
            obj[key] = self._includable(obj, key, path)
        value = obj[key]
        if isinstance(value, str):
            value = obj[key] = self._resolve(value, path)
        elif isinstance(value, list):
            value = obj[key] = [self._resolve(v, path) if isinstance(v, str) else v for v in value]
        if rest:
            self._expand(value, rest, path)

    @staticmethod
    def _created_filter(objects: list[dict], created) -> list[dict]:
        if not isinstance(created, dict):
            return [o for o in objects if o["created"] == as_int(created, "created")]
        ops = {"gt": int.__gt__, "gte": int.__ge__, "lt": int.__lt__, "lte": int.__le__}
        for op, value in created.items():
            if op not in ops:
                raise unknown_parameter(f"created[{op}]")
            bound = as_int(value, f"created[{op}]")
            objects = [o for o in objects if ops[op](o["created"], bound)]
        return objects

    @staticmethod
    def _list(data: list, url: str, has_more: bool = False) -> dict:
        return {"object": "list", "data": data, "has_more": has_more, "url": url}

    def paginate(self, objects: list[dict], params: dict, url: str, expand: Iterable[str] = ()) -> dict:
        if params.get("created") not in (None, ""):
            objects = self._created_filter(objects, params["created"])
        if params.get("test_clock"):
            objects = []  # the simulator has no test clocks
        if params.get("delivery_success") not in (None, ""):
            raise StripeError(
                400, "Stripe simulator: delivery_success is not modelled", param="delivery_success"
            )
        limit = as_int(params.get("limit", 10), "limit")
        if not 1 <= limit <= 100:
            raise StripeError(400, "Invalid integer: limit must be between 1 and 100", param="limit")
        ids = [o["id"] for o in objects]
        if params.get("starting_after"):
            if params["starting_after"] not in ids:
                raise missing(self.kinds.get(params["starting_after"], "object"), params["starting_after"])
            objects = objects[ids.index(params["starting_after"]) + 1 :]
        elif params.get("ending_before"):
            if params["ending_before"] not in ids:
                raise missing(self.kinds.get(params["ending_before"], "object"), params["ending_before"])
            objects = objects[: ids.index(params["ending_before"])][-limit:]
        page = objects[:limit]
        data = [self.render(o["id"]) for o in page]
        for path in expand:
            if not path.startswith("data."):
                raise StripeError(400, f"This property cannot be expanded ({path}).", param="expand")
            for obj in data:
                self._expand(obj, path.split(".")[1:], path)
        return self._list(data, url, has_more=len(objects) > limit)

    # ---------------------------------------------------------------- events

    @contextmanager
    def request_context(self, request_id: str | None, idempotency_key: str | None):
        """Events emitted inside carry `request` like Stripe's (API-triggered, delivered async)."""
        self._local.request = {"id": request_id, "idempotency_key": idempotency_key}
        try:
            yield
        finally:
            self._local.request = None

    def _emit(self, event_type: str, obj: dict, previous_attributes: dict | None = None) -> dict:
        with self.lock:
            data = {"object": copy.deepcopy(self.render(obj["id"]) if obj["id"] in self.objects else obj)}
            if previous_attributes is not None:
                data["previous_attributes"] = copy.deepcopy(previous_attributes)
            request = getattr(self._local, "request", None) or {"id": None, "idempotency_key": None}
            event = {
                "api_version": self.api_version,
                "created": self.now(),
                "data": data,
                "id": new_id("evt_"),
                "livemode": False,
                "object": "event",
                "pending_webhooks": 0,
                "request": dict(request),
                "type": event_type,
            }
            endpoints = [
                e
                for e in self._all("webhook_endpoint")
                if e["status"] == "enabled"
                and ("*" in e["enabled_events"] or event_type in e["enabled_events"])
            ]
            event["pending_webhooks"] = len(endpoints)
            self._store("event", event)
            self.event_log.append(event["id"])
        self.outbox.enqueue(event, endpoints)
        return event

    def events(self, since: int = 0, types: Iterable[str] | None = None) -> list[dict]:
        """Events in the order they were emitted (oldest first); `since` is a `mark()`."""
        with self.lock:
            events = [self.objects[i] for i in self.event_log[since:]]
        wanted = set(types) if types else None
        return [copy.deepcopy(e) for e in events if wanted is None or e["type"] in wanted]

    def event_types(self, since: int = 0) -> list[str]:
        return [e["type"] for e in self.events(since)]

    def mark(self) -> int:
        """A bookmark into the event log, for `events(since=...)` / `event_types(since=...)`."""
        with self.lock:
            return len(self.event_log)

    # Webhook delivery controls (see delivery.py for the semantics).
    def hold_webhooks(self):
        return self.outbox.hold()

    def pending_events(self) -> list[dict]:
        return self.outbox.pending_events()

    def deliver(self, events=None, **kwargs) -> list[int | None]:
        return self.outbox.deliver(events, **kwargs)

    def redeliver(self, event_id: str) -> list[int | None]:
        return self.outbox.redeliver(event_id)

    def flush(self, timeout: float = 60.0) -> None:
        self.outbox.flush(timeout)

    def failed_deliveries(self) -> list[dict]:
        return self.outbox.failed()

    def _after_action(self) -> None:
        """Stripe-side actions return once their webhooks are delivered (unless held)."""
        self.outbox.flush()

    # --------------------------------------------------------------- account

    def account(self) -> dict:
        return {
            "business_profile": {
                "annual_revenue": None,
                "estimated_worker_count": None,
                "mcc": "5734",
                "minority_owned_business_designation": None,
                "name": "QualityBytes (Stripe simulator)",
                "product_description": "Software licenses",
                "support_address": None,
                "support_email": "support@qualitybytes.test",
                "support_phone": None,
                "support_url": None,
                "url": None,
            },
            "business_type": "company",
            "capabilities": {"card_payments": "active", "transfers": "active"},
            "charges_enabled": True,
            "controller": {"type": "account"},
            "country": "US",
            "created": 1700000000,
            "default_currency": "usd",
            "details_submitted": True,
            "email": "billing@qualitybytes.test",
            "external_accounts": self._list([], f"/v1/accounts/{ACCOUNT_ID}/external_accounts"),
            "future_requirements": {
                "alternatives": [],
                "current_deadline": None,
                "currently_due": [],
                "disabled_reason": None,
                "errors": [],
                "eventually_due": [],
                "past_due": [],
                "pending_verification": [],
            },
            "id": ACCOUNT_ID,
            "metadata": {},
            "object": "account",
            "payouts_enabled": True,
            "requirements": {
                "alternatives": [],
                "current_deadline": None,
                "currently_due": [],
                "disabled_reason": None,
                "errors": [],
                "eventually_due": [],
                "past_due": [],
                "pending_verification": [],
            },
            "settings": {
                "bacs_debit_payments": {"display_name": None, "service_user_number": None},
                "branding": {"icon": None, "logo": None, "primary_color": None, "secondary_color": None},
                "card_issuing": {"tos_acceptance": {"date": None, "ip": None}},
                "card_payments": {
                    "decline_on": {"avs_failure": False, "cvc_failure": False},
                    "statement_descriptor_prefix": None,
                    "statement_descriptor_prefix_kana": None,
                    "statement_descriptor_prefix_kanji": None,
                },
                "dashboard": {"display_name": "QualityBytes (simulator)", "timezone": "Etc/UTC"},
                "invoices": {"default_account_tax_ids": None, "hosted_payment_method_save": "offer"},
                "payments": {
                    "statement_descriptor": "QUALITYBYTES",
                    "statement_descriptor_kana": None,
                    "statement_descriptor_kanji": None,
                    "statement_descriptor_prefix_kana": None,
                    "statement_descriptor_prefix_kanji": None,
                },
                "payouts": {
                    "debit_negative_balances": True,
                    "schedule": {"delay_days": 2, "interval": "daily"},
                    "statement_descriptor": None,
                },
                "sepa_debit_payments": {},
            },
            "tos_acceptance": {"date": 1700000000, "ip": "127.0.0.1", "user_agent": None},
            "type": "standard",
        }

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
            if params.get("email"):
                customers = [c for c in customers if c["email"] == params["email"]]
            return self.paginate(customers, params, "/v1/customers", as_list(params.get("expand"), "expand"))

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

    # -------------------------------------------------------------- products

    PRODUCT_PARAMS = (
        "id",
        "name",
        "description",
        "active",
        "metadata",
        "unit_label",
        "statement_descriptor",
        "url",
    )

    def product_create(self, params: dict) -> dict:
        check_params(params, self.PRODUCT_PARAMS)
        if not params.get("name"):
            raise StripeError(400, "Missing required param: name.", param="name")
        now = self.now()
        with self.lock:
            product_id = params.get("id") or new_id("prod_", 14)
            if product_id in self.objects:
                raise StripeError(
                    400, f"Product already exists: {product_id}", code="resource_already_exists"
                )
            product = {
                "active": as_bool(params.get("active", True), "active"),
                "created": now,
                "default_price": None,
                "description": params.get("description") or None,
                "id": product_id,
                "images": [],
                "livemode": False,
                "marketing_features": [],
                "metadata": merge_metadata({}, params.get("metadata")),
                "name": params["name"],
                "object": "product",
                "package_dimensions": None,
                "shippable": None,
                "statement_descriptor": params.get("statement_descriptor") or None,
                "tax_code": None,
                "type": "service",
                "unit_label": params.get("unit_label") or None,
                "updated": now,
                "url": params.get("url") or None,
            }
            self._store("product", product)
            self._emit("product.created", product)
            return self.render(product_id)

    def product_update(self, product_id: str, params: dict) -> dict:
        check_params(params, (*self.PRODUCT_PARAMS[1:], "default_price"))
        with self.lock:
            product = self._get("product", product_id)
            previous = {}
            for key, value in params.items():
                if key == "metadata":
                    new = merge_metadata(product["metadata"], value)
                elif key == "active":
                    new = as_bool(value, key)
                elif key == "default_price":
                    new = value or None
                    if new:
                        self._get("price", new, "default_price")
                else:
                    new = value or None
                if product.get(key) != new:
                    previous[key] = copy.deepcopy(product.get(key))
                    product[key] = new
            if previous:
                product["updated"] = self.now()
                self._emit("product.updated", product, previous)
            return self.render(product_id)

    def product_list(self, params: dict) -> dict:
        check_params(params, ("active", "ids", "limit", "starting_after", "ending_before", "created"))
        with self.lock:
            products = self._all("product")
            if "active" in params:
                active = as_bool(params["active"], "active")
                products = [p for p in products if p["active"] == active]
            if params.get("ids"):
                ids = set(as_list(params["ids"], "ids"))
                products = [p for p in products if p["id"] in ids]
            return self.paginate(products, params, "/v1/products", as_list(params.get("expand"), "expand"))

    # ---------------------------------------------------------------- prices

    PRICE_PARAMS = (
        "product",
        "currency",
        "unit_amount",
        "recurring",
        "lookup_key",
        "transfer_lookup_key",
        "nickname",
        "metadata",
        "active",
        "tax_behavior",
        "billing_scheme",
    )

    def price_create(self, params: dict) -> dict:
        check_params(params, self.PRICE_PARAMS)
        for required in ("currency", "product", "unit_amount"):
            if params.get(required) in (None, ""):
                raise StripeError(400, f"Missing required param: {required}.", param=required)
        if params.get("billing_scheme", "per_unit") != "per_unit":
            raise StripeError(
                400, "Stripe simulator: only billing_scheme=per_unit is modelled", param="billing_scheme"
            )
        now = self.now()
        with self.lock:
            product = self._get("product", params["product"], "product")
            recurring = params.get("recurring") or None
            if recurring is not None:
                check_params(recurring, ("interval", "interval_count", "usage_type"))
                if recurring.get("interval") not in ("day", "week", "month", "year"):
                    raise StripeError(400, "Invalid recurring[interval]", param="recurring[interval]")
                recurring = {
                    "interval": recurring["interval"],
                    "interval_count": as_int(recurring.get("interval_count", 1), "recurring[interval_count]"),
                    "meter": None,
                    "trial_period_days": None,
                    "usage_type": recurring.get("usage_type", "licensed"),
                }
            lookup_key = params.get("lookup_key") or None
            if lookup_key:
                holder = next((p for p in self._all("price") if p["lookup_key"] == lookup_key), None)
                if holder and not as_bool(params.get("transfer_lookup_key", False), "transfer_lookup_key"):
                    raise StripeError(
                        400,
                        f"A price (`{holder['id']}`) already uses that lookup key.",
                        param="lookup_key",
                    )
                if holder:
                    holder["lookup_key"] = None
                    self._emit("price.updated", holder, {"lookup_key": lookup_key})
            amount = as_int(params["unit_amount"], "unit_amount")
            price = {
                "active": as_bool(params.get("active", True), "active"),
                "billing_scheme": "per_unit",
                "created": now,
                "currency": str(params["currency"]).lower(),
                "custom_unit_amount": None,
                "id": new_id("price_"),
                "livemode": False,
                "lookup_key": lookup_key,
                "metadata": merge_metadata({}, params.get("metadata")),
                "nickname": params.get("nickname") or None,
                "object": "price",
                "product": product["id"],
                "recurring": recurring,
                "tax_behavior": params.get("tax_behavior") or "unspecified",
                "tiers_mode": None,
                "transform_quantity": None,
                "type": "recurring" if recurring else "one_time",
                "unit_amount": amount,
                "unit_amount_decimal": str(amount),
            }
            self._store("price", price)
            self._emit("price.created", price)
            return self.render(price["id"])

    def price_update(self, price_id: str, params: dict) -> dict:
        check_params(
            params, ("active", "lookup_key", "transfer_lookup_key", "nickname", "metadata", "tax_behavior")
        )
        with self.lock:
            price = self._get("price", price_id)
            previous = {}
            transfer = as_bool(params.get("transfer_lookup_key", False), "transfer_lookup_key")
            for key, value in params.items():
                if key == "transfer_lookup_key":
                    continue
                if key == "metadata":
                    new = merge_metadata(price["metadata"], value)
                elif key == "active":
                    new = as_bool(value, key)
                else:
                    new = value or None
                if key == "lookup_key" and new:
                    holder = next(
                        (p for p in self._all("price") if p["lookup_key"] == new and p is not price), None
                    )
                    if holder and not transfer:
                        raise StripeError(
                            400,
                            f"A price (`{holder['id']}`) already uses that lookup key.",
                            param="lookup_key",
                        )
                    if holder:
                        holder["lookup_key"] = None
                        self._emit("price.updated", holder, {"lookup_key": new})
                if price.get(key) != new:
                    previous[key] = copy.deepcopy(price.get(key))
                    price[key] = new
            if previous:
                self._emit("price.updated", price, previous)
            return self.render(price_id)

    def price_list(self, params: dict) -> dict:
        check_params(
            params,
            (
                "active",
                "lookup_keys",
                "product",
                "type",
                "currency",
                "recurring",
                "limit",
                "starting_after",
                "ending_before",
                "created",
            ),
        )
        with self.lock:
            prices = self._all("price")
            if "active" in params:
                active = as_bool(params["active"], "active")
                prices = [p for p in prices if p["active"] == active]
            if params.get("lookup_keys"):
                keys = set(as_list(params["lookup_keys"], "lookup_keys"))
                prices = [p for p in prices if p["lookup_key"] in keys]
            if params.get("product"):
                prices = [p for p in prices if p["product"] == params["product"]]
            if params.get("type"):
                prices = [p for p in prices if p["type"] == params["type"]]
            if params.get("currency"):
                prices = [p for p in prices if p["currency"] == params["currency"]]
            return self.paginate(prices, params, "/v1/prices", as_list(params.get("expand"), "expand"))

    @staticmethod
    def _plan_from_price(price: dict) -> dict:
        recurring = price["recurring"] or {}
        return {
            "active": price["active"],
            "amount": price["unit_amount"],
            "amount_decimal": price["unit_amount_decimal"],
            "billing_scheme": price["billing_scheme"],
            "created": price["created"],
            "currency": price["currency"],
            "id": price["id"],
            "interval": recurring.get("interval"),
            "interval_count": recurring.get("interval_count"),
            "livemode": False,
            "metadata": copy.deepcopy(price["metadata"]),
            "meter": None,
            "nickname": price["nickname"],
            "object": "plan",
            "product": price["product"],
            "tiers_mode": None,
            "transform_usage": None,
            "trial_period_days": None,
            "usage_type": recurring.get("usage_type", "licensed"),
        }

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
        if params.get("ui_mode", "hosted") != "hosted":
            raise StripeError(400, "Stripe simulator: only ui_mode=hosted is modelled", param="ui_mode")
        if not params.get("success_url"):
            raise StripeError(400, "Missing required param: success_url.", param="success_url")
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
                "customer_details": (
                    {
                        "address": None,
                        "business_name": None,
                        "email": customer["email"],
                        "individual_name": None,
                        "name": customer["name"],
                        "phone": None,
                        "tax_exempt": "none",
                        "tax_ids": [],
                    }
                    if customer
                    else None
                ),
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
            return self.paginate(
                sessions, params, "/v1/checkout/sessions", as_list(params.get("expand"), "expand")
            )

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
        starts = [line["period"]["start"] for line in lines] or [now]
        ends = [line["period"]["end"] for line in lines] or [now]
        invoice = {
            "account_country": "US",
            "account_name": "QualityBytes (simulator)",
            "account_tax_ids": None,
            "amount_due": max(total, 0),
            "amount_overpaid": 0,
            "amount_paid": 0,
            "amount_remaining": max(total, 0),
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
            "starting_balance": 0,
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
        self._emit("invoice.finalized", invoice)
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
            if params.get("customer"):
                invoices = [i for i in invoices if i["customer"] == params["customer"]]
            if params.get("subscription"):
                invoices = [
                    i
                    for i in invoices
                    if i["parent"]["subscription_details"]["subscription"] == params["subscription"]
                ]
            if params.get("status"):
                invoices = [i for i in invoices if i["status"] == params["status"]]
            return self.paginate(invoices, params, "/v1/invoices", as_list(params.get("expand"), "expand"))

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
                raise StripeError(
                    402,
                    PAYMENT_FAILED_MESSAGE,
                    type="card_error",
                    code="card_declined",
                    decline_code="generic_decline",
                )
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
        """The upcoming invoice of a subscription, optionally with a price change previewed."""
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
                raise StripeError(400, "Missing required param: customer.", param="customer")
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
            if details.get("items"):
                change = as_list(details["items"], "subscription_details[items]")[0]
                new_price = self._get(
                    "price", change.get("price", price["id"]), "subscription_details[items][0][price]"
                )
                new_qty = as_int(change.get("quantity", quantity), "quantity")
                behavior = details.get("proration_behavior", "create_prorations")
                prorations = (
                    []
                    if behavior == "none"
                    else self._proration_specs(sub, item, price, quantity, new_price, new_qty)
                )
                if (new_price["recurring"]["interval"], new_price["recurring"]["interval_count"]) != (
                    price["recurring"]["interval"],
                    price["recurring"]["interval_count"],
                ):
                    # another interval restarts the cycle now: the preview is the immediate invoice
                    start = end = self.now()
                    prorations = [spec for spec in prorations if spec["amount"] < 0]
                pending += prorations
                price, quantity = new_price, new_qty
            next_end = add_interval(end, price["recurring"]["interval"], price["recurring"]["interval_count"])
            specs = [
                *pending,
                {
                    "item": item,
                    "price": price,
                    "amount": price["unit_amount"] * quantity,
                    "quantity": quantity,
                    "start": end,
                    "end": next_end,
                },
            ]
            preview_id = new_id("upcoming_in_")
            lines = [self._invoice_line(preview_id, sub, **spec) for spec in specs]
            total = sum(line["amount"] for line in lines)
            invoice = copy.deepcopy(self.objects[sub["latest_invoice"]]) if sub["latest_invoice"] else {}
            invoice.update(
                id=preview_id,
                amount_due=max(total, 0),
                amount_paid=0,
                amount_remaining=max(total, 0),
                attempt_count=0,
                attempted=False,
                billing_reason="upcoming",
                created=self.now(),
                effective_at=None,
                hosted_invoice_url=None,
                invoice_pdf=None,
                lines=self._list(lines, f"/v1/invoices/{preview_id}/lines"),
                next_payment_attempt=end,
                number=None,
                period_start=start,
                period_end=end,
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

    # ---------------------------------------------------------- subscriptions

    def _new_subscription(self, session: dict, customer: dict) -> dict:
        internal = self.internal[session["id"]]
        return self._build_subscription(
            customer,
            [(self.objects[line["price"]["id"]], line["quantity"]) for line in internal["line_items"]],
            metadata=internal["subscription_metadata"],
            description=internal["subscription_description"],
        )

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
            if params.get("customer"):
                subs = [s for s in subs if s["customer"] == params["customer"]]
            if params.get("price"):
                subs = [
                    s for s in subs if any(i["price"]["id"] == params["price"] for i in s["items"]["data"])
                ]
            return self.paginate(subs, params, "/v1/subscriptions", as_list(params.get("expand"), "expand"))

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
        payment_behavior = params.get("payment_behavior") or "allow_incomplete"
        if payment_behavior not in (
            "allow_incomplete",
            "error_if_incomplete",
            "default_incomplete",
            "pending_if_incomplete",
        ):
            raise StripeError(400, f"Invalid payment_behavior: {payment_behavior}", param="payment_behavior")
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
            behavior = params.get("proration_behavior", "create_prorations")
            if behavior not in ("create_prorations", "none", "always_invoice"):
                raise StripeError(400, f"Invalid proration_behavior: {behavior}", param="proration_behavior")
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
                method = self._get(
                    "payment_method", params["default_payment_method"], "default_payment_method"
                )
                if method["customer"] != sub["customer"]:
                    raise StripeError(
                        400,
                        "The customer does not have a payment method with the ID "
                        f"{method['id']}. The payment method must be attached to the customer.",
                        param="default_payment_method",
                    )
                apply(default_payment_method=method["id"])
            if "cancellation_details" in params:
                details = dict(sub["cancellation_details"])
                details.update({k: v or None for k, v in (params["cancellation_details"] or {}).items()})
                apply(cancellation_details=details)
            bill_now = self._change_price(sub, *change, behavior, previous) if change else None
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
                raise StripeError(
                    402,
                    PAYMENT_FAILED_MESSAGE,
                    type="card_error",
                    code="card_declined",
                    decline_code="generic_decline",
                )
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

    def _proration_specs(self, sub, item, old_price, old_qty, new_price, new_qty) -> list[dict]:
        now = self.now()
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

    def _change_price(self, sub: dict, new_price: dict, new_qty: int, behavior: str, previous: dict):
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
            else self._proration_specs(sub, item, old_price, old_qty, new_price, new_qty)
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

    # ------------------------------------------------------- billing portal

    def portal_session_create(self, params: dict) -> dict:
        check_params(params, ("customer", "return_url", "configuration", "locale"))
        with self.lock:
            if not params.get("customer"):
                raise StripeError(400, "Missing required param: customer.", param="customer")
            customer = self._get("customer", params["customer"], "customer")
            session = {
                "configuration": params.get("configuration") or "bpc_1QbSimulatorPortalConfig",
                "created": self.now(),
                "customer": customer["id"],
                "customer_account": None,
                "flow": None,
                "id": new_id("bps_"),
                "livemode": False,
                "locale": params.get("locale") or None,
                "object": "billing_portal.session",
                "on_behalf_of": None,
                "return_url": params.get("return_url") or None,
                "url": "",
            }
            session["url"] = f"{self.public_url}/portal/{session['id']}"
            self._store("billing_portal.session", session)
            return self.render(session["id"])

    # ------------------------------------------------------ webhook endpoints

    def webhook_endpoint_create(self, params: dict) -> dict:
        check_params(params, ("url", "enabled_events", "api_version", "description", "metadata", "connect"))
        if not params.get("url"):
            raise StripeError(400, "Missing required param: url.", param="url")
        if not str(params["url"]).startswith(("http://", "https://")):
            raise StripeError(400, f"Invalid URL: {params['url']}", param="url")
        events = as_list(params.get("enabled_events"), "enabled_events")
        if not events:
            raise StripeError(400, "Missing required param: enabled_events.", param="enabled_events")
        if as_bool(params.get("connect", False), "connect"):
            raise StripeError(400, "Stripe simulator: Connect endpoints are not modelled", param="connect")
        with self.lock:
            endpoint = {
                "api_version": params.get("api_version") or None,
                "application": None,
                "created": self.now(),
                "description": params.get("description") or None,
                "enabled_events": events,
                "id": new_id("we_"),
                "livemode": False,
                "metadata": merge_metadata({}, params.get("metadata")),
                "object": "webhook_endpoint",
                "status": "enabled",
                "url": params["url"],
            }
            secret = "whsec_" + new_id("", 32)
            self._store("webhook_endpoint", endpoint, secret=secret)
            return {**self.render(endpoint["id"]), "secret": secret}

    def webhook_endpoint_update(self, endpoint_id: str, params: dict) -> dict:
        check_params(params, ("url", "enabled_events", "description", "metadata", "disabled"))
        with self.lock:
            endpoint = self._get("webhook_endpoint", endpoint_id)
            if "url" in params:
                endpoint["url"] = params["url"]
            if "enabled_events" in params:
                endpoint["enabled_events"] = as_list(params["enabled_events"], "enabled_events")
            if "description" in params:
                endpoint["description"] = params["description"] or None
            if "metadata" in params:
                endpoint["metadata"] = merge_metadata(endpoint["metadata"], params["metadata"])
            if "disabled" in params:
                endpoint["status"] = "disabled" if as_bool(params["disabled"], "disabled") else "enabled"
            return self.render(endpoint_id)

    def webhook_endpoint_delete(self, endpoint_id: str) -> dict:
        with self.lock:
            endpoint = self._get("webhook_endpoint", endpoint_id)
            endpoint["deleted"] = True
            return {"deleted": True, "id": endpoint_id, "object": "webhook_endpoint"}

    def webhook_secret(self, endpoint_id: str) -> str:
        return self.internal[endpoint_id]["secret"]

    def add_webhook_endpoint(
        self,
        url: str,
        *,
        enabled_events: Iterable[str] = ("*",),
        secret: str | None = None,
        metadata: dict | None = None,
    ) -> dict:
        """Register an endpoint directly (tests); returns it with its `secret`."""
        endpoint = self.webhook_endpoint_create(
            {"url": url, "enabled_events": list(enabled_events), "metadata": metadata or {}}
        )
        if secret:
            self.internal[endpoint["id"]]["secret"] = endpoint["secret"] = secret
        return endpoint

    def event_list(self, params: dict) -> dict:
        check_params(
            params,
            ("type", "types", "created", "limit", "starting_after", "ending_before", "delivery_success"),
        )
        with self.lock:
            events = self._all("event")
            if params.get("type"):
                pattern = params["type"]
                if pattern.endswith("*"):
                    events = [e for e in events if e["type"].startswith(pattern[:-1])]
                else:
                    events = [e for e in events if e["type"] == pattern]
            if params.get("types"):
                types = set(as_list(params["types"], "types"))
                events = [e for e in events if e["type"] in types]
            return self.paginate(events, params, "/v1/events", as_list(params.get("expand"), "expand"))

    # ============================================== Stripe-side actions (tests)

    def _session(self, session_or_id) -> dict:
        session_id = session_or_id if isinstance(session_or_id, str) else session_or_id["id"]
        return self._get("checkout.session", session_id)

    def _sub(self, sub_or_id) -> dict:
        sub_id = sub_or_id if isinstance(sub_or_id, str) else sub_or_id["id"]
        return self._get("subscription", sub_id)

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
                customer_details={
                    "address": None,
                    "business_name": None,
                    "email": customer["email"],
                    "individual_name": None,
                    "name": customer["name"],
                    "phone": None,
                    "tax_exempt": "none",
                    "tax_ids": [],
                },
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

    def renew(self, sub, *, succeed: bool = True, backdate: bool = False, deliver: bool = True) -> dict:
        """The period ends and Stripe bills the next one. With `succeed=False` the charge fails:
        the new period still starts, the invoice stays open and the subscription is past_due.
        A subscription set to cancel at period end is canceled instead.

        `backdate=True` first slides the current period back so that it ends now, as if the
        month had passed: the app's own clock then agrees that the old period is over."""
        with self.lock:
            sub = self._sub(sub)
            if sub["status"] in ("canceled", "incomplete_expired", "incomplete"):
                raise StripeError(400, f"Cannot renew a subscription with status {sub['status']}.")
            item = sub["items"]["data"][0]
            if backdate:
                self._backdate(sub, item)
            if sub["pending_update"]:  # it expires at the latest when the period ends
                self._expire_pending_update(sub)
            if sub["cancel_at_period_end"]:
                self._cancel(sub, reason="cancellation_requested", ended_at=item["current_period_end"])
            else:
                previous = self._items_snapshot(sub)
                price = self.objects[item["price"]["id"]]
                start = item["current_period_end"]
                end = add_interval(
                    start, price["recurring"]["interval"], price["recurring"]["interval_count"]
                )
                item["current_period_start"], item["current_period_end"] = start, end
                lines = [
                    *self.internal[sub["id"]]["pending_prorations"],
                    {
                        "item": item,
                        "price": price,
                        "quantity": item["quantity"],
                        "start": start,
                        "end": end,
                        "amount": price["unit_amount"] * item["quantity"],
                    },
                ]
                self.internal[sub["id"]]["pending_prorations"] = []
                invoice = self._create_invoice(sub, "subscription_cycle", lines)
                self._emit("customer.subscription.updated", sub, previous)
                if sub["status"] == "unpaid":
                    # Stripe creates invoices for unpaid subscriptions but does not attempt them.
                    pass
                else:
                    self._settle(invoice, succeed)
        if deliver:
            self._after_action()
        return self.render(sub["id"])

    def backdate(self, sub, seconds: int) -> dict:
        """Move a subscription's dates `seconds` into the past, as a Stripe test clock would make
        time pass (no event: Stripe sends none for the passing of time itself). Lets a test put
        the period end, plus any grace, behind the app's clock before the next action."""
        with self.lock:
            sub = self._sub(sub)
            for item in sub["items"]["data"]:
                item["current_period_start"] -= seconds
                item["current_period_end"] -= seconds
            for key in ("billing_cycle_anchor", "cancel_at", "start_date", "created"):
                if sub[key]:
                    sub[key] -= seconds
            return self.render(sub["id"])

    def _backdate(self, sub: dict, item: dict) -> None:
        shift = item["current_period_end"] - self.now()
        if shift <= 0:
            return
        item["current_period_start"] -= shift
        item["current_period_end"] -= shift
        sub["billing_cycle_anchor"] -= shift
        if sub["cancel_at"]:
            sub["cancel_at"] -= shift

    def end_period(self, sub, **kwargs) -> dict:
        """Alias of `renew`: what happens when the current period ends."""
        return self.renew(sub, **kwargs)

    def fail_payment(self, sub, *, backdate: bool = False, deliver: bool = True) -> dict:
        """The renewal charge fails: invoice.payment_failed, subscription past_due."""
        return self.renew(sub, succeed=False, backdate=backdate, deliver=deliver)

    def retry_payment(self, sub, *, succeed: bool = True, deliver: bool = True) -> dict:
        """A smart retry of the open invoice (or the customer's new card) succeeds or fails again."""
        with self.lock:
            sub = self._sub(sub)
            invoice = self.objects.get(sub["latest_invoice"])
            if not invoice or invoice["status"] != "open":
                raise StripeError(400, "The subscription has no open invoice to retry.")
            self._settle(invoice, succeed)
        if deliver:
            self._after_action()
        return self.render(sub["id"])

    def exhaust_retries(self, sub, *, outcome: str | None = None, deliver: bool = True) -> dict:
        """All retries failed: the subscription is canceled or marked unpaid (`retries_exhausted`)."""
        outcome = outcome or self.retries_exhausted
        if outcome not in ("cancel", "mark_unpaid"):
            raise ValueError("outcome must be 'cancel' or 'mark_unpaid'")
        with self.lock:
            sub = self._sub(sub)
            if sub["status"] != "past_due":
                raise StripeError(400, f"exhaust_retries needs a past_due subscription (is {sub['status']}).")
            invoice = self.objects.get(sub["latest_invoice"])
            if invoice and invoice["status"] == "open":
                self._attempt_payment(invoice, False)  # the last retry fails too
                invoice["next_payment_attempt"] = None
            if outcome == "cancel":
                self._cancel(sub, reason="payment_failed")
            else:
                self._set_sub(sub, status="unpaid")
        if deliver:
            self._after_action()
        return self.render(sub["id"])

    def cancel_now(self, sub, *, deliver: bool = True) -> dict:
        """Canceled at once (Dashboard or API): customer.subscription.deleted."""
        with self.lock:
            result = self.subscription_cancel(self._sub(sub)["id"], {})
        if deliver:
            self._after_action()
        return result

    def cancel_at_period_end(self, sub, *, deliver: bool = True) -> dict:
        """Customer cancels in the portal: stays active until the period ends."""
        with self.lock:
            sub = self._sub(sub)
            self._set_sub(sub, **self._cancel_flag_changes(sub, True))
        if deliver:
            self._after_action()
        return self.render(sub["id"])

    def resume(self, sub, *, deliver: bool = True) -> dict:
        """Undo a cancel-at-period-end."""
        with self.lock:
            sub = self._sub(sub)
            self._set_sub(sub, **self._cancel_flag_changes(sub, False))
        if deliver:
            self._after_action()
        return self.render(sub["id"])

    def change_price(
        self,
        sub,
        price_id: str,
        *,
        quantity: int | None = None,
        proration_behavior: str = "create_prorations",
        deliver: bool = True,
    ) -> dict:
        """A plan change made on Stripe's side (e.g. in the portal)."""
        with self.lock:
            sub = self._sub(sub)
            item = sub["items"]["data"][0]
            params = {
                "items": [{"id": item["id"], "price": price_id, "quantity": quantity or item["quantity"]}],
                "proration_behavior": proration_behavior,
            }
            result = self.subscription_update(sub["id"], params)
        if deliver:
            self._after_action()
        return result

    def fail_next_payments(self, count: int = 1, *, requires_action: bool = False) -> None:
        """Make the next `count` charges the app triggers through the API (e.g. an immediate
        invoice after a plan change, or POST /v1/invoices/:id/pay) fail: declined, or with
        `requires_action` asking for 3-D Secure authentication (no charge is made then, and
        Stripe sends `invoice.payment_action_required` after `invoice.payment_failed`)."""
        with self.lock:
            self.failing_payments = count
            self.failing_outcome = "requires_action" if requires_action else "decline"

    # --------------------------------------------------------- persistence

    def dump_state(self) -> str:
        with self.lock:
            return json.dumps(
                {
                    "objects": self.objects,
                    "kinds": self.kinds,
                    "seq": self.seq,
                    "internal": self.internal,
                    "event_log": self.event_log[-500:],
                    "counter": self._counter,
                    "clock_offset": self.clock_offset,
                }
            )

    def load_state(self, text: str) -> None:
        data = json.loads(text)
        with self.lock:
            self.objects, self.kinds = data["objects"], data["kinds"]
            self.seq, self.internal = data["seq"], data["internal"]
            self.event_log = [e for e in data["event_log"] if e in self.objects]
            self._counter, self.clock_offset = data["counter"], data["clock_offset"]

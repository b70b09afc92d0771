"""The simulated account's state (a base class of `StripeSimulator`): objects and their ids,
the clock, rendering and expansion, lists, events and their delivery controls, persistence.

Objects are kept in Stripe's current API shapes (held to Stripe's published examples in
../shared/stripe/fixtures3.json by stripe_simulator/tests/test_simulator_conformance.py). In particular
the billing period lives on subscription items (`items.data[i].current_period_start/end`) and an
invoice names its subscription under `parent.subscription_details.subscription`.

Every state change goes through one method of `StripeSimulator`; the WSGI layer (wsgi.py) only
parses HTTP and renders pages. Events are recorded and handed to the webhook outbox (delivery.py).
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterable
from contextlib import contextmanager

from django.conf import settings

from stripe_simulator.common import (
    ACCOUNT_ID,
    PREFIX_KIND,
    StripeError,
    as_int,
    as_list,
    check_params,
    missing,
    new_id,
    unknown_parameter,
)
from stripe_simulator.delivery import WebhookOutbox


def _no_requirements() -> dict:
    """An account's `requirements` / `future_requirements` when Stripe needs nothing more."""
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": [],
        "disabled_reason": None,
        "errors": [],
        "eventually_due": [],
        "past_due": [],
        "pending_verification": [],
    }


class SimulatorState:
    """The account itself: what every resource's mixin reads and writes through.

    Thread-safe: every state change holds `self.lock`; webhook deliveries never do.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        public_url: str = "",
        retries_exhausted: str = "cancel",
        webhook_timeout: float = 30.0,
    ):
        self.lock = threading.RLock()
        # The key settings give the simulator (a fake in the real format: dj-stripe checks it).
        api_key = api_key or settings.STRIPE_SIMULATOR_API_KEY
        self.api_keys = {api_key}
        self.api_key = api_key
        self.public_url = public_url.rstrip("/")
        # The version the project pins; events and answers carry it, as Stripe's do.
        self.api_version = settings.STRIPE_API_VERSION
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
            self.clock_offset = 0
            self.failing_payments = 0
            self.failing_outcome = "decline"
            self._counter = 0

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

    def _sub(self, sub_or_id) -> dict:
        sub_id = sub_or_id if isinstance(sub_or_id, str) else sub_or_id["id"]
        return self._get("subscription", sub_id)

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

    def paginate(self, objects: list[dict], params: dict, url: str) -> dict:
        """A page of `objects` as Stripe lists them: `created`, `limit`, cursors, `expand[]=data.x`."""
        expand = as_list(params.get("expand"), "expand")
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
            return self.paginate(events, params, "/v1/events")

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
            "future_requirements": _no_requirements(),
            "id": ACCOUNT_ID,
            "metadata": {},
            "object": "account",
            "payouts_enabled": True,
            "requirements": _no_requirements(),
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

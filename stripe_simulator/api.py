"""Stripe's REST API under /v1, as the simulator serves it.

API requests are form-encoded like Stripe's (`a[b][0][c]=v`, `expand[]=x`), authenticated
with `Authorization: Bearer sk_test_...`, honour `Idempotency-Key`, and fail with Stripe's
error JSON. A route the simulator does not know is a loud 400 whose message starts with
"Stripe simulator: unknown route" (never `resource_missing`, which dj-stripe would skip).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from urllib.parse import parse_qsl

from stripe_simulator.common import (
    StripeError,
    as_list,
    check_params,
    new_id,
)
from stripe_simulator.core import StripeSimulator
from stripe_simulator.web import ID, Response


def parse_form(text: str) -> dict:
    """Decode Stripe-style nested form fields into dicts and lists."""
    root: dict = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        name = key.split("[", 1)[0]
        path = [name, *re.findall(r"\[([^\]]*)\]", key)]
        node = root
        for index, part in enumerate(path):
            last = index == len(path) - 1
            if part == "":
                part = str(len(node))
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    raise StripeError(400, f"Invalid nesting for parameter {key}", param=key)
    return _listify(root)


def _listify(node, parent_key: str = ""):
    if not isinstance(node, dict):
        return node
    if parent_key != "metadata" and node and all(k.isdigit() for k in node):
        return [_listify(node[k]) for k in sorted(node, key=int)]
    return {k: _listify(v, k) for k, v in node.items()}


def with_params(method: Callable) -> Callable:
    """A route's handler for `method(params)`: a collection (list, create)."""
    return lambda params, match: method(params)


def with_id(method: Callable) -> Callable:
    """A route's handler for `method(id, params)`: one object named in the path."""
    return lambda params, match: method(match["id"], params)


class Api:
    def __init__(self, sim: StripeSimulator):
        self.sim = sim
        s = sim
        self.routes: list[tuple[str, re.Pattern, Callable]] = [
            ("GET", r"/v1/account", lambda p, m: s.account()),
            ("POST", r"/v1/customers", with_params(s.customer_create)),
            ("GET", r"/v1/customers", with_params(s.customer_list)),
            ("GET", r"/v1/customers/search", with_params(s.customer_search)),
            ("GET", rf"/v1/customers/{ID}", self.customer),
            (
                "GET",
                rf"/v1/customers/{ID}/payment_methods",
                lambda p, m: s.payment_method_list(p, customer_id=m["id"]),
            ),
            ("POST", rf"/v1/customers/{ID}", with_id(s.customer_update)),
            ("DELETE", rf"/v1/customers/{ID}", lambda p, m: s.customer_delete(m["id"])),
            ("POST", r"/v1/products", with_params(s.product_create)),
            ("GET", r"/v1/products", with_params(s.product_list)),
            ("GET", rf"/v1/products/{ID}", self.retrieve("product")),
            ("POST", rf"/v1/products/{ID}", with_id(s.product_update)),
            ("GET", rf"/v1/products/{ID}/features", self.product_features),
            ("POST", r"/v1/prices", with_params(s.price_create)),
            ("GET", r"/v1/prices", with_params(s.price_list)),
            ("GET", rf"/v1/prices/{ID}", self.retrieve("price")),
            ("POST", rf"/v1/prices/{ID}", with_id(s.price_update)),
            ("POST", r"/v1/checkout/sessions", with_params(s.checkout_session_create)),
            ("GET", r"/v1/checkout/sessions", with_params(s.checkout_session_list)),
            ("GET", rf"/v1/checkout/sessions/{ID}", self.retrieve("checkout.session")),
            (
                "GET",
                rf"/v1/checkout/sessions/{ID}/line_items",
                with_id(s.checkout_session_line_items),
            ),
            ("POST", rf"/v1/checkout/sessions/{ID}/expire", lambda p, m: s.checkout_session_expire(m["id"])),
            ("POST", r"/v1/subscriptions", self.subscription_create),
            ("GET", r"/v1/subscriptions", with_params(s.subscription_list)),
            ("GET", rf"/v1/subscriptions/{ID}", self.retrieve("subscription")),
            ("POST", rf"/v1/subscriptions/{ID}", with_id(s.subscription_update)),
            ("POST", rf"/v1/subscriptions/{ID}/resume", with_id(s.subscription_resume)),
            ("DELETE", rf"/v1/subscriptions/{ID}", with_id(s.subscription_cancel)),
            ("GET", rf"/v1/subscription_items/{ID}", self.subscription_item),
            ("GET", r"/v1/invoices", with_params(s.invoice_list)),
            ("POST", r"/v1/invoices/create_preview", with_params(s.invoice_create_preview)),
            ("GET", rf"/v1/invoices/{ID}", self.retrieve("invoice")),
            ("GET", rf"/v1/invoices/{ID}/lines", with_id(s.invoice_lines)),
            ("POST", rf"/v1/invoices/{ID}/pay", with_id(s.invoice_pay)),
            ("POST", rf"/v1/invoices/{ID}/void", with_id(s.invoice_void)),
            ("GET", r"/v1/invoice_payments", with_params(s.invoice_payment_list)),
            ("GET", rf"/v1/invoice_payments/{ID}", self.retrieve("invoice_payment")),
            ("GET", r"/v1/payment_intents", with_params(s.payment_intent_list)),
            ("GET", rf"/v1/payment_intents/{ID}", self.retrieve("payment_intent")),
            ("GET", r"/v1/charges", with_params(s.charge_list)),
            ("GET", rf"/v1/charges/{ID}", self.retrieve("charge")),
            ("POST", r"/v1/refunds", with_params(s.refund_create)),
            ("GET", r"/v1/refunds", with_params(s.refund_list)),
            ("GET", rf"/v1/refunds/{ID}", self.retrieve("refund")),
            ("GET", r"/v1/disputes", with_params(s.dispute_list)),
            ("GET", rf"/v1/disputes/{ID}", self.retrieve("dispute")),
            ("POST", rf"/v1/disputes/{ID}/close", with_id(s.dispute_close)),
            ("GET", r"/v1/balance_transactions", with_params(s.balance_transaction_list)),
            ("GET", rf"/v1/balance_transactions/{ID}", self.retrieve("balance_transaction")),
            ("GET", r"/v1/payment_methods", with_params(s.payment_method_list)),
            ("GET", rf"/v1/payment_methods/{ID}", self.retrieve("payment_method")),
            ("POST", r"/v1/billing_portal/sessions", with_params(s.portal_session_create)),
            ("GET", rf"/v1/billing_portal/sessions/{ID}", self.retrieve("billing_portal.session")),
            ("POST", r"/v1/webhook_endpoints", with_params(s.webhook_endpoint_create)),
            ("GET", r"/v1/webhook_endpoints", self.webhook_endpoint_list),
            ("GET", rf"/v1/webhook_endpoints/{ID}", self.retrieve("webhook_endpoint")),
            ("POST", rf"/v1/webhook_endpoints/{ID}", with_id(s.webhook_endpoint_update)),
            ("DELETE", rf"/v1/webhook_endpoints/{ID}", lambda p, m: s.webhook_endpoint_delete(m["id"])),
            ("GET", r"/v1/events", with_params(s.event_list)),
            ("GET", rf"/v1/events/{ID}", self.retrieve("event")),
        ]
        self.routes = [
            (method, re.compile(pattern + r"/?"), handler) for method, pattern, handler in self.routes
        ]

    def retrieve(self, kind: str):
        def handler(params, match):
            check_params(params, ())
            expand = params.get("expand") or []
            return self.sim.retrieve(kind, match["id"], expand if isinstance(expand, list) else [expand])

        return handler

    def customer(self, params, match):
        check_params(params, ())
        expand = params.get("expand") or []
        return self.sim.customer_retrieve(match["id"], expand if isinstance(expand, list) else [expand])

    def product_features(self, params, match):
        check_params(params, ("limit", "starting_after", "ending_before"))
        self.sim.retrieve("product", match["id"])
        return {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/products/{match['id']}/features",
        }

    def subscription_create(self, params, match):
        return self.sim.subscription_create(params)

    def subscription_item(self, params, match):
        check_params(params, ())
        with self.sim.lock:
            for sub in self.sim._all("subscription"):
                for item in self.sim.render(sub["id"])["items"]["data"]:
                    if item["id"] == match["id"]:
                        return item
        raise StripeError(
            404, f"No such subscription_item: '{match['id']}'", code="resource_missing", param="id"
        )

    def webhook_endpoint_list(self, params, match):
        check_params(params, ("limit", "starting_after", "ending_before"))
        with self.sim.lock:
            return self.sim.paginate(self.sim._all("webhook_endpoint"), params, "/v1/webhook_endpoints")

    def _authenticate(self, headers: dict) -> str:
        auth = headers.get("authorization", "")
        key = ""
        if auth.lower().startswith("bearer "):
            key = auth[7:].strip()
        elif auth.lower().startswith("basic "):
            key = base64.b64decode(auth[6:]).decode(errors="replace").split(":", 1)[0]
        if not key:
            raise StripeError(
                401,
                "You did not provide an API key. You need to provide your API key in the Authorization "
                "header, "
                "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            )
        if key not in self.sim.api_keys:
            raise StripeError(401, f"Invalid API Key provided: {key[:8]}{'*' * 8}{key[-4:]}")
        return key

    def handle(self, method: str, path: str, query: str, body: str, headers: dict) -> Response:
        request_id = new_id("req_", 14)
        extra = [
            ("Request-Id", request_id),
            ("Stripe-Version", headers.get("stripe-version") or self.sim.api_version),
        ]
        try:
            key = self._authenticate(headers)
            params = parse_form(query if method in ("GET", "DELETE") and not body else body or query)
            for method_, pattern, route_handler in self.routes:
                match = pattern.fullmatch(path)
                if match and method_ == method:
                    handler = route_handler
                    break
            else:
                raise StripeError(
                    400,
                    f"Stripe simulator: unknown route {method} {path}. The simulator only serves the Stripe "
                    "endpoints the app uses; extend stripe_simulator/wsgi.py if this call is intended.",
                )
            idempotency_key = headers.get("idempotency-key") if method in ("POST", "DELETE") else None
            status, result, replayed = self._run(
                key, idempotency_key, method, path, params, match, handler, request_id
            )
            if idempotency_key:
                extra.append(("Idempotency-Key", idempotency_key))
            if replayed:
                extra.append(("Idempotent-Replayed", "true"))
            return Response(status, json.dumps(result, indent=2), "application/json", extra)
        except StripeError as error:
            return Response(error.status, json.dumps(error.body(), indent=2), "application/json", extra)

    def _run(self, key, idempotency_key, method, path, params, match, handler, request_id):
        sim = self.sim
        fingerprint = hashlib.sha256(json.dumps([method, path, params], sort_keys=True).encode()).hexdigest()
        with sim.lock, sim.outbox.batch():
            if idempotency_key:
                stored = sim.idempotency.get((key, idempotency_key))
                if stored:
                    if stored[0] != fingerprint:
                        raise StripeError(
                            400,
                            "Keys for idempotent requests can only be used with the same parameters they "
                            f"were first used with. Try using a key other than '{idempotency_key}' if you "
                            "meant to "
                            "execute a different request.",
                            type="idempotency_error",
                        )
                    return stored[1], stored[2], True
            with sim.request_context(request_id if method != "GET" else None, idempotency_key):
                try:
                    result = handler(params, match)
                    status = 200
                    if method != "GET" and params.get("expand") and result.get("object") != "list":
                        for path in as_list(params["expand"], "expand"):  # expand[] on a create/update
                            sim._expand(result, path.split("."), path)
                except StripeError as error:
                    if error.status != 402 or not idempotency_key:
                        raise
                    status, result = error.status, error.body()
            if idempotency_key:
                sim.idempotency[(key, idempotency_key)] = (fingerprint, status, result)
            return status, result, False

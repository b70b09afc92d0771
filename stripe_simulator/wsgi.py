"""The simulator's HTTP face: Stripe's REST API under /v1 and Stripe's hosted pages.

API requests are form-encoded like Stripe's (`a[b][0][c]=v`, `expand[]=x`), authenticated
with `Authorization: Bearer sk_test_...`, honour `Idempotency-Key`, and fail with Stripe's
error JSON. A route the simulator does not know is a loud 400 whose message starts with
"Stripe simulator: unknown route" (never `resource_missing`, which dj-stripe would skip).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode

from stripe_simulator.common import (
    PAYMENT_FAILED_MESSAGE,
    StripeError,
    as_list,
    check_params,
    day,
    money,
    new_id,
)
from stripe_simulator.core import StripeSimulator

ID = r"(?P<id>[A-Za-z0-9_]+)"


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


class Response:
    def __init__(self, status: int, body: str | bytes, content_type: str, headers: list | None = None):
        self.status = status
        self.body = body.encode() if isinstance(body, str) else body
        self.headers = [("Content-Type", content_type), *(headers or [])]


REASONS = {
    200: "OK",
    303: "See Other",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Request Failed",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    500: "Internal Server Error",
}


def make_wsgi_app(simulator: StripeSimulator, on_change: Callable[[], None] | None = None):
    """The WSGI application; `on_change` is called after every request that may change state."""
    api = Api(simulator)
    pages = Pages(simulator)

    def app(environ, start_response):
        method = environ["REQUEST_METHOD"].upper()
        path = environ.get("PATH_INFO", "") or "/"
        query = environ.get("QUERY_STRING", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode() if length else ""
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if path.startswith("/v1/") or path == "/v1":
            response = api.handle(method, path, query, body, headers)
        else:
            response = pages.handle(method, path, body)
        if on_change and method != "GET":
            on_change()
        start_response(
            f"{response.status} {REASONS.get(response.status, 'Unknown')}",
            [*response.headers, ("Content-Length", str(len(response.body))), ("Stripe-Simulator", "1")],
        )
        return [response.body]

    return app


# --------------------------------------------------------------------------- API


class Api:
    def __init__(self, sim: StripeSimulator):
        self.sim = sim
        s = sim
        self.routes: list[tuple[str, re.Pattern, Callable]] = [
            ("GET", r"/v1/account", lambda p, m: s.account()),
            ("POST", r"/v1/customers", lambda p, m: s.customer_create(p)),
            ("GET", r"/v1/customers", lambda p, m: s.customer_list(p)),
            ("GET", r"/v1/customers/search", lambda p, m: s.customer_search(p)),
            ("GET", rf"/v1/customers/{ID}", self.customer),
            (
                "GET",
                rf"/v1/customers/{ID}/payment_methods",
                lambda p, m: s.payment_method_list(p, customer_id=m["id"]),
            ),
            ("POST", rf"/v1/customers/{ID}", lambda p, m: s.customer_update(m["id"], p)),
            ("DELETE", rf"/v1/customers/{ID}", lambda p, m: s.customer_delete(m["id"])),
            ("POST", r"/v1/products", lambda p, m: s.product_create(p)),
            ("GET", r"/v1/products", lambda p, m: s.product_list(p)),
            ("GET", rf"/v1/products/{ID}", self.retrieve("product")),
            ("POST", rf"/v1/products/{ID}", lambda p, m: s.product_update(m["id"], p)),
            ("GET", rf"/v1/products/{ID}/features", self.product_features),
            ("POST", r"/v1/prices", lambda p, m: s.price_create(p)),
            ("GET", r"/v1/prices", lambda p, m: s.price_list(p)),
            ("GET", rf"/v1/prices/{ID}", self.retrieve("price")),
            ("POST", rf"/v1/prices/{ID}", lambda p, m: s.price_update(m["id"], p)),
            ("POST", r"/v1/checkout/sessions", lambda p, m: s.checkout_session_create(p)),
            ("GET", r"/v1/checkout/sessions", lambda p, m: s.checkout_session_list(p)),
            ("GET", rf"/v1/checkout/sessions/{ID}", self.retrieve("checkout.session")),
            (
                "GET",
                rf"/v1/checkout/sessions/{ID}/line_items",
                lambda p, m: s.checkout_session_line_items(m["id"], p),
            ),
            ("POST", rf"/v1/checkout/sessions/{ID}/expire", lambda p, m: s.checkout_session_expire(m["id"])),
            ("POST", r"/v1/subscriptions", self.subscription_create),
            ("GET", r"/v1/subscriptions", lambda p, m: s.subscription_list(p)),
            ("GET", rf"/v1/subscriptions/{ID}", self.retrieve("subscription")),
            ("POST", rf"/v1/subscriptions/{ID}", lambda p, m: s.subscription_update(m["id"], p)),
            ("POST", rf"/v1/subscriptions/{ID}/resume", lambda p, m: s.subscription_resume(m["id"], p)),
            ("DELETE", rf"/v1/subscriptions/{ID}", lambda p, m: s.subscription_cancel(m["id"], p)),
            ("GET", rf"/v1/subscription_items/{ID}", self.subscription_item),
            ("GET", r"/v1/invoices", lambda p, m: s.invoice_list(p)),
            ("POST", r"/v1/invoices/create_preview", lambda p, m: s.invoice_create_preview(p)),
            ("GET", rf"/v1/invoices/{ID}", self.retrieve("invoice")),
            ("GET", rf"/v1/invoices/{ID}/lines", lambda p, m: s.invoice_lines(m["id"], p)),
            ("POST", rf"/v1/invoices/{ID}/pay", lambda p, m: s.invoice_pay(m["id"], p)),
            ("POST", rf"/v1/invoices/{ID}/void", lambda p, m: s.invoice_void(m["id"], p)),
            ("GET", r"/v1/invoice_payments", lambda p, m: s.invoice_payment_list(p)),
            ("GET", rf"/v1/invoice_payments/{ID}", self.retrieve("invoice_payment")),
            ("GET", r"/v1/payment_intents", lambda p, m: s.payment_intent_list(p)),
            ("GET", rf"/v1/payment_intents/{ID}", self.retrieve("payment_intent")),
            ("GET", r"/v1/charges", lambda p, m: s.charge_list(p)),
            ("GET", rf"/v1/charges/{ID}", self.retrieve("charge")),
            ("POST", r"/v1/refunds", lambda p, m: s.refund_create(p)),
            ("GET", r"/v1/refunds", lambda p, m: s.refund_list(p)),
            ("GET", rf"/v1/refunds/{ID}", self.retrieve("refund")),
            ("GET", r"/v1/disputes", lambda p, m: s.dispute_list(p)),
            ("GET", rf"/v1/disputes/{ID}", self.retrieve("dispute")),
            ("POST", rf"/v1/disputes/{ID}/close", lambda p, m: s.dispute_close(m["id"], p)),
            ("GET", r"/v1/balance_transactions", lambda p, m: s.balance_transaction_list(p)),
            ("GET", rf"/v1/balance_transactions/{ID}", self.retrieve("balance_transaction")),
            ("GET", r"/v1/payment_methods", lambda p, m: s.payment_method_list(p)),
            ("GET", rf"/v1/payment_methods/{ID}", self.retrieve("payment_method")),
            ("POST", r"/v1/billing_portal/sessions", lambda p, m: s.portal_session_create(p)),
            ("GET", rf"/v1/billing_portal/sessions/{ID}", self.retrieve("billing_portal.session")),
            ("POST", r"/v1/webhook_endpoints", lambda p, m: s.webhook_endpoint_create(p)),
            ("GET", r"/v1/webhook_endpoints", self.webhook_endpoint_list),
            ("GET", rf"/v1/webhook_endpoints/{ID}", self.retrieve("webhook_endpoint")),
            ("POST", rf"/v1/webhook_endpoints/{ID}", lambda p, m: s.webhook_endpoint_update(m["id"], p)),
            ("DELETE", rf"/v1/webhook_endpoints/{ID}", lambda p, m: s.webhook_endpoint_delete(m["id"])),
            ("GET", r"/v1/events", lambda p, m: s.event_list(p)),
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


# ------------------------------------------------------------------------- pages

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f6f9fc;
color:#1a1f36;margin:0}
.banner{background:#ffde92;color:#5a3e00;text-align:center;padding:.6rem;font-weight:600;font-size:.9rem}
main{max-width:34rem;margin:2.5rem auto;background:#fff;border-radius:12px;padding:2rem;
box-shadow:0 6px 24px rgba(50,50,93,.12)}
h1{font-size:1.35rem;margin:0 0 .25rem}h2{font-size:1.05rem;margin:1.5rem 0 .5rem}
.muted{color:#697386;font-size:.9rem}
.amount{font-size:2rem;font-weight:700;margin:1rem 0}table{width:100%;border-collapse:collapse;margin:1rem 0}
td{padding:.4rem 0;border-bottom:1px solid #e3e8ee;overflow-wrap:anywhere}td:last-child{text-align:right}
.actions{display:flex;gap:.75rem;margin-top:1.5rem;flex-wrap:wrap}form{margin:0}
button{font-size:1rem;padding:.7rem 1.4rem;border-radius:8px;border:0;cursor:pointer;font-weight:600}
.pay{background:#635bff;color:#fff}.decline{background:#fff;color:#c0123c;border:1px solid #c0123c}
.secondary{background:#fff;color:#1a1f36;border:1px solid #c1c9d2}
.notice{padding:.8rem 1rem;border-radius:8px;background:#fde2e6;color:#8a1030;margin:1rem 0}
.ok{background:#d7f7e0;color:#0b5e2b}a{color:#635bff}
"""


def page(title: str, body: str, status: int = 200) -> Response:
    document = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        "<link rel='icon' href='data:,'>"
        # No favicon request: the simulator answers unknown routes with a loud 400.
        "<link rel='icon' href='data:,'>"
        f"<title>{html.escape(title)} · Stripe simulator</title><style>{STYLE}</style></head><body>"
        "<div class='banner' role='note'>Stripe simulator — test mode, no real payment</div>"
        f"<main>{body}</main></body></html>"
    )
    return Response(status, document, "text/html; charset=utf-8")


def redirect(url: str) -> Response:
    return Response(303, "", "text/plain", [("Location", url)])


def button(action: str, label: str, css: str) -> str:
    return (
        f"<form method='post' action='{html.escape(action)}'>"
        f"<button type='submit' class='{css}'>{html.escape(label)}</button></form>"
    )


class Pages:
    """Stripe's hosted pages, reduced to what a buyer needs: Checkout, Customer Portal, invoice."""

    def __init__(self, sim: StripeSimulator):
        self.sim = sim
        self.routes = [
            ("GET", r"/", self.index),
            ("GET", r"/favicon.ico", lambda match: Response(204, "", "image/x-icon")),
            ("POST", rf"/dashboard/subscriptions/{ID}/(?P<action>[a-z_]+)", self.dashboard_action),
            ("GET", rf"/checkout/{ID}", self.checkout),
            ("POST", rf"/checkout/{ID}/pay", self.checkout_pay),
            ("POST", rf"/checkout/{ID}/decline", self.checkout_decline),
            ("GET", rf"/portal/{ID}", self.portal),
            (
                "POST",
                rf"/portal/{ID}/subscriptions/(?P<sub>sub_[A-Za-z0-9]+)/(?P<action>cancel|resume)",
                self.portal_action,
            ),
            ("GET", rf"/invoice/{ID}", self.invoice),
            ("POST", rf"/invoice/{ID}/pay", self.invoice_pay),
        ]
        self.routes = [(m, re.compile(p + r"/?"), h) for m, p, h in self.routes]

    def handle(self, method: str, path: str, body: str) -> Response:
        for method_, pattern, handler in self.routes:
            match = pattern.fullmatch(path)
            if match and method_ == method:
                try:
                    return handler(match)
                except StripeError as error:
                    return page(
                        "Error",
                        f"<h1>Something went wrong</h1><p class='notice'>{html.escape(error.message)}</p>",
                        error.status,
                    )
        return Response(
            400,
            json.dumps(
                {
                    "error": {
                        "type": "invalid_request_error",
                        "message": f"Stripe simulator: unknown route {method} {path}",
                    }
                }
            ),
            "application/json",
        )

    @staticmethod
    def _paid_invoice(sim: StripeSimulator, sub: dict) -> str | None:
        """The subscription's newest invoice that was paid by a charge (to refund or dispute)."""
        invoices = sim.invoice_list({"subscription": sub["id"], "status": "paid", "limit": 100})["data"]
        for invoice in invoices:
            intent = sim._intent_of(invoice)
            if intent and intent["status"] == "succeeded":
                charge = sim.objects.get(intent["latest_charge"])
                if charge and not charge["refunded"] and not charge["disputed"]:
                    return invoice["id"]
        return None

    @staticmethod
    def _open_dispute(sim: StripeSimulator, sub: dict) -> str | None:
        for dispute in sim.dispute_list({"limit": 100})["data"]:
            charge = sim.objects[dispute["charge"]]
            if charge["customer"] == sub["customer"] and dispute["status"] == "needs_response":
                return dispute["id"]
        return None

    # name: (label, action(sim, sub_id), shown for this subscription?)
    DASHBOARD_ACTIONS = {
        "renew": (
            "Renew (paid)",
            lambda sim, sub: sim.renew(sub, backdate=True, deliver=False),
            lambda sim, sub: sub["status"] in ("active", "past_due", "unpaid"),
        ),
        "fail_payment": (
            "Renewal fails",
            lambda sim, sub: sim.fail_payment(sub, backdate=True, deliver=False),
            lambda sim, sub: sub["status"] in ("active", "past_due", "unpaid"),
        ),
        "retry_payment": (
            "Retry succeeds",
            lambda sim, sub: sim.retry_payment(sub, deliver=False),
            lambda sim, sub: (
                sub["status"] in ("past_due", "unpaid", "incomplete") or bool(sub["pending_update"])
            ),
        ),
        "exhaust_retries": (
            "Exhaust retries",
            lambda sim, sub: sim.exhaust_retries(sub, deliver=False),
            lambda sim, sub: sub["status"] == "past_due",
        ),
        "cancel_at_period_end": (
            "Cancel at period end",
            lambda sim, sub: sim.cancel_at_period_end(sub, deliver=False),
            lambda sim, sub: (
                sub["status"] in ("active", "trialing", "past_due") and not sub["cancel_at_period_end"]
            ),
        ),
        "resume": (
            "Resume",
            lambda sim, sub: sim.resume(sub, deliver=False),
            lambda sim, sub: sub["cancel_at_period_end"] and sub["status"] not in ("canceled",),
        ),
        "cancel_now": (
            "Cancel now",
            lambda sim, sub: sim.cancel_now(sub, deliver=False),
            lambda sim, sub: sub["status"] not in ("canceled", "incomplete_expired"),
        ),
        "trial_will_end": (
            "Trial ends in 3 days",
            lambda sim, sub: sim.trial_will_end(sub, deliver=False),
            lambda sim, sub: sub["status"] == "trialing",
        ),
        "end_trial": (
            "End trial",
            lambda sim, sub: sim.end_trial(sub, deliver=False),
            lambda sim, sub: sub["status"] == "trialing",
        ),
        "resume_paused": (
            "Resume paused",
            lambda sim, sub: sim.resume_paused(sub, deliver=False),
            lambda sim, sub: sub["status"] == "paused",
        ),
        "expire_incomplete": (
            "Expire incomplete (23 h)",
            lambda sim, sub: sim.expire_incomplete(sub, deliver=False),
            lambda sim, sub: sub["status"] == "incomplete",
        ),
        "expire_pending_update": (
            "Expire pending update",
            lambda sim, sub: sim.expire_pending_update(sub, deliver=False),
            lambda sim, sub: bool(sub["pending_update"]),
        ),
        "refund": (
            "Refund last payment",
            lambda sim, sub: sim.refund(Pages._paid_invoice(sim, sim.objects[sub]), deliver=False),
            lambda sim, sub: Pages._paid_invoice(sim, sub) is not None,
        ),
        "dispute": (
            "Dispute last payment",
            lambda sim, sub: sim.dispute(Pages._paid_invoice(sim, sim.objects[sub]), deliver=False),
            lambda sim, sub: Pages._paid_invoice(sim, sub) is not None,
        ),
        "dispute_won": (
            "Dispute won",
            lambda sim, sub: sim.close_dispute(
                Pages._open_dispute(sim, sim.objects[sub]), True, deliver=False
            ),
            lambda sim, sub: Pages._open_dispute(sim, sub) is not None,
        ),
        "dispute_lost": (
            "Dispute lost",
            lambda sim, sub: sim.close_dispute(
                Pages._open_dispute(sim, sim.objects[sub]), False, deliver=False
            ),
            lambda sim, sub: Pages._open_dispute(sim, sub) is not None,
        ),
        "delete_customer": (
            "Delete customer",
            lambda sim, sub: sim.delete_customer(sim.objects[sub]["customer"], deliver=False),
            lambda sim, sub: not sim.objects.get(sub["customer"], {}).get("deleted"),
        ),
    }

    def index(self, match) -> Response:
        """A small dashboard for `make run`: subscriptions with Stripe-side actions, recent events."""
        subs = self.sim.subscription_list({"status": "all", "limit": 100})["data"]
        blocks = ""
        with self.sim.lock:
            for sub in subs:
                item = sub["items"]["data"][0]
                customer = self.sim.objects.get(sub["customer"], {})
                buttons = "".join(
                    button(f"/dashboard/subscriptions/{sub['id']}/{name}", label, "secondary")
                    for name, (label, _, shown) in self.DASHBOARD_ACTIONS.items()
                    if shown(self.sim, sub)
                )
                status = sub["status"] + (" · cancels at period end" if sub["cancel_at_period_end"] else "")
                if sub["pending_update"]:
                    status += " · pending update"
                who = customer.get("email") or sub["customer"]
                if customer.get("deleted"):
                    who += " (deleted)"
                blocks += (
                    f"<table><tr><td><strong>{html.escape(sub['id'])}</strong></td>"
                    f"<td>{html.escape(status)}"
                    f"</td></tr><tr><td>{html.escape(who)}</td>"
                    f"<td>{html.escape(item['price'].get('lookup_key') or item['price']['id'])}</td></tr>"
                    f"<tr><td>Period ends</td><td>{day(item['current_period_end'])}</td></tr></table>"
                    f"<div class='actions'>{buttons}</div>"
                )
        events = self.sim.events()[-30:]
        rows = (
            "".join(
                f"<tr><td>{html.escape(e['type'])}</td><td class='muted'>{html.escape(e['id'])}</td></tr>"
                for e in reversed(events)
            )
            or "<tr><td class='muted'>No events yet.</td><td></td></tr>"
        )
        failed = len(self.sim.failed_deliveries())
        return page(
            "Dashboard",
            "<h1>Stripe simulator</h1><p class='muted'>Stripe-side actions emit the events Stripe would "
            "and deliver them, signed, to the registered webhook endpoints. Renewals first move the "
            f"period back so it ends now.</p><h2>Subscriptions</h2>{blocks or '<p>None yet.</p>'}"
            f"<h2>Recent events</h2><p class='muted'>Failed deliveries: {failed}</p><table>{rows}</table>",
        )

    def dashboard_action(self, match) -> Response:
        action = self.DASHBOARD_ACTIONS.get(match["action"])
        if action is None:
            raise StripeError(400, f"Stripe simulator: unknown action {match['action']}")
        with self.sim.outbox.batch():
            action[1](self.sim, match["id"])
        return redirect("/")

    def _summary(self, session: dict) -> str:
        items = self.sim.internal[session["id"]]["line_items"]
        rows = ""
        for item in items:
            price = item["price"]
            interval = (price["recurring"] or {}).get("interval", "")
            rows += (
                f"<tr><td>{html.escape(item['description'])} × {item['quantity']}</td>"
                f"<td>{money(item['amount_total'], item['currency'])} / {html.escape(interval)}</td></tr>"
            )
        return rows

    def checkout(self, match) -> Response:
        session = self.sim.retrieve("checkout.session", match["id"])
        email = (
            session["customer_details"]["email"] if session["customer_details"] else session["customer_email"]
        )
        header = (
            f"<p class='muted'>QualityBytes · subscribe</p>"
            f"<div class='amount'>{money(session['amount_total'], session['currency'])}</div>"
            f"<table>{self._summary(session)}</table>"
            f"<p class='muted'>Billed to {html.escape(email or 'a new customer')}</p>"
        )
        if session["status"] != "open":
            return page("Checkout", f"<h1>This checkout is {html.escape(session['status'])}</h1>{header}")
        back = (
            f"<a href='{html.escape(session['cancel_url'])}' class='muted'>← Back to the shop</a>"
            if session["cancel_url"]
            else ""
        )
        actions = button(f"/checkout/{session['id']}/pay", "Pay", "pay") + button(
            f"/checkout/{session['id']}/decline", "Decline", "decline"
        )
        return page(
            "Checkout",
            f"{back}<h1>Pay for your subscription</h1>{header}"
            "<p class='muted'>Test card 4242 4242 4242 4242 is assumed. Pay completes the payment; Decline "
            f"simulates a declined card.</p><div class='actions'>{actions}</div>",
        )

    def checkout_pay(self, match) -> Response:
        session = self.sim.complete_checkout(match["id"], deliver=False)
        return redirect(session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"]))

    def checkout_decline(self, match) -> Response:
        session = self.sim.decline_checkout(match["id"])
        links = f"<a href='/checkout/{session['id']}'>Try another card</a>"
        if session["cancel_url"]:
            links += f" · <a href='{html.escape(session['cancel_url'])}'>Return to QualityBytes</a>"
        return page(
            "Payment declined",
            f"<h1>Payment declined</h1><p class='notice'>{PAYMENT_FAILED_MESSAGE} "
            "No payment was taken and no "
            f"subscription was created.</p><p>{links}</p>",
            402,
        )

    def portal(self, match, notice: str = "") -> Response:
        session = self.sim.retrieve("billing_portal.session", match["id"])
        customer = self.sim.retrieve("customer", session["customer"])
        subs = self.sim.subscription_list({"customer": customer["id"], "status": "all", "limit": 100})["data"]
        blocks = ""
        for sub in subs:
            item = sub["items"]["data"][0]
            price = item["price"]
            product = self.sim.retrieve("product", price["product"])
            status = sub["status"] + (" · cancels at period end" if sub["cancel_at_period_end"] else "")
            actions = ""
            base = f"/portal/{session['id']}/subscriptions/{sub['id']}"
            if sub["status"] in ("active", "trialing", "past_due"):
                actions += (
                    button(f"{base}/resume", "Resume subscription", "pay")
                    if sub["cancel_at_period_end"]
                    else button(f"{base}/cancel", "Cancel at period end", "decline")
                )
            invoice = self.sim.objects.get(sub["latest_invoice"]) if sub["latest_invoice"] else None
            if invoice and invoice["status"] == "open":
                actions += button(f"/invoice/{invoice['id']}/pay", "Pay open invoice", "pay")
            blocks += (
                f"<table><tr><td><strong>{html.escape(product['name'])}</strong></td>"
                f"<td>{money(price['unit_amount'] * item['quantity'], price['currency'])} / "
                f"{html.escape(price['recurring']['interval'])}</td></tr>"
                f"<tr><td>Status</td><td>{html.escape(status)}</td></tr>"
                f"<tr><td>Current period ends</td><td>{day(item['current_period_end'])}</td></tr></table>"
                f"<div class='actions'>{actions}</div>"
            )
        back = (
            f"<p><a href='{html.escape(session['return_url'])}'>← Return to QualityBytes</a></p>"
            if session["return_url"]
            else ""
        )
        notice_html = f"<p class='notice ok'>{html.escape(notice)}</p>" if notice else ""
        return page(
            "Customer portal",
            f"{back}<h1>Manage billing</h1>"
            f"<p class='muted'>{html.escape(customer['email'] or customer['id'])}</p>"
            f"{notice_html}{blocks or '<p>No subscriptions.</p>'}",
        )

    def portal_action(self, match) -> Response:
        session = self.sim.retrieve("billing_portal.session", match["id"])
        sub = self.sim.retrieve("subscription", match["sub"])
        if sub["customer"] != session["customer"]:
            raise StripeError(404, "No such subscription", code="resource_missing")
        with self.sim.outbox.batch():
            if match["action"] == "cancel":
                self.sim.cancel_at_period_end(sub["id"], deliver=False)
            else:
                self.sim.resume(sub["id"], deliver=False)
        return redirect(f"/portal/{session['id']}")

    def invoice(self, match) -> Response:
        invoice = self.sim.retrieve("invoice", match["id"])
        rows = "".join(
            f"<tr><td>{html.escape(line['description'])}</td>"
            f"<td>{money(line['amount'], line['currency'])}</td></tr>"
            for line in invoice["lines"]["data"]
        )
        pay = button(f"/invoice/{invoice['id']}/pay", "Pay", "pay")
        action = f"<div class='actions'>{pay}</div>" if invoice["status"] == "open" else ""
        return page(
            "Invoice",
            f"<h1>Invoice {html.escape(invoice['number'] or invoice['id'])}</h1>"
            f"<p class='muted'>Status: {html.escape(invoice['status'])}</p>"
            f"<div class='amount'>{money(invoice['amount_due'], invoice['currency'])}</div>"
            f"<table>{rows}</table>{action}",
        )

    def invoice_pay(self, match) -> Response:
        with self.sim.outbox.batch():
            try:
                self.sim.invoice_pay(match["id"], {})
            except StripeError as error:
                return page(
                    "Payment failed",
                    f"<h1>Payment failed</h1><p class='notice'>{html.escape(error.message)}</p>",
                    402,
                )
        return redirect(f"/invoice/{match['id']}?{urlencode({'paid': '1'})}")

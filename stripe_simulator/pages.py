"""Stripe's hosted pages, as the simulator serves them: Checkout, the Customer Portal, the
hosted invoice, and the simulator's own dashboard of Stripe-side actions at `/`."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import urlencode

from stripe_simulator.common import (
    PAYMENT_FAILED_MESSAGE,
    StripeError,
    day,
    money,
)
from stripe_simulator.core import StripeSimulator
from stripe_simulator.web import ID, Response

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


BILLABLE = ("active", "past_due", "unpaid")


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


def _open_dispute(sim: StripeSimulator, sub: dict) -> str | None:
    for dispute in sim.dispute_list({"limit": 100})["data"]:
        charge = sim.objects[dispute["charge"]]
        if charge["customer"] == sub["customer"] and dispute["status"] == "needs_response":
            return dispute["id"]
    return None


def _status_in(*statuses: str):
    return lambda sim, sub: sub["status"] in statuses


def _action(label: str, method: str, shown, *args, on=None, **kwargs) -> tuple:
    """A dashboard button: `sim.<method>(target, *args, deliver=False, **kwargs)`, where the target
    is the subscription's id or what `on(sim, subscription)` picks (its invoice, dispute, customer)."""

    def act(sim: StripeSimulator, sub_id: str):
        target = on(sim, sim.objects[sub_id]) if on else sub_id
        return getattr(sim, method)(target, *args, deliver=False, **kwargs)

    return label, act, lambda sim, sub: bool(shown(sim, sub))


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

    # name: (label, action(sim, sub_id), shown for this subscription?)
    DASHBOARD_ACTIONS = {
        "renew": _action("Renew (paid)", "renew", _status_in(*BILLABLE), backdate=True),
        "fail_payment": _action("Renewal fails", "fail_payment", _status_in(*BILLABLE), backdate=True),
        "retry_payment": _action(
            "Retry succeeds",
            "retry_payment",
            lambda sim, sub: (
                sub["status"] in ("past_due", "unpaid", "incomplete") or bool(sub["pending_update"])
            ),
        ),
        "exhaust_retries": _action("Exhaust retries", "exhaust_retries", _status_in("past_due")),
        "cancel_at_period_end": _action(
            "Cancel at period end",
            "cancel_at_period_end",
            lambda sim, sub: (
                sub["status"] in ("active", "trialing", "past_due") and not sub["cancel_at_period_end"]
            ),
        ),
        "resume": _action(
            "Resume",
            "resume",
            lambda sim, sub: sub["cancel_at_period_end"] and sub["status"] not in ("canceled",),
        ),
        "cancel_now": _action(
            "Cancel now",
            "cancel_now",
            lambda sim, sub: sub["status"] not in ("canceled", "incomplete_expired"),
        ),
        "trial_will_end": _action("Trial ends in 3 days", "trial_will_end", _status_in("trialing")),
        "end_trial": _action("End trial", "end_trial", _status_in("trialing")),
        "resume_paused": _action("Resume paused", "resume_paused", _status_in("paused")),
        "expire_incomplete": _action(
            "Expire incomplete (23 h)", "expire_incomplete", _status_in("incomplete")
        ),
        "expire_pending_update": _action(
            "Expire pending update",
            "expire_pending_update",
            lambda sim, sub: bool(sub["pending_update"]),
        ),
        "refund": _action("Refund last payment", "refund", _paid_invoice, on=_paid_invoice),
        "dispute": _action("Dispute last payment", "dispute", _paid_invoice, on=_paid_invoice),
        "dispute_won": _action("Dispute won", "close_dispute", _open_dispute, True, on=_open_dispute),
        "dispute_lost": _action("Dispute lost", "close_dispute", _open_dispute, False, on=_open_dispute),
        "delete_customer": _action(
            "Delete customer",
            "delete_customer",
            lambda sim, sub: not sim.objects.get(sub["customer"], {}).get("deleted"),
            on=lambda sim, sub: sub["customer"],
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

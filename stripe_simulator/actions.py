"""Stripe-side actions on a subscription's billing cycle (a mixin of `StripeSimulator`), for
tests and the simulator's dashboard: the period ends (renew, with the charge paid or failed),
smart retries and their exhaustion, time passing (backdate), and the Dashboard's or portal's
cancel, resume and price change. The actions of one resource sit with it (checkout.py,
subscriptions.py for trials, refunds.py, disputes.py).
"""

from __future__ import annotations

from stripe_simulator.common import (
    StripeError,
)


class BillingCycleMixin:
    """Needs the host's state (`state.SimulatorState`) and the other resources' mixins (see core.py)."""

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
                invoice = self._bill_next_period(sub, item["current_period_end"])
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

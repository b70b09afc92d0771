"""Money coming back: refunds and disputes reach the license, and staff actions reach Stripe.

Like the subscription reconcile, every refund or dispute event re-fetches the Stripe object and
derives what it means from its current state, so events may come late, twice, concurrently or
out of order. Each refund and each dispute step is recorded once (`PaymentEvent`, unique per
Stripe object and kind), and only a newly recorded step acts or sends email.

Under the current API a charge names no invoice: the path from money to license is payment
intent → invoice payment (`/v1/invoice_payments`) → invoice → its subscription → the license.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import stripe
from django.conf import settings
from django.db import transaction

from billing import emails
from billing.models import PaymentEvent, PaymentEventKind
from billing.services import BillingError, stripe_options, subscription_id_of_event, subscription_reconcile
from licensing.models import License
from qualitybytes.money import money

logger = logging.getLogger(__name__)

DISPUTE_REASON = "payment disputed"
DISPUTE_LOST_REASON = "payment disputed (dispute lost)"
OPEN_DISPUTE = {"warning_needs_response", "warning_under_review", "needs_response", "under_review"}
WON_DISPUTE = {"won", "warning_closed"}  # an inquiry closed without a chargeback counts as won

HANDLED_EVENTS = [
    "charge.refunded",
    "charge.refund.updated",
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
]


def _id(value) -> str | None:
    return value if isinstance(value, str) or value is None else value["id"]


def _moment(timestamp: int | None) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC) if timestamp else datetime.now(tz=UTC)


def license_for_payment_intent(payment_intent_id: str | None) -> License | None:
    """The license whose subscription an invoice paid by this payment intent belongs to."""
    if not payment_intent_id:
        return None
    payments = stripe.InvoicePayment.list(
        payment={"type": "payment_intent", "payment_intent": payment_intent_id}, limit=1, **stripe_options()
    )
    if not payments.data:
        return None
    invoice = stripe.Invoice.retrieve(_id(payments.data[0]["invoice"]), **stripe_options())
    subscription_id = subscription_id_of_event("invoice.paid", invoice)
    if subscription_id is None:
        return None
    return (
        License.objects.filter(stripe_subscription_id=subscription_id).select_related("owner", "plan").first()
    )


def payment_event_apply(event_type: str, obj: dict) -> None:
    """Route a refund or dispute event to its reconcile."""
    if event_type.startswith("charge.dispute."):
        dispute_reconcile(dispute_id=obj["id"])
    elif event_type == "charge.refund.updated":
        charge_refunds_reconcile(charge_id=_id(obj.get("charge")))
    else:
        charge_refunds_reconcile(charge_id=obj["id"])


# --- refunds ------------------------------------------------------------------------------------


def charge_refunds_reconcile(*, charge_id: str | None) -> list[PaymentEvent]:
    """Record each refund of a charge once; tell the customer and staff about new ones."""
    if not charge_id:
        return []
    charge = stripe.Charge.retrieve(charge_id, expand=["refunds"], **stripe_options())
    license_ = license_for_payment_intent(_id(charge.get("payment_intent")))
    if license_ is None:
        logger.info("Refund of charge %s concerns no license; nothing to do", charge_id)
        return []
    recorded = []
    refunds = (charge.get("refunds") or {}).get("data") or []
    with transaction.atomic():
        License.objects.select_for_update().filter(pk=license_.pk).first()
        for refund in refunds:
            if refund.get("status") not in ("succeeded", "pending"):
                continue
            event, created = PaymentEvent.objects.get_or_create(
                stripe_id=refund["id"],
                kind=PaymentEventKind.REFUND,
                defaults={
                    "license": license_,
                    "charge_id": charge_id,
                    "payment_intent_id": _id(charge.get("payment_intent")) or "",
                    "amount": refund["amount"],
                    "currency": refund["currency"],
                    "reason": refund.get("reason") or "",
                    "full": bool(charge.get("refunded")),
                    "happened_at": _moment(refund.get("created")),
                },
            )
            if created:
                recorded.append(event)
                _notify_refund(license_, event)
    return recorded


def _notify_refund(license_: License, event: PaymentEvent) -> None:
    emails.send_payment_refunded(event=event)
    what = "A full refund" if event.full else "A partial refund"
    _notify_staff(
        license_,
        subject=f"{what} on {license_.owner.email}'s {license_.plan.name} license",
        lines=[
            f"{what} of {money(event.amount, event.currency)} was made on charge {event.charge_id}.",
            "The license is unchanged. If the customer should lose access, revoke it (and cancel "
            "the subscription) from the license page below.",
        ],
    )


# --- disputes -----------------------------------------------------------------------------------


def dispute_reconcile(*, dispute_id: str) -> License | None:
    """Make the license match the dispute as Stripe has it now: open suspends (unless turned
    off by BILLING_SUSPEND_ON_DISPUTE), won lifts that suspension, lost keeps it."""
    dispute = stripe.Dispute.retrieve(dispute_id, **stripe_options())
    payment_intent_id = _id(dispute.get("payment_intent"))
    if not payment_intent_id and dispute.get("charge"):
        charge = stripe.Charge.retrieve(_id(dispute["charge"]), **stripe_options())
        payment_intent_id = _id(charge.get("payment_intent"))
    license_ = license_for_payment_intent(payment_intent_id)
    if license_ is None:
        logger.info("Dispute %s concerns no license; nothing to do", dispute_id)
        return None
    status = dispute["status"]
    with transaction.atomic():
        license_ = License.objects.select_for_update().select_related("owner", "plan").get(pk=license_.pk)
        defaults = {
            "license": license_,
            "charge_id": _id(dispute.get("charge")) or "",
            "payment_intent_id": payment_intent_id or "",
            "amount": dispute["amount"],
            "currency": dispute["currency"],
            "reason": dispute.get("reason") or "",
            "happened_at": _moment(dispute.get("created")),
        }
        _, opened = PaymentEvent.objects.get_or_create(
            stripe_id=dispute_id, kind=PaymentEventKind.DISPUTE_OPENED, defaults=defaults
        )
        if status in OPEN_DISPUTE:
            if opened:
                _on_dispute_opened(license_, dispute)
            return license_
        kind = PaymentEventKind.DISPUTE_WON if status in WON_DISPUTE else PaymentEventKind.DISPUTE_LOST
        _, closed = PaymentEvent.objects.get_or_create(
            stripe_id=dispute_id, kind=kind, defaults={**defaults, "happened_at": datetime.now(tz=UTC)}
        )
        if closed:
            _on_dispute_closed(license_, dispute, won=kind == PaymentEventKind.DISPUTE_WON)
    return license_


def _on_dispute_opened(license_: License, dispute: dict) -> None:
    suspended = False
    if settings.BILLING_SUSPEND_ON_DISPUTE and not license_.suspended_at and not license_.revoked_at:
        license_.suspended_at = datetime.now(tz=UTC)
        license_.suspended_reason = DISPUTE_REASON
        license_.suspended_by = None
        license_.save(update_fields=["suspended_at", "suspended_reason", "suspended_by", "updated_at"])
        suspended = True
    emails.send_payment_disputed(license=license_, dispute=dispute, suspended=suspended)
    _notify_staff(
        license_,
        subject=f"Dispute opened on {license_.owner.email}'s {license_.plan.name} license",
        lines=[
            f"The bank of {license_.owner.email} disputes {dispute['amount'] / 100:,.2f} "
            f"{dispute['currency'].upper()} (reason: {dispute.get('reason') or 'not given'}).",
            "The license is suspended while the dispute is open."
            if suspended
            else "The license was left as it was (suspension on dispute is off, or it is already held).",
            "Answer the dispute in the Stripe dashboard before its deadline.",
        ],
    )


def _on_dispute_closed(license_: License, dispute: dict, *, won: bool) -> None:
    held_by_dispute = (
        license_.suspended_at
        and license_.suspended_by_id is None
        and (license_.suspended_reason in (DISPUTE_REASON, DISPUTE_LOST_REASON))
    )
    if won and held_by_dispute:
        license_.suspended_at = None
        license_.suspended_reason = ""
        license_.save(update_fields=["suspended_at", "suspended_reason", "updated_at"])
    elif not won and held_by_dispute:
        license_.suspended_reason = DISPUTE_LOST_REASON
        license_.save(update_fields=["suspended_reason", "updated_at"])
    elif (
        not won
        and settings.BILLING_SUSPEND_ON_DISPUTE
        and not license_.suspended_at
        and not license_.revoked_at
    ):
        # Seen for the first time already lost (events late or out of order): the same end state.
        license_.suspended_at = datetime.now(tz=UTC)
        license_.suspended_reason = DISPUTE_LOST_REASON
        license_.suspended_by = None
        license_.save(update_fields=["suspended_at", "suspended_reason", "suspended_by", "updated_at"])
    emails.send_dispute_closed(license=license_, dispute=dispute, won=won)
    _notify_staff(
        license_,
        subject=f"Dispute {'won' if won else 'lost'} on "
        f"{license_.owner.email}'s {license_.plan.name} license",
        lines=[
            "The dispute was decided in our favour; the suspension it caused is lifted."
            if won
            else "The dispute was lost: the money is gone and the license stays suspended. "
            "Revoke it and cancel the subscription from the license page if the customer should not return.",
        ],
    )


# --- staff notification -------------------------------------------------------------------------


def _notify_staff(license_: License, *, subject: str, lines: list[str]) -> None:
    emails.send_staff_payment_alert(license=license_, subject=subject, lines=lines)


# --- staff actions that reach Stripe ------------------------------------------------------------


def _require_subscription(license_: License) -> str:
    if not license_.stripe_subscription_id:
        raise BillingError("It has no Stripe subscription (a comp license).")
    return license_.stripe_subscription_id


def subscription_cancel_by_staff(*, license: License, at_period_end: bool, reason: str) -> License:
    """Cancel the subscription now (access ends now) or at the end of the paid period."""
    subscription_id = _require_subscription(license)
    data = stripe.Subscription.retrieve(subscription_id, **stripe_options())
    if data["status"] in ("canceled", "incomplete_expired"):
        raise BillingError("Its subscription is already canceled.")
    if at_period_end:
        stripe.Subscription.modify(subscription_id, cancel_at_period_end=True, **stripe_options())
    else:
        stripe.Subscription.cancel(
            subscription_id, cancellation_details={"comment": reason[:500]}, **stripe_options()
        )
    return subscription_reconcile(subscription_id=subscription_id)


def last_payment(license_: License) -> tuple[dict, str] | None:
    """The most recent paid invoice with money on it, and the payment intent that paid it."""
    subscription_id = _require_subscription(license_)
    invoices = stripe.Invoice.list(subscription=subscription_id, status="paid", limit=20, **stripe_options())
    for invoice in invoices.auto_paging_iter():
        if not invoice.get("amount_paid"):
            continue
        payments = stripe.InvoicePayment.list(invoice=invoice["id"], limit=10, **stripe_options())
        for payment in payments.data:
            if payment.get("status") == "paid":
                return invoice, _id((payment.get("payment") or {}).get("payment_intent"))
    return None


def last_payment_refund(*, license: License, reason: str) -> PaymentEvent:
    """Refund the last payment of the subscription in full (what is left of it)."""
    found = last_payment(license)
    if found is None:
        raise BillingError("Its subscription has no paid invoice to refund.")
    invoice, payment_intent_id = found
    intent = stripe.PaymentIntent.retrieve(payment_intent_id, **stripe_options())
    charge_id = _id(intent.get("latest_charge"))
    charge = stripe.Charge.retrieve(charge_id, **stripe_options())
    if charge.get("refunded"):
        raise BillingError(
            f"Its last payment ({invoice.get('number') or invoice['id']}) is already refunded."
        )
    refund = stripe.Refund.create(
        payment_intent=payment_intent_id,
        reason="requested_by_customer",
        metadata={"license": str(license.public_id), "staff_reason": reason[:500]},
        # One refund per invoice, whatever the number of clicks.
        **stripe_options(idempotency_key=f"refund-{invoice['id']}"),
    )
    charge_refunds_reconcile(charge_id=_id(refund.get("charge")) or charge_id)
    return PaymentEvent.objects.get(stripe_id=refund["id"], kind=PaymentEventKind.REFUND)

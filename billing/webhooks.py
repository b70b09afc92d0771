"""dj-stripe event receivers: each handled event routes to the one reconcile."""

import logging

from djstripe.event_handlers import djstripe_receiver

from billing import payments
from billing.services import subscription_id_of_event, subscription_reconcile

logger = logging.getLogger(__name__)

# Every event that can change what a subscription says about its license. Whatever the event,
# the subscription is re-fetched, so the order and number of deliveries do not matter.
HANDLED_EVENTS = [
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
    "customer.subscription.pending_update_applied",
    "customer.subscription.pending_update_expired",
    "customer.subscription.trial_will_end",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice.payment_action_required",
    "invoice.voided",
    "invoice.marked_uncollectible",
]


@djstripe_receiver(HANDLED_EVENTS)
def reconcile_on_event(sender, event, **kwargs):
    subscription_id = subscription_id_of_event(event.type, event.data["object"])
    if subscription_id is None:
        logger.info("Stripe event %s (%s) concerns no subscription", event.id, event.type)
        return
    try:
        subscription_reconcile(subscription_id=subscription_id)
    except Exception:
        # dj-stripe then answers non-2xx and rolls back, so Stripe retries; the log says which
        # subscription and why, so nobody has to guess from a bare 500.
        logger.exception(
            "Stripe event %s (%s) for subscription %s failed", event.id, event.type, subscription_id
        )
        raise


@djstripe_receiver(payments.HANDLED_EVENTS)
def reconcile_payment_on_event(sender, event, **kwargs):
    """Refunds and disputes: an unknown charge is logged and answered 2xx, changing nothing."""
    try:
        payments.payment_event_apply(event.type, event.data["object"])
    except Exception:
        logger.exception(
            "Stripe event %s (%s) for %s failed", event.id, event.type, event.data["object"].get("id")
        )
        raise

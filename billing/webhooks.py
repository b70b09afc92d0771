"""dj-stripe event receivers: each handled event routes to the one reconcile."""

import logging

from djstripe.event_handlers import djstripe_receiver

from billing.services import subscription_id_of_event, subscription_reconcile

logger = logging.getLogger(__name__)

HANDLED_EVENTS = [
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
]


@djstripe_receiver(HANDLED_EVENTS)
def reconcile_on_event(sender, event, **kwargs):
    subscription_id = subscription_id_of_event(event.type, event.data["object"])
    if subscription_id is None:
        logger.info("Stripe event %s (%s) concerns no subscription", event.id, event.type)
        return
    # An exception here makes dj-stripe answer non-2xx and roll back, so Stripe retries.
    subscription_reconcile(subscription_id=subscription_id)

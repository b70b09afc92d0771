"""The Stripe customer follows the account: when a changed email address is confirmed, Stripe's
receipts and invoices go to the new one too."""

import logging

import stripe
from django.db import transaction
from djstripe.models import Customer

from accounts.models import User
from billing.services import stripe_options

logger = logging.getLogger(__name__)


def customer_email_sync(*, user: User) -> None:
    """Set the email of every Stripe customer of `user` to the account's address, after commit.

    A Stripe outage must not undo or refuse the change the person just confirmed: a failure is
    logged and the mirror keeps the old address until the next attempt (another change, or an
    operator running this again from a shell).
    """

    def sync() -> None:
        for customer in Customer.objects.filter(subscriber=user).exclude(email=user.email):
            try:
                data = stripe.Customer.modify(customer.id, email=user.email, **stripe_options())
            except stripe.StripeError:
                logger.exception("Stripe customer %s: the email could not follow the account.", customer.id)
                continue
            Customer.sync_from_stripe_data(data, api_key=stripe_options()["api_key"])

    transaction.on_commit(sync)

"""`StripeSimulator`: the simulated Stripe account, assembled from its state (state.py) and one
mixin per Stripe resource family it serves. The rest of the project imports from here (or from
the package): `StripeSimulator`, `StripeError`.
"""

from __future__ import annotations

from stripe_simulator.actions import BillingCycleMixin
from stripe_simulator.catalog import CatalogMixin
from stripe_simulator.checkout import CheckoutMixin
from stripe_simulator.common import StripeError
from stripe_simulator.customers import CustomersMixin
from stripe_simulator.disputes import DisputesMixin
from stripe_simulator.invoices import InvoicesMixin
from stripe_simulator.payments import PaymentsMixin
from stripe_simulator.portal import PortalMixin
from stripe_simulator.refunds import RefundsMixin
from stripe_simulator.state import SimulatorState
from stripe_simulator.subscription_updates import SubscriptionUpdatesMixin
from stripe_simulator.subscriptions import SubscriptionsMixin
from stripe_simulator.webhook_endpoints import WebhookEndpointsMixin

__all__ = ["StripeError", "StripeSimulator"]


class StripeSimulator(
    CustomersMixin,
    CatalogMixin,
    CheckoutMixin,
    SubscriptionsMixin,
    SubscriptionUpdatesMixin,
    InvoicesMixin,
    PaymentsMixin,
    RefundsMixin,
    DisputesMixin,
    PortalMixin,
    WebhookEndpointsMixin,
    BillingCycleMixin,
    SimulatorState,
):
    """The simulated Stripe account: objects, events, webhook endpoints and Stripe-side actions.

    Thread-safe: every state change holds `self.lock`; webhook deliveries never do.
    """

"""The billing app's Stripe catalogue fixture, for deletion tests that buy through Checkout."""

from billing.tests.conftest import catalogue  # noqa: F401

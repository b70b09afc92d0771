"""pytest fixtures: the Stripe simulator as the only Stripe (registered in the root conftest.py).

- `stripe_simulator_server` (session): one simulator served on a free loopback port.
- `stripe_api`: that simulator, reset, with stripe-python and dj-stripe pointed at it and
  settings holding its (real-looking) test key. For tests that only call the Stripe API.
- `stripe_webhook_endpoint`: a dj-stripe `WebhookEndpoint` row (and the simulator's endpoint)
  delivering to pytest-django's `live_server` at /stripe/webhook/<uuid>/.
- `stripe_simulator`: `stripe_api` + `stripe_webhook_endpoint`: the full loop, signed webhooks
  into the real endpoint. Returns the `StripeSimulator`.
"""

import pytest
import stripe

from stripe_simulator.core import StripeSimulator
from stripe_simulator.server import SimulatorServer


@pytest.fixture(scope="session")
def stripe_simulator_server():
    # pytest-django runs tests with DEBUG off, where the simulator refuses to start; the
    # explicit flag is honoured only while pytest runs a test (see server.check_allowed).
    server = SimulatorServer(StripeSimulator()).start(allow_in_tests=True)
    yield server
    server.stop()


@pytest.fixture
def stripe_api(stripe_simulator_server, settings):
    simulator = stripe_simulator_server.simulator
    simulator.reset()
    settings.STRIPE_TEST_SECRET_KEY = simulator.api_key
    settings.STRIPE_LIVE_MODE = False
    saved = stripe.api_base, stripe.api_key, stripe.default_http_client
    stripe.api_base = stripe_simulator_server.url
    stripe.api_key = simulator.api_key
    stripe.default_http_client = None  # stripe-python builds its ordinary client
    yield simulator
    try:
        simulator.flush(timeout=30)  # let in-flight webhooks land before the database is flushed
    finally:
        stripe.api_base, stripe.api_key, stripe.default_http_client = saved


@pytest.fixture
def stripe_webhook_endpoint(stripe_api, live_server):
    from billing.management.commands.create_webhook_endpoint import webhook_endpoint_create

    endpoint, _ = webhook_endpoint_create(base_url=live_server.url)
    return endpoint


@pytest.fixture
def stripe_simulator(stripe_api, stripe_webhook_endpoint):
    return stripe_api

"""A stateful simulator of the Stripe HTTP API, for tests and offline (`make run`) use.

Framework-free at its core but for the values it shares with the project, which it reads from
Django settings (the API version, its API key): `StripeSimulator` holds the state and the Stripe-side actions,
`make_wsgi_app` serves the HTTP API and the hosted pages, `SimulatorServer` runs that app on
loopback. It never runs with DEBUG off (see `server.py`). Usage: docs/stripe.md.
"""

from stripe_simulator.core import StripeError, StripeSimulator
from stripe_simulator.server import SimulatorRefused, SimulatorServer

__all__ = ["SimulatorRefused", "SimulatorServer", "StripeError", "StripeSimulator"]

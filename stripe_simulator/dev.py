"""The simulator for `make run`: one loopback server shared by every local process.

Installed by `StripeSimulatorConfig.ready()` when settings enable it (DEBUG on, no Stripe key).
`runserver` starts the server at once (so the hosted Checkout page is always reachable); any
other process (`sync_plans`, `create_webhook_endpoint`, `shell`) starts it on its first Stripe
call. If the port is already served by another local process's simulator, that one is used.
State is saved to STRIPE_SIMULATOR_STATE_FILE after every change, so customers, prices and
webhook endpoints survive restarts and are shared by successive commands.
"""

from __future__ import annotations

import os
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import stripe
from django.conf import settings

from stripe_simulator.core import StripeSimulator
from stripe_simulator.server import SimulatorRefused, SimulatorServer, check_allowed

_lock = threading.Lock()
_server: SimulatorServer | None = None
_external = False


def _save(simulator: StripeSimulator, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(simulator.dump_state())
    os.replace(tmp, path)


def _answers(url: str) -> bool:
    request = urllib.request.Request(  # noqa: S310 - the loopback http URL from settings
        f"{url}/v1/account", headers={"Authorization": f"Bearer {settings.STRIPE_TEST_SECRET_KEY}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=3) as response:  # noqa: S310
            return response.headers.get("Stripe-Simulator") == "1"
    except (urllib.error.URLError, OSError):
        return False


def ensure_running() -> str:
    """Start (or find) the development simulator; returns its URL. Refuses with DEBUG off."""
    global _server, _external
    with _lock:
        if _server is not None or _external:
            return settings.STRIPE_SIMULATOR_URL
        check_allowed()
        parts = urlsplit(settings.STRIPE_SIMULATOR_URL)
        state_file = Path(settings.STRIPE_SIMULATOR_STATE_FILE)
        simulator = StripeSimulator(api_key=settings.STRIPE_TEST_SECRET_KEY)
        if state_file.exists():
            simulator.load_state(state_file.read_text())
        server = SimulatorServer(
            simulator, host=parts.hostname, port=parts.port, on_change=lambda: _save(simulator, state_file)
        )
        try:
            server.start()
        except OSError as exc:
            if _answers(settings.STRIPE_SIMULATOR_URL):
                _external = True
                return settings.STRIPE_SIMULATOR_URL
            raise SimulatorRefused(
                f"Stripe simulator: {settings.STRIPE_SIMULATOR_URL} is taken by another program ({exc}). "
                "Set STRIPE_SIMULATOR_PORT to a free port."
            ) from exc
        _server = server
        return server.url


def stop() -> None:
    """Stop this process's development simulator (tests)."""
    global _server, _external
    with _lock:
        if _server is not None:
            _server.stop()
        _server, _external = None, False


class AutostartClient(stripe.RequestsClient):
    """stripe-python's HTTP client that starts the development simulator on first use."""

    def request(self, method, url, headers, post_data=None):
        if url.startswith(settings.STRIPE_SIMULATOR_URL):
            ensure_running()
        return super().request(method, url, headers, post_data)


def install() -> None:
    stripe.api_base = settings.STRIPE_SIMULATOR_URL
    stripe.api_key = settings.STRIPE_TEST_SECRET_KEY
    stripe.default_http_client = AutostartClient()
    if settings.DEBUG and "runserver" in sys.argv[1:2]:
        ensure_running()

"""Serve the simulator on loopback with a threaded wsgiref server.

The simulator refuses to start unless Django runs with DEBUG on. pytest-django forces DEBUG to
False while tests run, so the pytest fixture passes `allow_in_tests=True`; that flag is honoured
only while pytest is running a test (PYTEST_CURRENT_TEST is set), so production code cannot
use it to start a fake Stripe.
"""

from __future__ import annotations

import os
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from stripe_simulator.core import StripeSimulator
from stripe_simulator.wsgi import make_wsgi_app

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class SimulatorRefused(RuntimeError):
    """The simulator must never serve outside development and tests."""


def check_allowed(*, allow_in_tests: bool = False) -> None:
    if allow_in_tests:
        if "PYTEST_CURRENT_TEST" not in os.environ:
            raise SimulatorRefused(
                "Stripe simulator: allow_in_tests is only honoured while pytest runs a test."
            )
        return
    from django.conf import settings

    if not (settings.configured and settings.DEBUG):
        raise SimulatorRefused(
            "Stripe simulator refuses to start with DEBUG off. Set real Stripe keys (STRIPE_TEST_SECRET_KEY) "
            "or run with DEBUG=1; in tests use the `stripe_simulator` fixture."
        )


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - wsgiref's signature
        pass


class SimulatorServer:
    """`SimulatorServer(simulator).start()` → serving at `.url` until `.stop()`."""

    def __init__(
        self,
        simulator: StripeSimulator | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        on_change=None,
    ):
        if host not in LOOPBACK:
            raise SimulatorRefused("Stripe simulator: serves on loopback only.")
        self.simulator = simulator or StripeSimulator()
        self.host, self.port = host, port
        self.on_change = on_change
        self.httpd = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, *, allow_in_tests: bool = False) -> SimulatorServer:
        check_allowed(allow_in_tests=allow_in_tests)
        app = make_wsgi_app(self.simulator, on_change=self.on_change)
        self.httpd = make_server(
            self.host, self.port, app, server_class=_ThreadingServer, handler_class=_QuietHandler
        )
        self.port = self.httpd.server_address[1]
        self.simulator.public_url = self.url
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="stripe-simulator", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

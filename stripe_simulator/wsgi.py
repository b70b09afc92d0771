"""The simulator's HTTP face: Stripe's REST API under /v1 (api.py) and Stripe's hosted pages
(pages.py), as one WSGI application."""

from __future__ import annotations

from collections.abc import Callable

from stripe_simulator.api import Api
from stripe_simulator.core import StripeSimulator
from stripe_simulator.pages import Pages

REASONS = {
    200: "OK",
    303: "See Other",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Request Failed",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    500: "Internal Server Error",
}


def make_wsgi_app(simulator: StripeSimulator, on_change: Callable[[], None] | None = None):
    """The WSGI application; `on_change` is called after every request that may change state."""
    api = Api(simulator)
    pages = Pages(simulator)

    def app(environ, start_response):
        method = environ["REQUEST_METHOD"].upper()
        path = environ.get("PATH_INFO", "") or "/"
        query = environ.get("QUERY_STRING", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode() if length else ""
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if path.startswith("/v1/") or path == "/v1":
            response = api.handle(method, path, query, body, headers)
        else:
            response = pages.handle(method, path, body)
        if on_change and method != "GET":
            on_change()
        start_response(
            f"{response.status} {REASONS.get(response.status, 'Unknown')}",
            [*response.headers, ("Content-Length", str(len(response.body))), ("Stripe-Simulator", "1")],
        )
        return [response.body]

    return app

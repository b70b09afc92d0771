"""Request ids, a log line per request, health checks and the security headers Django lacks."""

import logging
import re
import time
import uuid

from django.conf import settings

from qualitybytes import health
from qualitybytes.logging import mask_secrets, request_id_var

request_logger = logging.getLogger("qualitybytes.request")

# Ids from a proxy or client are kept when they look like ids (uuid, hex, Heroku's, ...);
# anything else could forge or pollute log lines, so it gets a fresh uuid4 instead.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def _static_prefix() -> str:
    """Static files (whitenoise) are not worth a log line each: a page would log a dozen."""
    url = settings.STATIC_URL
    return url if url.startswith("/") else f"/{url}"


class RequestIdMiddleware:
    """Takes X-Request-ID from the request or makes one, logs with it and echoes it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else str(uuid.uuid4())
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            if settings.LOG_REQUESTS and not request.path.startswith(_static_prefix()):
                # Invitation tokens and allauth's keys travel in paths: mask them at the source.
                path = mask_secrets(request.path)
                request_logger.info(
                    "%s %s %s",
                    request.method,
                    path,
                    response.status_code,
                    extra={
                        "method": request.method,
                        "path": path,
                        "status": response.status_code,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )
            return response
        finally:
            request_id_var.reset(token)


class HealthCheckMiddleware:
    """Answers /healthz and /readyz before host validation, HTTPS redirect, sessions and auth.

    Load balancers probe instances by IP over plain HTTP: ALLOWED_HOSTS and SECURE_SSL_REDIRECT
    would turn every probe into a 400 or a 301. Nothing else is exempted.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.views = {"/healthz": health.healthz, "/readyz": health.readyz}

    def __call__(self, request):
        view = self.views.get(request.path_info)
        if view is not None:
            return view(request)
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response (Django sets COOP itself).

    Django 5.2 has no CSP of its own. The policy is settings.CONTENT_SECURITY_POLICY; a view
    that needs another (Swagger UI) sets `response.content_security_policy` itself.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(response, "content_security_policy", None) or settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response

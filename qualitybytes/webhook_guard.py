"""The Stripe webhook endpoint's gate: dj-stripe sees only bounded, correctly signed requests.

dj-stripe 2.11's view stores a `WebhookEventTrigger` row holding the whole body and headers for
every request that carries a `Stripe-Signature` header, and only then checks the signature: a
forged, stale or badly signed request answers 400 but leaves its body in the database, and the
body is read in full whatever its size. `stripe_webhook` is mounted at dj-stripe's own path
(`/stripe/webhook/<uuid>/`, qualitybytes/urls.py) and answers, before dj-stripe runs:

- 405 for anything but POST;
- 413 when the body is larger than `STRIPE_WEBHOOK_MAX_BODY_BYTES`: a declared Content-Length
  is refused without reading a byte, and a body without one (chunked) is read only up to the
  bound plus one byte;
- 400 for a malformed Content-Length, a body that is not UTF-8, a missing `Stripe-Signature`,
  a signature that does not match the endpoint's secret, or a timestamp older than the
  endpoint's tolerance (`WebhookEndpoint.djstripe_tolerance`, as dj-stripe checks it);
- 404 for an endpoint uuid we do not know.

Each of those writes nothing. Only a verified request is handed to dj-stripe's view, which
stores, verifies again and processes it as before. The signature is checked whatever the
endpoint's `djstripe_validation_method`, and dj-stripe's DEBUG-only `X-Djstripe-Webhook-Secret`
header is not honoured: for `stripe listen`, record its secret with
`create_webhook_endpoint --secret whsec_…`.
"""

import logging

import stripe
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from djstripe.models import WebhookEndpoint
from djstripe.views import ProcessWebhookView

logger = logging.getLogger(__name__)

_djstripe_view = ProcessWebhookView.as_view()

READ_CHUNK = 64 * 1024


class Refused(Exception):
    def __init__(self, status: int, code: str, detail: str):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail

    def response(self) -> JsonResponse:
        response = JsonResponse({"code": self.code, "detail": self.detail}, status=self.status)
        if self.status == 405:
            response["Allow"] = "POST"
        return response


def _read_bounded(request: HttpRequest, limit: int) -> bytes:
    """The body, never reading more than `limit` + 1 bytes; Refused(413) past the limit."""
    too_large = Refused(413, "PAYLOAD_TOO_LARGE", f"The request body is larger than {limit} bytes.")
    declared = request.META.get("CONTENT_LENGTH")
    if declared not in (None, ""):
        try:
            length = int(declared)
        except ValueError:
            length = -1
        if length < 0:
            raise Refused(400, "INVALID_REQUEST", "The Content-Length header is not a byte count.")
        if length > limit:
            raise too_large
        body = request.read(length)
    else:
        # No Content-Length (chunked): Django would read nothing. A WSGI server that ends the
        # input stream at the body's end (gunicorn sets wsgi.input_terminated) lets us read it
        # up to the bound; any other server would block, so the request is refused instead.
        stream = request.META.get("wsgi.input")
        if stream is not None and request.META.get("wsgi.input_terminated"):
            chunks, size = [], 0
            while size <= limit:
                chunk = stream.read(min(READ_CHUNK, limit + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            body = b"".join(chunks)
        elif stream is not None and "HTTP_TRANSFER_ENCODING" in request.META:
            raise Refused(411, "LENGTH_REQUIRED", "Send the body with a Content-Length header.")
        else:
            body = request.read(limit + 1)  # ASGI's buffered body, or an empty WSGI body
    if len(body) > limit:
        raise too_large
    return body


def _verify(request: HttpRequest, uuid) -> None:
    limit = settings.STRIPE_WEBHOOK_MAX_BODY_BYTES
    body = _read_bounded(request, limit)
    # dj-stripe reads request.body; the bounded copy is what it gets (no second read).
    request._body = body
    try:
        payload = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "INVALID_REQUEST", "The request body is not UTF-8.") from None
    header = request.headers.get("Stripe-Signature", "")
    if not header:
        raise Refused(400, "SIGNATURE_MISSING", "The Stripe-Signature header is missing.")
    endpoint = WebhookEndpoint.objects.filter(djstripe_uuid=uuid).only("secret", "djstripe_tolerance").first()
    if endpoint is None:
        raise Refused(404, "NOT_FOUND", "No webhook endpoint has this address.")
    if not endpoint.secret:
        logger.error("Webhook endpoint %s has no signing secret: every delivery is refused", uuid)
        raise Refused(400, "SIGNATURE_INVALID", "This endpoint cannot verify signatures.")
    tolerance = endpoint.djstripe_tolerance
    verify = stripe.WebhookSignature.verify_header
    try:
        verify(payload, header, endpoint.secret, None)
    except stripe.SignatureVerificationError:
        raise Refused(
            400, "SIGNATURE_INVALID", "The Stripe-Signature header does not match the body."
        ) from None
    try:
        verify(payload, header, endpoint.secret, tolerance)  # the signature is good: is it recent?
    except stripe.SignatureVerificationError:
        raise Refused(
            400, "SIGNATURE_EXPIRED", f"The signature's timestamp is more than {tolerance} seconds old."
        ) from None


@csrf_exempt
@login_not_required
@transaction.non_atomic_requests  # as dj-stripe's view: its trigger row survives a failed event
def stripe_webhook(request: HttpRequest, uuid):
    """dj-stripe's webhook view behind the size bound and the signature check."""
    try:
        if request.method != "POST":
            raise Refused(405, "METHOD_NOT_ALLOWED", "Webhooks are POSTed.")
        _verify(request, uuid)
    except Refused as refused:
        logger.warning(
            "Stripe webhook refused (%s %s): %s",
            refused.status,
            refused.code,
            refused.detail,
            extra={"endpoint": str(uuid), "status": refused.status, "code": refused.code},
        )
        return refused.response()
    return _djstripe_view(request, uuid=uuid)

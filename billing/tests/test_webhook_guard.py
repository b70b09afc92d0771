"""The webhook gate (qualitybytes/webhook_guard.py): dj-stripe sees only bounded, signed,
recent deliveries; everything else is answered 4xx before a single row is written."""

import io
import json
import time
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test.client import FakePayload
from django.test.utils import CaptureQueriesContext
from djstripe.models import Event, WebhookEndpoint, WebhookEventTrigger

from billing.management.commands.create_webhook_endpoint import webhook_endpoint_create
from billing.tests.lifecycle import buy, start_checkout
from licensing.models import License
from stripe_simulator.delivery import sign

SECRET = "whsec_guardTestSecret0123456789abcdef"


@pytest.fixture
def endpoint(db):
    endpoint, _ = webhook_endpoint_create(base_url="http://testserver", secret=SECRET)
    return endpoint


def url(endpoint) -> str:
    return f"/stripe/webhook/{endpoint.djstripe_uuid}/"


def event_body(size: int = 0) -> str:
    """A Stripe event's JSON, padded to about `size` bytes."""
    event = {
        "id": "evt_guard_1",
        "object": "event",
        "livemode": False,
        "type": "customer.updated",
        "api_version": "2026-08-26.dahlia",
        "created": int(time.time()),
        "data": {"object": {"id": "cus_guard", "object": "customer", "description": ""}},
    }
    body = json.dumps(event)
    if size > len(body):
        event["data"]["object"]["description"] = "x" * (size - len(body))
        body = json.dumps(event)
    return body


def post(client, endpoint, body: bytes, signature: str | None, **extra):
    if signature is not None:
        extra["HTTP_STRIPE_SIGNATURE"] = signature
    return client.generic("POST", url(endpoint), body, "application/json", **extra)


def post_chunked(client, endpoint, body: bytes, signature: str, *, terminated: bool = True):
    """As gunicorn hands over `Transfer-Encoding: chunked`: no CONTENT_LENGTH, and an input stream
    that ends with the body when the server sets wsgi.input_terminated."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": url(endpoint),
        "CONTENT_TYPE": "application/json",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "HTTP_STRIPE_SIGNATURE": signature,
        "wsgi.input": io.BytesIO(body),
    }
    if terminated:
        environ["wsgi.input_terminated"] = True
    return client.request(**environ)


@contextmanager
def nothing_written():
    """Every statement run inside is a read, and no webhook row exists afterwards."""
    with CaptureQueriesContext(connection) as queries:
        yield
    statements = [query["sql"].lstrip().split()[0].upper() for query in queries.captured_queries]
    assert set(statements) <= {"SELECT"}, statements
    assert not WebhookEventTrigger.objects.exists()
    assert not Event.objects.exists()


# ------------------------------------------------------------------------------- the size bound


def test_a_signed_body_over_the_bound_answers_413_and_writes_nothing(client, endpoint, settings):
    settings.STRIPE_WEBHOOK_MAX_BODY_BYTES = 2000
    body = event_body(2001)
    with nothing_written():
        response = post(client, endpoint, body.encode(), sign(body, SECRET))
    assert response.status_code == 413
    assert response.json() == {
        "code": "PAYLOAD_TOO_LARGE",
        "detail": "The request body is larger than 2000 bytes.",
    }


def test_the_default_bound_is_one_mebibyte(client, endpoint):
    body = event_body(1024 * 1024 + 1)
    with nothing_written():
        response = post(client, endpoint, body.encode(), sign(body, SECRET))
    assert response.status_code == 413
    assert "1048576 bytes" in response.json()["detail"]


def test_a_declared_content_length_over_the_bound_is_refused_without_reading_the_body(client, endpoint):
    # FakePayload fails the test if anything reads past its (empty) content.
    with nothing_written():
        response = client.request(
            REQUEST_METHOD="POST",
            PATH_INFO=url(endpoint),
            CONTENT_TYPE="application/json",
            CONTENT_LENGTH=str(10**9),
            HTTP_STRIPE_SIGNATURE=sign("{}", SECRET),
            **{"wsgi.input": FakePayload(b"")},
        )
    assert response.status_code == 413


def test_a_chunked_body_over_the_bound_answers_413_and_writes_nothing(client, endpoint, settings):
    settings.STRIPE_WEBHOOK_MAX_BODY_BYTES = 2000
    body = event_body(5000)
    with nothing_written():
        response = post_chunked(client, endpoint, body.encode(), sign(body, SECRET))
    assert response.status_code == 413


def test_a_chunked_body_a_server_does_not_terminate_answers_411(client, endpoint):
    body = event_body()
    with nothing_written():
        response = post_chunked(client, endpoint, body.encode(), sign(body, SECRET), terminated=False)
    assert response.status_code == 411
    assert response.json()["code"] == "LENGTH_REQUIRED"


def test_a_malformed_content_length_answers_400(client, endpoint):
    body = event_body()
    with nothing_written():
        response = post(client, endpoint, body.encode(), sign(body, SECRET), CONTENT_LENGTH="-5")
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_REQUEST"


# ------------------------------------------------------------------------------- the signature


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("missing signature", "SIGNATURE_MISSING"),
        ("empty signature", "SIGNATURE_MISSING"),
        ("wrong secret", "SIGNATURE_INVALID"),
        ("tampered body", "SIGNATURE_INVALID"),
        ("garbage header", "SIGNATURE_INVALID"),
        ("no v1 signature", "SIGNATURE_INVALID"),
        ("stale timestamp", "SIGNATURE_EXPIRED"),
    ],
)
def test_an_unverified_delivery_answers_400_and_writes_nothing(client, endpoint, case, code):
    body = event_body()
    now = int(time.time())
    signature = {
        "missing signature": None,
        "empty signature": "",
        "wrong secret": sign(body, "whsec_someoneElsesSecret0123456789"),
        "tampered body": sign(body.replace("cus_guard", "cus_other"), SECRET),
        "garbage header": "t=yesterday,v1=\x7f",
        "no v1 signature": sign(body, SECRET).replace("v1=", "v0="),
        "stale timestamp": sign(body, SECRET, now - 301),
    }[case]
    with nothing_written():
        response = post(client, endpoint, body.encode(), signature)
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_staleness_follows_the_endpoints_tolerance(client, endpoint):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(djstripe_tolerance=60)
    body = event_body()
    with nothing_written():
        response = post(client, endpoint, body.encode(), sign(body, SECRET, int(time.time()) - 120))
    assert response.status_code == 400
    assert response.json() == {
        "code": "SIGNATURE_EXPIRED",
        "detail": "The signature's timestamp is more than 60 seconds old.",
    }


def test_a_body_that_is_not_utf8_answers_400(client, endpoint):
    with nothing_written():
        response = post(client, endpoint, b'{"id": "\xff\xfe"}', "t=1,v1=00")
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_REQUEST"


def test_djstripes_debug_secret_override_header_is_not_honoured(client, endpoint, settings):
    settings.DEBUG = True
    body = event_body()
    forged_secret = "whsec_chosenByTheSender0123456789"
    with nothing_written():
        response = post(
            client,
            endpoint,
            body.encode(),
            sign(body, forged_secret),
            HTTP_X_DJSTRIPE_WEBHOOK_SECRET=forged_secret,
        )
    assert response.status_code == 400


def test_an_unknown_endpoint_answers_404_and_get_answers_405(client, endpoint):
    body = event_body()
    unknown = f"/stripe/webhook/{'0' * 8}-0000-4000-8000-{'0' * 12}/"
    with nothing_written():
        response = client.generic(
            "POST", unknown, body, "application/json", HTTP_STRIPE_SIGNATURE=sign(body, SECRET)
        )
    assert response.status_code == 404
    with nothing_written():
        response = client.get(url(endpoint))
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_an_endpoint_without_a_secret_refuses_every_delivery(client, endpoint):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret="")
    body = event_body()
    with nothing_written():
        response = post(client, endpoint, body.encode(), sign(body, SECRET))
    assert response.status_code == 400


# ------------------------------------------------------------------------------- valid deliveries


@pytest.mark.django_db(transaction=True)
def test_signed_webhooks_from_stripe_still_make_the_license(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer)
    assert license_ is not None and license_.keys.count() == 1
    triggers = list(WebhookEventTrigger.objects.all())
    assert triggers and all(trigger.valid and trigger.processed for trigger in triggers)


@pytest.mark.django_db(transaction=True)
def test_a_signed_chunked_delivery_is_read_within_the_bound_and_processed(client, catalogue, buyer):
    with catalogue.hold_webhooks():
        session_id = start_checkout(client, buyer)
        catalogue.complete_checkout(session_id)
        events = catalogue.pending_events()
    endpoint = WebhookEndpoint.objects.get()
    for event in events:
        body = json.dumps(event)
        response = post_chunked(client, endpoint, body.encode(), sign(body, endpoint.secret))
        assert response.status_code == 200, response.content
    assert License.objects.filter(owner=buyer).count() == 1
    processed = WebhookEventTrigger.objects.filter(processed=True).values_list("event_id", flat=True)
    assert {event["id"] for event in events} <= set(processed)

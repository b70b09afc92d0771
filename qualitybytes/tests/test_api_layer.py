"""One API layer: every API (licensing, customer, team) answers bad input and refusals in one shape.

Every write endpoint gets malformed bodies (deep nesting, 20 MB, NUL bytes, invalid UTF-8, a
body that is not an object, fields of the wrong type) and must answer 400 or 413 as
`{code, detail, errors?}` with nothing written; refusals (401, 403, 404, 405, 409, 429) come in
the same shape.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.core.cache import cache
from django.test import override_settings
from django.urls import get_resolver, reverse
from rest_framework.exceptions import Throttled
from rest_framework.test import APIClient
from rest_framework.views import APIView as DRFAPIView

from licensing.models import LicenseKey
from licensing.recording import recorder
from licensing.tests.factories import DeviceFactory
from qualitybytes.api.errors import ErrorCode
from qualitybytes.api.views import APIView, exception_handler
from teams.tests.factories import InvitationFactory, MembershipFactory, TeamFactory

pytestmark = pytest.mark.django_db

# Every row of these apps, before and after: a refused request changes none of them.
WATCHED_APPS = ["accounts", "licensing", "teams", "billing", "qualitybytes"]


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()
    recorder.clear()
    yield
    cache.clear()
    recorder.clear()


def _database() -> dict:
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for label in WATCHED_APPS
        for model in apps.get_app_config(label).get_models()
    }


@pytest.fixture
def world(db):
    team = TeamFactory()
    owner = team.license.owner
    member_ship = MembershipFactory(team=team)
    key = LicenseKey.objects.get(license=team.license, holder=owner)
    device = DeviceFactory(key=key)
    return {
        "team": team,
        "owner": owner,
        "member_ship": member_ship,
        "invitation": InvitationFactory(team=team),
        "key": key,
        "device": device,
    }


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: Callable[[dict], str]
    fields: tuple[str, ...] = ()  # the input fields, for the wrong-type bodies
    login: bool = True  # the licensing API has no login: the key is the credential


def _licensing(name, path, *fields):
    return Endpoint(name, "post", lambda w: path, ("key", *fields), login=False)


WRITE_ENDPOINTS = [
    _licensing("validate", "/api/v1/licenses/validate", "fingerprint", "entitlements", "nonce"),
    _licensing("validate-alias", "/validate-license", "fingerprint", "entitlements", "nonce"),
    _licensing("activate", "/api/v1/licenses/activate", "fingerprint", "name", "platform", "app_version"),
    _licensing("deactivate", "/api/v1/licenses/deactivate", "fingerprint"),
    _licensing("heartbeat", "/api/v1/licenses/heartbeat", "fingerprint", "app_version", "entitlements"),
    _licensing("usage", "/api/v1/licenses/usage", "fingerprint", "feature", "count"),
    Endpoint("me-reveal", "post", lambda w: reverse("me-key-reveal", args=[w["key"].public_id])),
    Endpoint("me-device-delete", "delete", lambda w: reverse("me-device", args=[w["device"].public_id])),
    Endpoint(
        "team-invite", "post", lambda w: reverse("teams_api:invitation_create"), ("email", "role", "team")
    ),
    Endpoint(
        "team-revoke",
        "delete",
        lambda w: reverse("teams_api:invitation_revoke", args=[w["invitation"].public_id]),
    ),
    Endpoint(
        "team-resend",
        "post",
        lambda w: reverse("teams_api:invitation_resend", args=[w["invitation"].public_id]),
    ),
    Endpoint("team-accept", "post", lambda w: reverse("teams_api:invitation_accept"), ("token",)),
    Endpoint("team-join", "post", lambda w: reverse("teams_api:join"), ("code",)),
    Endpoint("team-code", "post", lambda w: reverse("teams_api:code_regenerate"), ("team",)),
    Endpoint(
        "team-member-remove",
        "delete",
        lambda w: reverse("teams_api:member_remove", args=[w["member_ship"].public_id]),
    ),
    Endpoint(
        "team-member-role",
        "post",
        lambda w: reverse("teams_api:member_role", args=[w["member_ship"].public_id]),
        ("role",),
    ),
    Endpoint("team-leave", "post", lambda w: reverse("teams_api:leave"), ("team",)),
]

TWENTY_MB = 20 * 1024 * 1024
MALFORMED_BODIES = {
    "nested-10KB": b"[" * 10_000,
    "nested-100KB": b"[" * 100_000,
    "nested-closed": b"[" * 5_000 + b"]" * 5_000,
    "object-nested-deep": b'{"a": ' * 1_000 + b"1" + b"}" * 1_000,
    "20MB": b'{"key": "' + b"A" * TWENTY_MB + b'"}',
    "nul-byte": b"\x00",
    "nul-in-string": b'{"key": "QB\x00"}',
    "invalid-utf8": b'{"key": "\xff\xfe\xfa"}',
    "lone-surrogate": b'{"key": "\\ud800", "email": "\\udfff@example.com"}',
    "latin1": '{"email": "caf\xe9@example.com"}'.encode("latin-1"),
    "truncated": b'{"key": ',
    "list": b"[1, 2, 3]",
    "string": b'"a string"',
    "number": b"42",
    "null": b"null",
}
WRONG_VALUES = {
    "number": 42,
    "list": ["x"],
    "object": {"a": 1},
    "escaped-nul": "a\u0000b",
    "long": "x" * 5_000,
}


def _client(world, endpoint: Endpoint) -> APIClient:
    client = APIClient()
    if endpoint.login:
        client.force_login(world["owner"])
    return client


def _send(client, method, path, body: bytes, content_type="application/json"):
    return client.generic(method.upper(), path, body, content_type=content_type)


def assert_error_shape(response, *codes):
    assert response["Content-Type"] == "application/json", response.content[:200]
    body = response.json()
    assert set(body) <= {"code", "detail", "errors", "retry_after"}, body
    assert isinstance(body["code"], str) and isinstance(body["detail"], str), body
    if codes:
        assert body["code"] in codes, body
    if "errors" in body:
        assert body["code"] == ErrorCode.INVALID_REQUEST and isinstance(body["errors"], dict), body
    return body


@pytest.mark.parametrize("endpoint", WRITE_ENDPOINTS, ids=lambda e: e.name)
@pytest.mark.parametrize("body", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES.keys())
def test_every_write_refuses_a_malformed_body_in_one_shape_and_writes_nothing(world, endpoint, body):
    client = _client(world, endpoint)
    before = _database()
    response = _send(client, endpoint.method, endpoint.path(world), body)
    assert response.status_code in (400, 413), response.content[:300]
    code = ErrorCode.PAYLOAD_TOO_LARGE if response.status_code == 413 else ErrorCode.INVALID_REQUEST
    assert_error_shape(response, code)
    assert _database() == before


@pytest.mark.parametrize("endpoint", [e for e in WRITE_ENDPOINTS if e.fields], ids=lambda e: e.name)
@pytest.mark.parametrize("value", WRONG_VALUES.values(), ids=WRONG_VALUES.keys())
def test_every_write_refuses_fields_of_the_wrong_type_with_field_errors(world, endpoint, value):
    client = _client(world, endpoint)
    before = _database()
    for field in endpoint.fields:
        body = json.dumps({field: value}).encode()
        response = _send(client, endpoint.method, endpoint.path(world), body)
        if value == 42:
            # A number where a string is expected reads as that string (DRF's CharField): the
            # service then refuses it as a wrong token or code (400) or an unknown team (404).
            assert response.status_code in (400, 404), (field, response.content[:300])
            assert_error_shape(response)
        else:
            assert response.status_code == 400, (field, response.content[:300])
            assert assert_error_shape(response, ErrorCode.INVALID_REQUEST)["errors"], field
    assert _database() == before


@pytest.mark.parametrize("endpoint", WRITE_ENDPOINTS, ids=lambda e: e.name)
def test_a_declared_length_over_the_limit_is_413_before_the_body_is_read(world, endpoint, settings):
    client = _client(world, endpoint)
    before = _database()
    response = client.generic(
        endpoint.method.upper(),
        endpoint.path(world),
        b"{}",
        content_type="application/json",
        CONTENT_LENGTH=str(settings.LICENSE_MAX_BODY_BYTES + 1),
    )
    assert response.status_code == 413
    assert_error_shape(response, ErrorCode.PAYLOAD_TOO_LARGE)
    assert _database() == before


# --- refusals in the same shape ------------------------------------------------------------


def test_licensing_refusals_are_in_the_one_shape(world):
    client = APIClient()
    response = client.get("/api/v1/licenses/validate")
    assert response.status_code == 405
    assert_error_shape(response, ErrorCode.METHOD_NOT_ALLOWED)
    with override_settings(LICENSE_RATE_LIMIT_IP="1/m"):
        client.post("/api/v1/licenses/validate", {"key": world["key"].reveal()}, format="json")
        response = client.post("/api/v1/licenses/validate", {"key": world["key"].reveal()}, format="json")
    assert response.status_code == 429
    body = assert_error_shape(response, ErrorCode.RATE_LIMITED)
    assert body["retry_after"] > 0 and response["Retry-After"] == str(body["retry_after"])


@pytest.mark.parametrize(
    "path",
    [
        lambda w: reverse("me-key-reveal", args=[w["key"].public_id]),
        lambda w: reverse("teams_api:invitation_resend", args=[w["invitation"].public_id]),
    ],
    ids=["customer", "team"],
)
def test_customer_and_team_refusals_are_in_the_one_shape(world, path):
    url = path(world)
    anonymous = APIClient()
    response = anonymous.post(url, format="json")
    assert response.status_code == 401
    assert_error_shape(response, ErrorCode.NOT_AUTHENTICATED)

    response = anonymous.post(url, format="json", HTTP_AUTHORIZATION="Bearer qbt_not-a-token")
    assert response.status_code == 401
    assert_error_shape(response, ErrorCode.AUTHENTICATION_FAILED)

    no_csrf = APIClient(enforce_csrf_checks=True)
    no_csrf.force_login(world["owner"])
    response = no_csrf.post(url, format="json")
    assert response.status_code == 403
    assert_error_shape(response, ErrorCode.PERMISSION_DENIED)

    outsider = APIClient()
    outsider.force_login(TeamFactory().license.owner)
    response = outsider.post(url, format="json")
    assert response.status_code == 404
    assert_error_shape(response, ErrorCode.NOT_FOUND)

    owner = APIClient()
    owner.force_login(world["owner"])
    response = owner.get(url)
    assert response.status_code == 405
    assert_error_shape(response, ErrorCode.METHOD_NOT_ALLOWED)

    response = owner.post(url, b"key=value", content_type="text/plain")
    assert response.status_code == 415
    assert_error_shape(response, ErrorCode.UNSUPPORTED_MEDIA_TYPE)


def test_team_refusals_carry_the_team_code_in_the_one_shape(world):
    member = APIClient()
    member.force_login(world["member_ship"].user)
    response = member.post(reverse("teams_api:invitation_create"), {"email": "x@example.com"}, format="json")
    assert response.status_code == 403
    assert_error_shape(response, "PERMISSION_DENIED")

    owner = APIClient()
    owner.force_login(world["owner"])
    response = owner.post(reverse("teams_api:leave"), {}, format="json")
    assert response.status_code == 400
    assert_error_shape(response, "OWNER_CANNOT_LEAVE")

    team = world["team"]
    for n in range(team.license.seats_total):
        owner.post(reverse("teams_api:invitation_create"), {"email": f"seat{n}@example.com"}, format="json")
    response = owner.post(
        reverse("teams_api:invitation_create"), {"email": "last@example.com"}, format="json"
    )
    assert response.status_code == 409
    assert_error_shape(response, "SEAT_LIMIT_REACHED")


def test_a_throttled_request_is_429_in_the_one_shape_with_retry_after():
    response = exception_handler(Throttled(wait=2.4), {})
    assert response.status_code == 429
    assert response.data["code"] == ErrorCode.THROTTLED
    assert response.data["retry_after"] == 3 and response["Retry-After"] == "3"


def test_every_api_view_is_built_on_the_one_layer():
    def views(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from views(pattern.url_patterns)
            else:
                yield getattr(pattern.callback, "cls", None)

    api_views = [cls for cls in views(get_resolver().url_patterns) if cls and issubclass(cls, DRFAPIView)]
    # The schema and its documentation pages are drf-spectacular's views, not an API.
    ours = [
        cls for cls in api_views if not any(b.__module__.startswith("drf_spectacular") for b in cls.__mro__)
    ]
    assert len(ours) >= 15
    assert [cls for cls in ours if not issubclass(cls, APIView)] == []

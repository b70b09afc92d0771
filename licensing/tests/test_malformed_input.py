import json

import pytest

ENDPOINTS = [
    "/api/v1/licenses/validate",
    "/validate-license",
    "/api/v1/licenses/activate",
    "/api/v1/licenses/deactivate",
    "/api/v1/licenses/heartbeat",
    "/api/v1/licenses/usage",
]


@pytest.fixture
def raw(client):
    def send(path, body, content_type="application/json"):
        return client.generic("POST", path, body, content_type=content_type)

    return send


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json at all",
        b'{"key": ',
        b"[1, 2, 3]",
        b'"just a string"',
        b"null",
        b"\xff\xfe\x00garbage",
        b"[" * 5000 + b"]" * 5000,
        b'{"key": ' + b"9" * 5000 + b"}",
    ],
    ids=["empty", "text", "truncated", "list", "string", "null", "binary", "deep", "huge-number"],
)
def test_bodies_that_are_not_a_json_object_are_400(raw, db, path, body):
    response = raw(path, body)
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_REQUEST"


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    "fields",
    [
        {"key": 42},
        {"key": ["QB-"]},
        {"key": {"nested": True}},
        {"key": None},
        {"key": "QB-\u0000"},
        {"key": "a" * 300},
        {"fingerprint": "fp\u0000", "key": "QB-X"},
    ],
    ids=["number", "list", "object", "null", "nul-byte", "too-long", "nul-in-fingerprint"],
)
def test_wrongly_typed_fields_are_400_with_field_errors(raw, db, path, fields):
    response = raw(path, json.dumps(fields).encode())
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "INVALID_REQUEST"
    assert "key" in body["errors"]


def test_a_nul_byte_in_the_fingerprint_is_a_field_error(raw, license_key):
    body = json.dumps({"key": license_key.plaintext, "fingerprint": "fp\u0000x"}).encode()
    response = raw("/api/v1/licenses/validate", body)
    assert response.status_code == 400
    assert "fingerprint" in response.json()["errors"]


def test_wrongly_typed_entitlements_are_a_field_error(raw, license_key):
    body = json.dumps({"key": license_key.plaintext, "entitlements": "core"}).encode()
    response = raw("/api/v1/licenses/validate", body)
    assert response.status_code == 400
    assert "entitlements" in response.json()["errors"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_one_megabyte_body_is_refused_with_413(raw, db, path):
    body = json.dumps({"key": "QB-" + "A" * (1024 * 1024)}).encode()
    response = raw(path, body)
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"


def test_a_large_body_without_content_length_is_still_bounded(license_key, rf):
    from licensing.api.views import ValidateLicenseView

    request = rf.generic(
        "POST", "/api/v1/licenses/validate", b"{" + b" " * (1024 * 1024) + b"}", "application/json"
    )
    del request.META["CONTENT_LENGTH"]
    request.META["HTTP_TRANSFER_ENCODING"] = "chunked"
    response = ValidateLicenseView.as_view()(request)
    assert response.status_code in (400, 413)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_any_content_type_is_read_as_json(raw, license_key, content_type):
    body = json.dumps({"key": license_key.plaintext}).encode()
    response = raw("/api/v1/licenses/validate", body, content_type=content_type)
    assert response.status_code == 200
    assert response.json()["code"] == "VALID"


def test_form_encoded_bodies_are_400(raw, db):
    response = raw(
        "/api/v1/licenses/validate", b"key=QB-ABC", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400

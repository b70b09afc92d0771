"""OpenAPI examples: one request per endpoint and one response per `code`."""

from drf_spectacular.utils import OpenApiExample

from licensing.models import LICENSE_LEVEL_CODES, LicenseState, ValidationCode

KEY = "QB-7K3MX-9QW2D-HF4TN-B8RZC-2VJ6P-MXQ4D-1SA7W"
FINGERPRINT = "5c1f0a9e4b7d2c8e6f3a1b0d9c8e7f6a"
TS = "2026-11-23T15:30:00Z"
TOKEN = "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl"

LICENSE = {
    "id": "0b8f3c1e-6a8d-4c59-9a57-3f1f2d7d1e0a",
    "status": "active",
    "expires_at": "2026-12-23T15:30:00Z",
    "grace_ends_at": None,
    "seats": 5,
    "seats_used": 2,
    "devices": 1,
    "max_devices": 3,
}
USER = {"id": "6f2c9d4e-1b7a-4e3f-8c5d-2a9b0e1f3c4d", "email": "ada@example.com", "name": "Ada Lovelace"}
PLAN = {
    "slug": "team",
    "name": "Team",
    "access_level": "team",
    "entitlements": ["core", "collaboration", "priority_support"],
}

VALIDATION_DETAILS = {
    ValidationCode.NOT_FOUND: "No such license key.",
    ValidationCode.REVOKED: "The license or this key has been revoked.",
    ValidationCode.SUSPENDED: "The license is suspended.",
    ValidationCode.EXPIRED: "The license has expired.",
    ValidationCode.INACTIVE: "The subscription is unpaid or canceled.",
    ValidationCode.SEAT_LIMIT_EXCEEDED: "The license has fewer seats than keys; this key is beyond them.",
    ValidationCode.ENTITLEMENTS_MISSING: "The plan lacks: sso.",
    ValidationCode.DEVICE_NOT_ACTIVATED: "This device is not activated for the key.",
    ValidationCode.TOO_MANY_DEVICES: "This key has 4 active devices and the plan allows 3; deactivate one.",
    ValidationCode.GRACE: "Valid: payment is past due, within the grace period.",
    ValidationCode.VALID: "Valid.",
}
# The license's state in each example: a key-level outcome (seats, devices, ...) on an active license.
LICENSE_STATUS_FOR = {
    code: LicenseState.from_code(code) if code in LICENSE_LEVEL_CODES else LicenseState.ACTIVE
    for code in ValidationCode
    if code != ValidationCode.NOT_FOUND
}


def _validation(code: str) -> dict:
    valid = code in (ValidationCode.VALID, ValidationCode.GRACE)
    body = {
        "valid": valid,
        "code": code,
        "detail": VALIDATION_DETAILS[code],
        "ts": TS,
        "nonce": "c0ffee-42",
        "token": TOKEN if valid else None,
        "license": None,
        "user": None,
        "plan": None,
    }
    if code != ValidationCode.NOT_FOUND:
        license_ = {**LICENSE, "status": LICENSE_STATUS_FOR[code].value}
        if code == ValidationCode.GRACE:
            license_["grace_ends_at"] = "2026-12-30T15:30:00Z"
        body.update(license=license_, user=USER, plan=PLAN)
    return body


VALIDATE_REQUEST = OpenApiExample(
    "Request",
    value={"key": KEY, "fingerprint": FINGERPRINT, "entitlements": ["core"], "nonce": "c0ffee-42"},
    request_only=True,
)
HEARTBEAT_REQUEST = OpenApiExample(
    "Request",
    value={"key": KEY, "fingerprint": FINGERPRINT, "app_version": "4.2.0", "nonce": "c0ffee-42"},
    request_only=True,
)
VALIDATION_RESPONSES = [
    OpenApiExample(code, value=_validation(code), response_only=True, status_codes=["200"])
    for code in ValidationCode.values
]

ACTIVATE_REQUEST = OpenApiExample(
    "Request",
    value={
        "key": KEY,
        "fingerprint": FINGERPRINT,
        "name": "Ada's MacBook",
        "platform": "macos",
        "app_version": "4.2.0",
    },
    request_only=True,
)
DEVICE = {
    "id": "9a7b6c5d-4e3f-4a1b-8c9d-0e1f2a3b4c5d",
    "key_prefix": KEY[:8],
    "fingerprint": FINGERPRINT,
    "name": "Ada's MacBook",
    "platform": "macos",
    "app_version": "4.2.0",
    "first_seen_at": TS,
    "last_heartbeat_at": TS,
}


def _activation(code: str, status: str, detail: str, *, device: bool) -> OpenApiExample:
    body = {
        "activated": device,
        "code": code,
        "detail": detail,
        "ts": TS,
        "license": None if code == ValidationCode.NOT_FOUND else LICENSE,
        "user": None if code == ValidationCode.NOT_FOUND else USER,
        "plan": None if code == ValidationCode.NOT_FOUND else PLAN,
        "device": DEVICE if device else None,
        "token": TOKEN if device else None,
    }
    return OpenApiExample(f"{code} ({status})", value=body, response_only=True, status_codes=[status])


ACTIVATION_RESPONSES = [
    _activation(ValidationCode.VALID, "201", "Valid.", device=True),
    _activation(ValidationCode.GRACE, "200", VALIDATION_DETAILS[ValidationCode.GRACE], device=True),
    _activation(ValidationCode.NOT_FOUND, "404", "No such license key.", device=False),
    _activation(ValidationCode.REVOKED, "403", VALIDATION_DETAILS[ValidationCode.REVOKED], device=False),
    _activation(ValidationCode.SUSPENDED, "403", VALIDATION_DETAILS[ValidationCode.SUSPENDED], device=False),
    _activation(ValidationCode.EXPIRED, "403", VALIDATION_DETAILS[ValidationCode.EXPIRED], device=False),
    _activation(ValidationCode.INACTIVE, "403", VALIDATION_DETAILS[ValidationCode.INACTIVE], device=False),
    _activation(
        ValidationCode.TOO_MANY_DEVICES,
        "409",
        "This key already has 3 of 3 devices; deactivate one first.",
        device=False,
    ),
]

DEACTIVATE_REQUEST = OpenApiExample(
    "Request", value={"key": KEY, "fingerprint": FINGERPRINT}, request_only=True
)
DEACTIVATION_RESPONSES = [
    OpenApiExample(
        "DEACTIVATED",
        value={
            "deactivated": True,
            "code": "DEACTIVATED",
            "detail": "The device was deactivated.",
            "ts": TS,
            "devices": 0,
        },
        response_only=True,
        status_codes=["200"],
    ),
    OpenApiExample(
        "DEVICE_NOT_ACTIVATED",
        value={
            "deactivated": False,
            "code": "DEVICE_NOT_ACTIVATED",
            "detail": VALIDATION_DETAILS[ValidationCode.DEVICE_NOT_ACTIVATED],
            "ts": TS,
            "devices": 1,
        },
        response_only=True,
        status_codes=["200"],
    ),
    OpenApiExample(
        "NOT_FOUND",
        value={
            "deactivated": False,
            "code": "NOT_FOUND",
            "detail": "No such license key.",
            "ts": TS,
            "devices": 0,
        },
        response_only=True,
        status_codes=["404"],
    ),
]

USAGE_REQUEST = OpenApiExample(
    "Request",
    value={"key": KEY, "fingerprint": FINGERPRINT, "feature": "export.pdf", "count": 3},
    request_only=True,
)


def _usage(code: str, status: str, detail: str) -> OpenApiExample:
    recorded = code == "RECORDED"
    body = {
        "recorded": recorded,
        "code": code,
        "detail": detail,
        "ts": TS,
        "feature": "export.pdf" if recorded else None,
        "count": 3 if recorded else None,
        "day": "2026-11-23" if recorded else None,
    }
    return OpenApiExample(code, value=body, response_only=True, status_codes=[status])


USAGE_RESPONSES = [
    _usage("RECORDED", "200", "Recorded 3 use(s) of export.pdf."),
    _usage(ValidationCode.NOT_FOUND, "404", "No such license key."),
    _usage(
        ValidationCode.DEVICE_NOT_ACTIVATED, "403", VALIDATION_DETAILS[ValidationCode.DEVICE_NOT_ACTIVATED]
    ),
    _usage(ValidationCode.REVOKED, "403", VALIDATION_DETAILS[ValidationCode.REVOKED]),
]

BAD_REQUEST = OpenApiExample(
    "INVALID_REQUEST",
    value={
        "code": "INVALID_REQUEST",
        "detail": "Some fields are missing or invalid.",
        "errors": {"key": ["This license key has a typo: its check character does not match."]},
    },
    response_only=True,
    status_codes=["400"],
)
TOO_LARGE = OpenApiExample(
    "PAYLOAD_TOO_LARGE",
    value={"code": "PAYLOAD_TOO_LARGE", "detail": "The request body is larger than 16384 bytes."},
    response_only=True,
    status_codes=["413"],
)
RATE_LIMITED = OpenApiExample(
    "RATE_LIMITED",
    value={
        "code": "RATE_LIMITED",
        "detail": "Too many requests for this key; retry in 42 s.",
        "retry_after": 42,
    },
    response_only=True,
    status_codes=["429"],
)

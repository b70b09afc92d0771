"""The licensing API used by the QualityBytes app. The key is the credential: no session, no CSRF.

One view per operation: parse with the input serializer, apply the per-key rate limit, call the
service, render with the output serializer.
"""

import json
from functools import lru_cache

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from licensing import keys, services, throttling
from licensing.api import examples, serializers
from licensing.models import ValidationCode
from qualitybytes.db_router import reads_from_replica
from qualitybytes.http import client_ip

HTTP_STATUS_FOR_REFUSAL = {
    ValidationCode.NOT_FOUND: status.HTTP_404_NOT_FOUND,
    ValidationCode.TOO_MANY_DEVICES: status.HTTP_409_CONFLICT,
}


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "PAYLOAD_TOO_LARGE"
    default_detail = "The request body is too large."


class JSONBodyParser(BaseParser):
    """JSON whatever the Content-Type says, read with a size bound; errors are 400, never 500."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.LICENSE_MAX_BODY_BYTES
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            raise ParseError("The request body is not valid JSON.") from None


class AnyContentTypeIsJSON(DefaultContentNegotiation):
    def select_parser(self, request, parsers):
        return parsers[0]


def exception_handler(exc, context):
    """Errors in one shape: {code, detail} plus `errors` (400) or `retry_after` (429)."""
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ValidationError):
        response.data = {
            "code": "INVALID_REQUEST",
            "detail": "Some fields are missing or invalid.",
            "errors": response.data
            if isinstance(response.data, dict)
            else {"non_field_errors": response.data},
        }
    elif isinstance(exc, ParseError):
        response.data = {"code": "INVALID_REQUEST", "detail": str(exc.detail)}
    else:
        code = exc.get_codes() if isinstance(exc, APIException) else "ERROR"
        response.data = {"code": str(code).upper(), "detail": str(getattr(exc, "detail", exc))}
    if isinstance(exc, throttling.RateLimited):
        response["Retry-After"] = str(exc.retry_after)
        response.data["retry_after"] = exc.retry_after
    return response


@lru_cache(maxsize=8)
def _rate(text: str) -> throttling.Rate | None:
    return throttling.Rate.parse(text)


class LicensingView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [JSONBodyParser]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = AnyContentTypeIsJSON
    throttle_classes: list = []
    input_serializer: type[serializers.serializers.Serializer]

    def get_exception_handler(self):
        return exception_handler

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.LICENSE_MAX_BODY_BYTES:
            raise PayloadTooLarge(f"The request body is larger than {settings.LICENSE_MAX_BODY_BYTES} bytes.")
        request.client_ip = client_ip(request)
        throttling.hit("ip", request.client_ip or "unknown", _rate(settings.LICENSE_RATE_LIMIT_IP))

    def parse_input(self, request) -> dict:
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": ["The body must be a JSON object."]})
        serializer = self.input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        throttling.hit("key", keys.digest(data["key"])[:32], _rate(settings.LICENSE_RATE_LIMIT_KEY))
        return data


ERRORS = {
    400: OpenApiResponse(
        serializers.ErrorOutput, description="Malformed input.", examples=[examples.BAD_REQUEST]
    ),
    413: OpenApiResponse(
        serializers.ErrorOutput, description="Body too large.", examples=[examples.TOO_LARGE]
    ),
    429: OpenApiResponse(
        serializers.ErrorOutput,
        description="Rate limited; see Retry-After.",
        examples=[examples.RATE_LIMITED],
    ),
}


class ValidateLicenseView(LicensingView):
    input_serializer = serializers.ValidateInput

    @extend_schema(
        operation_id="licenses_validate",
        summary="Validate a license key",
        description=(
            "A well-formed request always answers 200 with `valid` and a `code`, checked in this order: "
            + ", ".join(ValidationCode.values)
            + ". `GRACE` and `VALID` are valid and carry a signed `token`."
        ),
        request=serializers.ValidateInput,
        responses={200: serializers.ValidationOutput, **ERRORS},
        examples=[examples.VALIDATE_REQUEST, *examples.VALIDATION_RESPONSES],
        tags=["licenses"],
    )
    def post(self, request):
        data = self.parse_input(request)
        # Scale-out: validation only reads, so it may read from the replica (qualitybytes/db_router.py).
        with reads_from_replica():
            outcome = services.license_validate(
                key=data["key"],
                fingerprint=data.get("fingerprint") or None,
                entitlements=data["entitlements"],
                nonce=data.get("nonce"),
                ip=request.client_ip,
            )
        return Response(serializers.ValidationOutput(outcome).data)


@extend_schema_view(
    post=extend_schema(operation_id="validate_license", summary="Validate a license key (alias)")
)
class ValidateLicenseAliasView(ValidateLicenseView):
    """`POST /validate-license`, kept for clients that know the short path."""


class ActivateDeviceView(LicensingView):
    input_serializer = serializers.ActivateInput

    @extend_schema(
        operation_id="licenses_activate",
        summary="Activate a device on a key",
        description=(
            "Idempotent for a fingerprint that is already active (200); a new device answers 201. "
            "Refusals: 404 `NOT_FOUND`, 403 `REVOKED` / `SUSPENDED` / `EXPIRED` / `INACTIVE`, "
            "409 `TOO_MANY_DEVICES` when the key has as many devices as the plan allows."
        ),
        request=serializers.ActivateInput,
        responses={
            200: serializers.ActivationOutput,
            201: serializers.ActivationOutput,
            403: serializers.ActivationOutput,
            404: serializers.ActivationOutput,
            409: serializers.ActivationOutput,
            **ERRORS,
        },
        examples=[examples.ACTIVATE_REQUEST, *examples.ACTIVATION_RESPONSES],
        tags=["licenses"],
    )
    def post(self, request):
        data = self.parse_input(request)
        outcome = services.device_activate(
            key=data["key"],
            fingerprint=data["fingerprint"],
            name=data["name"],
            platform=data["platform"],
            app_version=data["app_version"],
            ip=request.client_ip,
        )
        if outcome.valid:
            http_status = status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK
        else:
            http_status = HTTP_STATUS_FOR_REFUSAL.get(outcome.code, status.HTTP_403_FORBIDDEN)
        return Response(serializers.ActivationOutput(outcome).data, status=http_status)


class DeactivateDeviceView(LicensingView):
    input_serializer = serializers.DeactivateInput

    @extend_schema(
        operation_id="licenses_deactivate",
        summary="Deactivate a device",
        description=(
            "Frees the device's slot whatever the license state. 200 with `DEACTIVATED`, or "
            "`DEVICE_NOT_ACTIVATED` when the fingerprint was not on the key; 404 `NOT_FOUND`."
        ),
        request=serializers.DeactivateInput,
        responses={200: serializers.DeactivationOutput, 404: serializers.DeactivationOutput, **ERRORS},
        examples=[examples.DEACTIVATE_REQUEST, *examples.DEACTIVATION_RESPONSES],
        tags=["licenses"],
    )
    def post(self, request):
        data = self.parse_input(request)
        outcome = services.device_deactivate(key=data["key"], fingerprint=data["fingerprint"])
        http_status = (
            status.HTTP_404_NOT_FOUND if outcome.code == ValidationCode.NOT_FOUND else status.HTTP_200_OK
        )
        return Response(serializers.DeactivationOutput(outcome).data, status=http_status)


class HeartbeatView(LicensingView):
    input_serializer = serializers.HeartbeatInput

    @extend_schema(
        operation_id="licenses_heartbeat",
        summary="Heartbeat from an activated device",
        description=(
            "A validation with a required fingerprint that also keeps the device counted. Same "
            "answer and codes as validate; a stale device gets `DEVICE_NOT_ACTIVATED` and must "
            "activate again."
        ),
        request=serializers.HeartbeatInput,
        responses={200: serializers.ValidationOutput, **ERRORS},
        examples=[examples.HEARTBEAT_REQUEST, *examples.VALIDATION_RESPONSES],
        tags=["licenses"],
    )
    def post(self, request):
        data = self.parse_input(request)
        outcome = services.device_heartbeat(
            key=data["key"],
            fingerprint=data["fingerprint"],
            app_version=data["app_version"],
            entitlements=data["entitlements"],
            nonce=data.get("nonce"),
            ip=request.client_ip,
        )
        return Response(serializers.ValidationOutput(outcome).data)


class UsageReportView(LicensingView):
    input_serializer = serializers.UsageInput

    @extend_schema(
        operation_id="licenses_usage",
        summary="Report feature use",
        description=(
            "Adds `count` to today's counter of `feature` for the key. 200 `RECORDED`; 404 `NOT_FOUND`; "
            "403 with the license's code, or `DEVICE_NOT_ACTIVATED` when the fingerprint is not active."
        ),
        request=serializers.UsageInput,
        responses={
            200: serializers.UsageOutput,
            403: serializers.UsageOutput,
            404: serializers.UsageOutput,
            **ERRORS,
        },
        examples=[examples.USAGE_REQUEST, *examples.USAGE_RESPONSES],
        tags=["licenses"],
    )
    def post(self, request):
        data = self.parse_input(request)
        outcome = services.usage_report(
            key=data["key"], fingerprint=data["fingerprint"], feature=data["feature"], count=data["count"]
        )
        if outcome.code == "RECORDED":
            http_status = status.HTTP_200_OK
        else:
            http_status = HTTP_STATUS_FOR_REFUSAL.get(outcome.code, status.HTTP_403_FORBIDDEN)
        return Response(serializers.UsageOutput(outcome).data, status=http_status)

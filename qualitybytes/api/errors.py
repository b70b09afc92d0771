"""The error codes every API shares, the errors the layer raises, and the one error shape."""

from django.db import models
from rest_framework import exceptions, serializers, status


class ErrorCode(models.TextChoices):
    """The codes every API shares; app-specific ones (licensing's ValidationCode, the team API's
    TeamErrorCode) stay in their apps."""

    INVALID_REQUEST = "INVALID_REQUEST", "Malformed input: not JSON, not an object, wrong types"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE", "The body is larger than the limit"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE", "A body in a format the API does not read"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED", "No credentials"
    AUTHENTICATION_FAILED = "AUTHENTICATION_FAILED", "Invalid, revoked or malformed credentials"
    PERMISSION_DENIED = "PERMISSION_DENIED", "Not allowed for this user"
    NOT_FOUND = "NOT_FOUND", "Not found, or not yours"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED", "Wrong HTTP method"
    NOT_ACCEPTABLE = "NOT_ACCEPTABLE", "No acceptable response format"
    RATE_LIMITED = "RATE_LIMITED", "Too many requests (licensing API)"
    THROTTLED = "THROTTLED", "Too many requests"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = ErrorCode.PAYLOAD_TOO_LARGE
    default_detail = "The request body is too large."


class InvalidRequest(exceptions.ParseError):
    default_code = ErrorCode.INVALID_REQUEST


class ErrorOutput(serializers.Serializer):
    code = serializers.CharField(
        help_text="Machine-readable reason: INVALID_REQUEST, NOT_FOUND, RATE_LIMITED, SEAT_LIMIT_REACHED, …"
    )
    detail = serializers.CharField(help_text="A sentence for a person.")
    errors = serializers.DictField(
        required=False,
        help_text='Field errors, for INVALID_REQUEST: {"email": ["Enter a valid email address."]}.',
    )
    retry_after = serializers.IntegerField(required=False, help_text="Seconds, for RATE_LIMITED.")

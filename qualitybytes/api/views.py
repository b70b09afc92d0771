"""The base view and the exception handler of every API (REST_FRAMEWORK's EXCEPTION_HANDLER)."""

import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS
from rest_framework.views import APIView as DRFAPIView
from rest_framework.views import exception_handler as drf_exception_handler

from qualitybytes.api.errors import ErrorCode
from qualitybytes.api.parsers import check_content_length


class APIView(DRFAPIView):
    """The base of every API view: the body is bounded before anything else, and a write's body
    is parsed even when the view takes no input, so a malformed one is refused before it acts."""

    def initial(self, request, *args, **kwargs):
        check_content_length(request)
        super().initial(request, *args, **kwargs)
        self.before_parsing(request)
        if request.method not in SAFE_METHODS:
            request.data  # noqa: B018 - parsing is the point: bad input fails here, before the view acts

    def before_parsing(self, request) -> None:
        """Checks that must not wait for the body (the licensing API's per-IP rate limit)."""


# Domain errors raised by services (which know nothing of HTTP) and the status each answers.
# An app's API module registers its own with `answer_with`.
_ERROR_STATUS: dict[type[Exception], int] = {}


def answer_with(exception_class: type[Exception], http_status: int) -> None:
    """Answer `exception_class` (which carries a `code`) with `http_status` in the one shape."""
    _ERROR_STATUS[exception_class] = http_status


def _domain_status(exc: Exception) -> int | None:
    for cls in type(exc).__mro__:
        if cls in _ERROR_STATUS:
            return _ERROR_STATUS[cls]
    return None


def exception_handler(exc, context):
    """Errors in one shape: {code, detail} plus `errors` (400) or `retry_after` (429)."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    domain_status = _domain_status(exc)
    if domain_status is not None:
        exc = exceptions.APIException(str(exc), code=str(exc.code))
        exc.status_code = domain_status
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data
        response.data = {
            "code": ErrorCode.INVALID_REQUEST,
            "detail": "Some fields are missing or invalid.",
            "errors": errors if isinstance(errors, dict) else {"non_field_errors": errors},
        }
        return response
    if isinstance(exc, exceptions.ParseError):
        code = ErrorCode.INVALID_REQUEST
    else:
        code = str(exc.get_codes()).upper()
    response.data = {"code": code, "detail": str(exc.detail)}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is None and isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        retry_after = math.ceil(exc.wait)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
        response.data["retry_after"] = retry_after
    return response

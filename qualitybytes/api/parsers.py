"""The one JSON parser of every API (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES).

DRF imports it while defining its APIView, so this module must not import rest_framework.views.
"""

import json
import re

from django.conf import settings
from rest_framework import exceptions
from rest_framework.parsers import BaseParser

from qualitybytes.api.errors import InvalidRequest, PayloadTooLarge

# Nesting deeper than this is no input any endpoint takes; refusing it also keeps every later
# walk over the data far from Python's recursion limit.
MAX_DEPTH = 32
SURROGATE = re.compile("[\ud800-\udfff]")


def max_body_bytes() -> int:
    return settings.LICENSE_MAX_BODY_BYTES


def check_content_length(request) -> None:
    """413 on the declared length alone, before a byte of the body is read."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > max_body_bytes():
        raise PayloadTooLarge(f"The request body is larger than {max_body_bytes()} bytes.")


def _check_values(data) -> None:
    """Depth and lone surrogates (`"\\ud800"`: no UTF-8 for them, so neither PostgreSQL nor the
    error message that echoes one could encode it), without recursion. NUL characters are left
    to the serializers' fields, which refuse them with a field error."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise InvalidRequest(f"The request body is nested deeper than {MAX_DEPTH} levels.")
        if isinstance(value, dict):
            pending.extend((key, depth) for key in value)
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, str) and SURROGATE.search(value):
            raise InvalidRequest("The request body contains an unpaired surrogate (\\ud800-\\udfff).")


class SafeJSONParser(BaseParser):
    """JSON read with a size bound; the body must be an object. Malformed input is a 400, never a 500."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = max_body_bytes()
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequest("The request body is not UTF-8.") from None
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            raise InvalidRequest("The request body is not valid JSON.") from None
        _check_values(data)
        if not isinstance(data, dict):
            raise exceptions.ValidationError({"non_field_errors": ["The body must be a JSON object."]})
        return data

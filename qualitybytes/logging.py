"""Log records as one JSON object per line, each with the request id, and secrets masked.

Settings wire these into LOGGING (the Operations block); gunicorn.conf.py reuses them for
gunicorn's own messages. This module must not import Django settings: gunicorn loads it first.
"""

import contextvars
import json
import logging
import re
from datetime import UTC, datetime

# The id of the request being served by this thread / task; "-" outside a request.
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# A license key is QB- and seven groups of five Crockford symbols (licensing/keys.py); clients
# may send it in lower case or without dashes. The first group is the public prefix and stays;
# anything longer than the prefix is masked, even a partial key.
_LICENSE_KEY = re.compile(r"\b(QB[-_ ]?[0-9A-Z]{5})(?:[-_ ]?[0-9A-Z]{4,5})+\b", re.IGNORECASE)
# Personal API tokens (accounts.models.ApiToken) and Stripe secrets: keep the kind, drop the rest.
_TOKENS = re.compile(r"\b(qbt_|sk_live_|sk_test_|rk_live_|rk_test_|whsec_)[A-Za-z0-9_\-]{4,}")
MASK = "[masked]"
# Secrets that travel in URL paths: invitation links (teams), allauth's email-confirmation and
# password-reset links. The path segment goes, the route stays. allauth's reset flow moves on to
# `.../key/<uidb36>-set-password/`, which holds no secret. A test sweeps the URL configuration
# for routes taking a `token` or `key`, so a new one cannot be missed here.
_URL_SECRETS = re.compile(
    r"(/team/join/|/accounts/confirm-email/|/accounts/password/reset/key/[0-9A-Za-z]+-(?!set-password/))"
    r"[^/\s?#\"']+"
)


def mask_secrets(text: str) -> str:
    """`text` with license keys, secret tokens and secrets in URLs replaced by their non-secret beginning."""
    if "/" in text:
        text = _URL_SECRETS.sub(lambda m: f"{m.group(1)}{MASK}", text)
    if "QB" not in text.upper() and "_" not in text:
        return text
    text = _LICENSE_KEY.sub(lambda m: f"{m.group(1)}-{MASK}", text)
    return _TOKENS.sub(lambda m: f"{m.group(1)}{MASK}", text)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class MaskSecretsFilter(logging.Filter):
    """Masks keys and tokens in the message, its arguments and the traceback of every record.

    Keys must never be logged in the first place; this is the net under that rule.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg, record.args = mask_secrets(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        return True


# Attributes every LogRecord has; anything else was passed with `extra=` and is logged too.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, request_id, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        # Extras are not filtered by MaskSecretsFilter: mask the finished line as well.
        return mask_secrets(json.dumps(entry, default=str))


class DropServerAccessLines(logging.Filter):
    """Drops runserver's own access line per request (`"GET / HTTP/1.1" 200 1234`): the app logs
    one line per request itself (qualitybytes.middleware, LOG_REQUESTS). Its other messages stay."""

    # The format string of http.server's BaseHTTPRequestHandler.log_request.
    ACCESS_LINE = '"%s" %s %s'

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != self.ACCESS_LINE


TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


def logging_config(*, log_format: str, level: str, server_access_log: bool = False) -> dict:
    """The LOGGING dict for settings (and gunicorn): one stderr handler with both filters.

    runserver's access lines are dropped unless `server_access_log` (the app's own request line
    replaces them); the Stripe client logs warnings and errors only, not every call it makes."""
    formatter = {"()": JsonFormatter} if log_format == "json" else {"format": TEXT_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": RequestIdFilter},
            "mask_secrets": {"()": MaskSecretsFilter},
            "drop_server_access_lines": {"()": DropServerAccessLines},
        },
        "formatters": {"default": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["request_id", "mask_secrets"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        # Django's own handlers would print the same record a second time or mail admins.
        "loggers": {
            "django": {"handlers": ["console"], "level": level, "propagate": False},
            "django.server": {
                "handlers": ["console"],
                "level": level,
                "propagate": False,
                "filters": [] if server_access_log else ["drop_server_access_lines"],
            },
            "stripe": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        },
    }

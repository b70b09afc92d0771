"""Rate limits for the licensing API: fixed windows counted in the shared cache.

Two limits apply to every licensing endpoint: one per client IP (checked before the body is
parsed) and one per license key (checked on the key's digest, before any database lookup).
Set them with LICENSE_RATE_LIMIT_IP and LICENSE_RATE_LIMIT_KEY as ``<count>/<s|m|h|d>``;
``0`` switches one off. With the default local-memory cache each worker counts on its own;
set REDIS_URL so all workers share one count.
"""

import time
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from rest_framework import status
from rest_framework.exceptions import APIException

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> "Rate | None":
        text = (text or "").strip().lower()
        if text in {"", "0", "off", "none"}:
            return None
        try:
            count, period = text.split("/")
            rate = cls(count=int(count), seconds=PERIODS[period.strip()[:1]])
        except (ValueError, KeyError) as exc:
            raise ImproperlyConfigured(f"Rate limit {text!r} must look like 60/m (count/s|m|h|d).") from exc
        if rate.count < 1:
            raise ImproperlyConfigured(f"Rate limit {text!r} must allow at least one request.")
        return rate


class RateLimited(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "RATE_LIMITED"

    def __init__(self, retry_after: int, scope: str):
        self.retry_after = retry_after
        super().__init__(f"Too many requests for this {scope}; retry in {retry_after} s.")


def hit(scope: str, ident: str, rate: Rate | None) -> None:
    """Count one request for `ident`; raise RateLimited once the window's budget is spent."""
    if rate is None:
        return
    now = time.time()
    window = int(now // rate.seconds)
    counter = f"licensing:rl:{scope}:{ident}:{window}"
    # The counter lives a little past its window so a slow clock never sees it reappear.
    # incr first: after a window's first request that is the only cache round trip.
    try:
        used = cache.incr(counter)
    except ValueError:
        used = 1 if cache.add(counter, 1, timeout=rate.seconds + 1) else cache.incr(counter)
    if used > rate.count:
        retry_after = max(1, int((window + 1) * rate.seconds - now + 0.999))
        raise RateLimited(retry_after=retry_after, scope=scope)

"""Health checks for load balancers and orchestrators.

`/healthz` answers while the process can serve requests; it touches nothing else, so a database
outage does not make every instance look dead and get restarted. `/readyz` checks what a request
needs: each configured database and the cache. A failure answers 503 with the reason in JSON,
which tells the load balancer to route around this instance until it recovers.
"""

import logging
import uuid

from django.core.cache import cache
from django.db import DatabaseError, connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


def _check_databases() -> str | None:
    for alias in connections:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except DatabaseError as exc:
            logger.warning("Readiness: database %r unreachable: %s", alias, exc.__class__.__name__)
            return f"database {alias!r} unreachable"
    return None


def _check_cache() -> str | None:
    probe = f"readyz:{uuid.uuid4().hex}"
    try:
        cache.set(probe, "1", timeout=5)
        found = cache.get(probe)
        cache.delete(probe)
    except Exception as exc:  # Cache backends raise their own client's errors (redis.ConnectionError, ...).
        logger.warning("Readiness: cache unreachable: %s", exc.__class__.__name__)
        return "cache unreachable"
    if found != "1":
        return "cache does not keep values"
    return None


@never_cache
@require_GET
def readyz(request):
    for check in (_check_databases, _check_cache):
        reason = check()
        if reason:
            return JsonResponse({"status": "unavailable", "reason": reason}, status=503)
    return JsonResponse({"status": "ok"})

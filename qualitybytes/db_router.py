"""Send the validation API's reads to a read replica, when one is configured.

Only code inside `reads_from_replica()` reads from the `replica` alias, and only when
DATABASE_REPLICA_URL configured it; the validate view opts in. Everything else (activation,
heartbeats, pages, webhooks, staff actions) reads and writes `default`, so a replica's lag never
hides a write from the request that made it. What lag means for validation: a revocation or a
new device is seen after the replica catches up (usually well under a second).
"""

import contextlib
import contextvars

from django.db import connections

REPLICA = "replica"
_use_replica: contextvars.ContextVar[bool] = contextvars.ContextVar("use_replica", default=False)


@contextlib.contextmanager
def reads_from_replica():
    """Reads inside the block go to the replica (if there is one); writes still go to default."""
    token = _use_replica.set(True)
    try:
        yield
    finally:
        _use_replica.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if _use_replica.get() and REPLICA in connections.settings:
            return REPLICA
        return None

    def db_for_write(self, model, **hints):
        # Rows read from the replica carry it as their database; their writes still go to default.
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return {obj1._state.db, obj2._state.db} <= {"default", REPLICA}

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA

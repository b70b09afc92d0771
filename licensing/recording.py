"""Bookkeeping of validations without a write per call.

Each process keeps, per key and day, how many validations it answered and the latest outcome.
The validation that finds the buffer older than LICENSE_TOUCH_INTERVAL_SECONDS has it written in
one statement (by a background thread when LICENSE_FLUSH_IN_BACKGROUND is on, as in production,
so that request does not wait): the keys' last-validated time, the daily counters (UsageDaily) and one
ValidationEvent per key, a sample of the log. So a validation does at most one write, most do
none, and a busy key's last-validated time is written at most once per interval per worker.
The buffer is also written when the process exits; a worker that is killed outright loses at
most one interval of counts, which dashboards can afford.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from licensing.models import LicenseKey, UsageDaily, ValidationEvent

logger = logging.getLogger(__name__)

# Workers flushing at the same moment would upsert overlapping counter rows in different orders
# and deadlock; a transaction-scoped advisory lock, taken inside the one statement, queues them.
FLUSH_LOCK = 0x51427265636F7264


@dataclass
class Pending:
    count: int
    at: datetime
    code: str
    fingerprint: str
    ip: str | None


class ValidationRecorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[tuple[int, date], Pending] = {}
        self._last_flush = time.monotonic()

    def record(
        self, *, key_id: int, code: str, fingerprint: str | None, ip: str | None, at: datetime
    ) -> None:
        """Count one validation; write the buffer if the interval has passed."""
        slot = (key_id, timezone.localdate(at))
        with self._lock:
            entry = self._pending.get(slot)
            if entry is None:
                self._pending[slot] = Pending(1, at, code, fingerprint or "", ip)
            else:
                entry.count += 1
                entry.at, entry.code, entry.fingerprint, entry.ip = at, code, fingerprint or "", ip
            due = time.monotonic() - self._last_flush >= settings.LICENSE_TOUCH_INTERVAL_SECONDS
        if due:
            if settings.LICENSE_FLUSH_IN_BACKGROUND:
                self.flush_in_background()
            else:
                self.flush()

    def flush_in_background(self) -> threading.Thread:
        """Write the buffer from a short-lived thread, so no request waits for the write.

        The thread has its own database connection (Django's are per thread) and closes it.
        """
        with self._lock:
            # Claim the interval now, so the next validations do not start a second flush.
            self._last_flush = time.monotonic()
        thread = threading.Thread(target=self._flush_and_close, name="validation-recorder", daemon=True)
        thread.start()
        return thread

    def _flush_and_close(self) -> None:
        try:
            self.flush()
        finally:
            connection.close()

    def flush(self) -> int:
        """Write everything buffered; returns how many (key, day) entries were written."""
        with self._lock:
            batch, self._pending = self._pending, {}
            self._last_flush = time.monotonic()
        if not batch:
            return 0
        write = _write_postgresql if connection.vendor == "postgresql" else _write_portable
        try:
            if connection.vendor == "postgresql" and not connection.in_atomic_block:
                # One statement in autocommit is its own transaction: no BEGIN / COMMIT round trips.
                write(batch)
            else:
                # A savepoint, so a failure cannot break the caller's transaction.
                with transaction.atomic():
                    write(batch)
        except DatabaseError:
            # Bookkeeping must never fail a validation; the counts of this interval are lost.
            logger.exception("Could not write %d buffered validation counters.", len(batch))
            return 0
        return len(batch)

    def clear(self) -> None:
        with self._lock:
            self._pending = {}
            self._last_flush = time.monotonic()


def _write_postgresql(batch: dict[tuple[int, date], Pending]) -> None:
    rows = ", ".join(["(%s::bigint, %s::date, %s::bigint, %s::timestamptz, %s, %s, %s::inet)"] * len(batch))
    params: list = []
    for (key_id, day), entry in batch.items():
        params += [key_id, day, entry.count, entry.at, entry.code, entry.fingerprint, entry.ip]
    keys, usage, events = (
        LicenseKey._meta.db_table,
        UsageDaily._meta.db_table,
        ValidationEvent._meta.db_table,
    )
    sql = f"""
        WITH batch (key_id, day, n, at, code, fingerprint, ip) AS (
            SELECT v.* FROM (VALUES {rows}) AS v (key_id, day, n, at, code, fingerprint, ip),
                (SELECT pg_advisory_xact_lock(%s)) AS one_flush_at_a_time
            WHERE EXISTS (SELECT 1 FROM {keys} k WHERE k.id = v.key_id)
            ORDER BY v.key_id, v.day
        ), touched AS (
            UPDATE {keys} k SET last_validated_at = latest.at
            FROM (SELECT key_id, max(at) AS at FROM batch GROUP BY key_id) latest
            WHERE k.id = latest.key_id AND (k.last_validated_at IS NULL OR k.last_validated_at < latest.at)
        ), counted AS (
            INSERT INTO {usage} (key_id, day, feature, count)
            SELECT key_id, day, %s, n FROM batch
            ON CONFLICT (key_id, day, feature) DO UPDATE SET count = {usage}.count + EXCLUDED.count
        )
        INSERT INTO {events} (key_id, code, fingerprint, ip, created_at)
        SELECT key_id, code, fingerprint, ip, at FROM batch
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, FLUSH_LOCK, UsageDaily.VALIDATIONS])


def _write_portable(batch: dict[tuple[int, date], Pending]) -> None:
    """SQLite (`make run`) has no data-modifying CTEs; a few statements per key are fine there."""
    existing = set(
        LicenseKey.objects.filter(pk__in={key_id for key_id, _ in batch}).values_list("pk", flat=True)
    )
    for (key_id, day), entry in batch.items():
        if key_id not in existing:
            continue
        LicenseKey.objects.filter(pk=key_id).update(last_validated_at=entry.at)
        usage, _ = UsageDaily.objects.get_or_create(key_id=key_id, day=day, feature=UsageDaily.VALIDATIONS)
        UsageDaily.objects.filter(pk=usage.pk).update(count=F("count") + entry.count)
        ValidationEvent.objects.create(
            key_id=key_id, code=entry.code, fingerprint=entry.fingerprint, ip=entry.ip, created_at=entry.at
        )


recorder = ValidationRecorder()
atexit.register(recorder.flush)

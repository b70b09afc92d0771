import logging
import signal
import threading
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from qualitybytes import outbox
from qualitybytes.models import OutboxStatus

logger = logging.getLogger("qualitybytes.outbox")

PURGE_EVERY_SECONDS = 3600


class Command(BaseCommand):
    help = (
        "Send the outbox's emails that are due, retrying failures with backoff, and erase the bodies "
        "of emails sent more than EMAIL_OUTBOX_PURGE_DAYS ago. One pass by default (cron): exits 1 "
        "if any attempt failed. --loop keeps running (a worker process) until SIGTERM. Any number "
        "may run at once; no email is sent twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep polling until SIGTERM or Ctrl-C.")
        parser.add_argument(
            "--interval", type=float, default=5.0, help="Seconds between passes with --loop (default 5)."
        )
        parser.add_argument("--limit", type=int, help="Attempt at most this many emails per pass.")

    def handle(self, *args, loop=False, interval=5.0, limit=None, **options):
        if interval <= 0 or (limit is not None and limit < 1):
            raise CommandError("--interval must be positive and --limit at least 1.")
        if loop:
            self._loop(interval=interval, limit=limit)
            return
        counts = outbox.send_due(limit=limit)
        purged = outbox.purge_sent()
        self.stdout.write(f"{self._summary(counts)}; erased the bodies of {purged} old sent email(s).")
        unsent = counts[OutboxStatus.RETRYING] + counts[OutboxStatus.FAILED]
        if unsent:
            raise CommandError(
                f"{unsent} email(s) could not be sent (see last error in the admin's outbox); "
                "those retrying are tried again by the next run."
            )

    def _loop(self, *, interval: float, limit: int | None) -> None:
        stop = threading.Event()
        # The email being sent is finished and recorded; then the command returns.
        previous = {
            signum: signal.signal(signum, lambda *_: stop.set()) for signum in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            self._poll(stop, interval=interval, limit=limit)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.stdout.write("Stopped.")

    def _poll(self, stop: threading.Event, *, interval: float, limit: int | None) -> None:
        self.stdout.write(f"Sending queued emails every {interval:g} s until SIGTERM.")
        last_purge = 0.0
        while not stop.is_set():
            close_old_connections()  # a long-running process must drop connections the database closed
            try:
                counts = outbox.send_due(limit=limit)
                if counts:
                    self.stdout.write(self._summary(counts))
                if time.monotonic() - last_purge >= PURGE_EVERY_SECONDS:
                    outbox.purge_sent()
                    last_purge = time.monotonic()
            except Exception:
                # The database may be briefly away; the next pass tries again.
                logger.exception("send_queued_emails: the pass failed")
            stop.wait(interval)

    @staticmethod
    def _summary(counts) -> str:
        statuses = (OutboxStatus.SENT, OutboxStatus.RETRYING, OutboxStatus.FAILED)
        return ", ".join(f"{counts[status]} {status}" for status in statuses).capitalize()

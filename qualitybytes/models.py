"""The email outbox: one row per email, written in the transaction that causes it.

The subject and both bodies are kept only as one MultiFernet token under
LICENSE_KEY_ENCRYPTION_KEY: the license-key email carries a key and the invitation email a
single-use token, and the database never holds either in the clear. Sending is
qualitybytes/outbox.py; the state changes of a row are the methods below.
"""

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from qualitybytes import crypto


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str


class UnreadableContent(Exception):
    """The body was purged, or cannot be decrypted with the configured keys."""


def retry_delay(failed_attempts: int) -> timedelta:
    """How long to wait after the `failed_attempts`-th failure; the last delay repeats."""
    delays = settings.EMAIL_OUTBOX_RETRY_SECONDS or [60]
    return timedelta(seconds=delays[min(failed_attempts, len(delays)) - 1])


class OutboxStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    RETRYING = "retrying", "retrying"
    SENT = "sent", "sent"
    FAILED = "failed", "failed"


PENDING = (OutboxStatus.QUEUED, OutboxStatus.RETRYING)


class OutboxEmailQuerySet(models.QuerySet):
    def due(self, now: datetime):
        return self.filter(status__in=PENDING, next_attempt_at__lte=now)

    def purgeable(self, before: datetime):
        return self.filter(status=OutboxStatus.SENT, sent_at__lt=before, purged_at__isnull=True)


class OutboxEmail(models.Model):
    # Text, not varchar: an address too long to send must still be recorded as a failed email.
    recipient = models.TextField()
    template = models.CharField(max_length=100, help_text="templates/emails/<template>-*.txt|html")
    payload = models.TextField(blank=True, editable=False, help_text="Fernet token; empty once purged")
    status = models.CharField(max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    objects = OutboxEmailQuerySet.as_manager()

    class Meta:
        verbose_name = "outbox email"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status__in=PENDING), name="outbox_due"),
            models.Index(
                fields=["sent_at"],
                condition=Q(status=OutboxStatus.SENT, purged_at__isnull=True),
                name="outbox_purgeable",
            ),
            models.Index(fields=["-created_at"], name="outbox_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=OutboxStatus.values), name="outbox_status_known"),
            models.CheckConstraint(
                condition=~Q(status__in=PENDING) | Q(next_attempt_at__isnull=False),
                name="outbox_pending_has_next_attempt",
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False), name="outbox_sent_has_sent_at"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} to {self.recipient}"

    # --- content ---------------------------------------------------------------------------

    def seal(self, content: EmailContent) -> None:
        self.payload = crypto.encrypt(json.dumps(asdict(content)))

    def content(self) -> EmailContent:
        if not self.payload:
            raise UnreadableContent("The body was erased after EMAIL_OUTBOX_PURGE_DAYS.")
        try:
            return EmailContent(**json.loads(crypto.decrypt(self.payload)))
        except crypto.InvalidToken as exc:
            raise UnreadableContent("The body cannot be decrypted with LICENSE_KEY_ENCRYPTION_KEY.") from exc

    # --- state changes -----------------------------------------------------------------------

    def record_sent(self, *, now: datetime) -> None:
        self.attempts += 1
        self.status = OutboxStatus.SENT
        self.sent_at = now
        self.next_attempt_at = None
        self.last_error = ""

    def record_failure(self, error: str, *, now: datetime, permanent: bool = False) -> None:
        """One failed attempt: retry after the next delay, or give up after the last attempt."""
        self.attempts += 1
        self.last_error = error
        if permanent or self.attempts >= settings.EMAIL_OUTBOX_MAX_ATTEMPTS:
            self.status = OutboxStatus.FAILED
            self.next_attempt_at = None
        else:
            self.status = OutboxStatus.RETRYING
            self.next_attempt_at = now + retry_delay(self.attempts)

    def refuse(self, error: str) -> None:
        """Failed before any attempt (an address that cannot be sent to)."""
        self.status = OutboxStatus.FAILED
        self.next_attempt_at = None
        self.last_error = error

    def requeue(self, *, now: datetime) -> None:
        """Send again from the start of the retry schedule (staff's "Resend now")."""
        if self.purged_at:
            raise UnreadableContent("The body was erased after EMAIL_OUTBOX_PURGE_DAYS.")
        self.status = OutboxStatus.QUEUED
        self.attempts = 0
        self.next_attempt_at = now
        self.last_error = ""

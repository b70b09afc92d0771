"""Sending email through the outbox, so that no email is lost and none fails a request.

`enqueue` writes the rendered email as an encrypted OutboxEmail row in the caller's transaction
(a rollback leaves no row) and, once that transaction commits, tries to deliver it at once
(`EMAIL_OUTBOX_SEND_ON_COMMIT`): development and tests see the email right after the commit, as
before. Whatever fails stays in the outbox; `manage.py send_queued_emails` retries it with
backoff. Every attempt locks its row with SELECT ... FOR UPDATE SKIP LOCKED and marks it in the
same transaction, so any number of workers and requests never send one row twice. (A process
killed between the relay's acceptance and the commit sends that email again on the next attempt:
at least once, never silently lost.)
"""

import logging
import smtplib
import unicodedata
from collections import Counter
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import sanitize_address
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from qualitybytes.logging import mask_secrets
from qualitybytes.models import PENDING, EmailContent, OutboxEmail, UnreadableContent

logger = logging.getLogger("qualitybytes.outbox")

MAX_ADDRESS_LENGTH = 254  # RFC 5321's path limit, less the angle brackets
MAX_LOCAL_PART_LENGTH = 64
MAX_ERROR_LENGTH = 1000


def address_problem(address: str) -> str | None:
    """Why `address` cannot be sent to, or None. Checked before a row is queued and before each send."""
    if not address:
        return "No recipient address."
    if len(address) > MAX_ADDRESS_LENGTH:
        return f"The address is longer than {MAX_ADDRESS_LENGTH} characters."
    if any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") for char in address):
        return "The address contains control or invisible formatting characters (a right-to-left override?)."
    local_part, _, _ = address.rpartition("@")
    if len(local_part) > MAX_LOCAL_PART_LENGTH:
        return f"The part before @ is longer than {MAX_LOCAL_PART_LENGTH} characters."
    try:
        sanitize_address(address, settings.DEFAULT_CHARSET)  # what the SMTP backend does: IDNA and all
    except (ValueError, UnicodeError) as exc:
        return f"The address cannot be encoded for sending: {exc}"
    try:
        validate_email(address)
    except ValidationError:
        return "This is not an email address."
    return None


def enqueue(template: str, *, to: str, content: EmailContent, send_on_commit: bool = True) -> OutboxEmail:
    """Write the email to the outbox in the current transaction; try it once that commits
    (`send_on_commit=False`: the caller delivers it later, e.g. after its response is sent)."""
    now = timezone.now()
    # PostgreSQL text cannot hold NUL; the address is refused below either way.
    email = OutboxEmail(recipient=to.replace("\x00", "\ufffd"), template=template, created_at=now)
    email.seal(content)
    problem = address_problem(to)
    if problem:
        email.refuse(problem)
    else:
        email.next_attempt_at = now
    email.save()
    if problem:
        logger.warning("Email %s (%s) not sent: %s", email.pk, template, problem)
    elif send_on_commit and settings.EMAIL_OUTBOX_SEND_ON_COMMIT:
        transaction.on_commit(partial(deliver, email.pk), robust=True)
    return email


def deliver(pk: int) -> OutboxEmail | None:
    """Attempt one email now if it is still waiting and nobody else is sending it."""
    with transaction.atomic():
        pending = OutboxEmail.objects.filter(pk=pk, status__in=PENDING)
        email = pending.select_for_update(skip_locked=True).first()
        if email is None:
            return None
        _attempt(email)
    return email


def send_due(*, limit: int | None = None) -> Counter:
    """Attempt every email whose time has come, oldest first; counts by the status each ended in."""
    counts: Counter = Counter()
    while limit is None or counts.total() < limit:
        with transaction.atomic():
            email = (
                OutboxEmail.objects.due(timezone.now())
                .select_for_update(skip_locked=True)
                .order_by("next_attempt_at", "pk")
                .first()
            )
            if email is None:
                break
            _attempt(email)
        counts[email.status] += 1
    return counts


def resend(pk: int) -> OutboxEmail:
    """Staff's "Resend now": back to the start of the retry schedule, then one attempt at once.

    Raises UnreadableContent when the body has been purged.
    """
    with transaction.atomic():
        email = OutboxEmail.objects.select_for_update().get(pk=pk)
        email.requeue(now=timezone.now())
        email.save()
    return deliver(pk) or OutboxEmail.objects.get(pk=pk)


def purge_sent(*, days: int | None = None, now: datetime | None = None) -> int:
    """Erase the bodies of emails sent more than `days` ago (EMAIL_OUTBOX_PURGE_DAYS); rows stay."""
    days = settings.EMAIL_OUTBOX_PURGE_DAYS if days is None else days
    now = now or timezone.now()
    return OutboxEmail.objects.purgeable(now - timedelta(days=days)).update(payload="", purged_at=now)


def _attempt(email: OutboxEmail) -> None:
    """Send one locked row and record the outcome on it (the caller's transaction commits both)."""
    now = timezone.now()
    problem = address_problem(email.recipient)
    try:
        content = email.content()
    except UnreadableContent as exc:
        problem = str(exc)
    if problem:
        email.record_failure(problem, now=now, permanent=True)
        logger.warning("Email %s (%s) failed: %s", email.pk, email.template, problem)
    else:
        message = EmailMultiAlternatives(content.subject, content.text, to=[email.recipient])
        message.attach_alternative(content.html, "text/html")
        try:
            message.send()
        except Exception as exc:
            email.record_failure(_describe(exc), now=now)
            expected = isinstance(exc, smtplib.SMTPException | OSError)
            logger.warning(
                "Email %s (%s) attempt %s failed, %s: %s",
                email.pk,
                email.template,
                email.attempts,
                f"next at {email.next_attempt_at:%Y-%m-%d %H:%M:%S}" if email.next_attempt_at else "gave up",
                email.last_error,
                exc_info=not expected,
            )
        else:
            email.record_sent(now=now)
            logger.info("Email %s (%s) sent", email.pk, email.template)
    email.save(update_fields=["status", "attempts", "next_attempt_at", "last_error", "sent_at"])


def _describe(exc: Exception) -> str:
    # The relay's answer never contains the body, but mask key-shaped text anyway.
    return mask_secrets(f"{type(exc).__name__}: {exc}")[:MAX_ERROR_LENGTH]

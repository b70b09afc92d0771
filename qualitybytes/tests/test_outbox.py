"""The email outbox: an email is a row of the transaction that causes it, it is sent after the
commit or later by the worker, a broken relay or address never fails the request, and no body is
stored in the clear. SMTP failures are real: Django's SMTP backend against a closed loopback port."""

import socket
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from licensing import keys
from qualitybytes import outbox
from qualitybytes.emails import send_on_commit
from qualitybytes.models import OutboxEmail, OutboxStatus
from teams.models import Invitation
from teams.services import team_invite_member
from teams.tests.factories import MembershipFactory, TeamFactory

pytestmark = pytest.mark.django_db

PLAN = {"name": "Solo", "seats": 1, "devices_per_seat": 2}


@pytest.fixture
def smtp_down(settings):
    """Django's real SMTP backend pointed at a loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    return settings


def smtp_back_up(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def make_due(email: OutboxEmail) -> None:
    """Time passes: the row's next attempt is now."""
    OutboxEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def send_key_email(key: str, to: str = "ada@example.com") -> None:
    send_on_commit("license-key", to=to, context={"user": {"name": "Ada"}, "plan": PLAN, "key": key})


def worker(*args) -> str:
    """`send_queued_emails` once; its summary line, or the CommandError it exits with."""
    out = StringIO()
    try:
        call_command("send_queued_emails", *args, stdout=out)
        return out.getvalue()
    except CommandError as exc:
        return f"CommandError: {exc}"


# --- the transaction ---------------------------------------------------------------------------


def test_an_email_is_written_in_the_transaction_and_rolled_back_with_it(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            send_key_email(keys.generate())
            assert OutboxEmail.objects.get().status == OutboxStatus.QUEUED
            raise RuntimeError("the change that caused the email fails")
    assert not OutboxEmail.objects.exists()
    assert callbacks == []
    assert mail.outbox == []


def test_the_email_is_sent_right_after_the_commit(django_capture_on_commit_callbacks):
    key = keys.generate()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send_key_email(key)
    assert mail.outbox == []
    assert OutboxEmail.objects.get().status == OutboxStatus.QUEUED
    for callback in callbacks:
        callback()
    [message] = mail.outbox
    assert message.to == ["ada@example.com"]
    assert message.subject == "Your QualityBytes Solo license key"
    assert key in message.body and key in message.alternatives[0][0]
    email = OutboxEmail.objects.get()
    assert (email.status, email.attempts, email.next_attempt_at) == (OutboxStatus.SENT, 1, None)
    assert email.sent_at is not None


def test_with_send_on_commit_off_only_the_worker_sends(settings, django_capture_on_commit_callbacks):
    settings.EMAIL_OUTBOX_SEND_ON_COMMIT = False
    with django_capture_on_commit_callbacks(execute=True):
        send_key_email(keys.generate())
    assert mail.outbox == []
    assert worker().startswith("1 sent, 0 retrying, 0 failed")
    assert len(mail.outbox) == 1


# --- a relay that does not answer ----------------------------------------------------------------


def test_an_smtp_failure_leaves_the_request_successful_and_the_email_retrying(
    smtp_down, django_capture_on_commit_callbacks
):
    team = TeamFactory()
    client = APIClient()
    client.force_login(team.license.owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("teams_api:invitation_create"),
            {"email": "new@example.com", "role": "member"},
            format="json",
        )
    assert response.status_code == 201
    assert Invitation.objects.filter(email="new@example.com").exists()
    email = OutboxEmail.objects.get()
    assert (email.status, email.attempts, email.recipient) == (OutboxStatus.RETRYING, 1, "new@example.com")
    assert email.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert "ConnectionRefusedError" in email.last_error
    assert mail.outbox == []


def test_the_worker_sends_a_retrying_email_once_when_smtp_works_again(
    smtp_down, django_capture_on_commit_callbacks
):
    key = keys.generate()
    with django_capture_on_commit_callbacks(execute=True):
        send_key_email(key)
    email = OutboxEmail.objects.get()
    assert email.status == OutboxStatus.RETRYING

    smtp_back_up(smtp_down)
    assert worker().startswith("0 sent, 0 retrying, 0 failed")  # not due yet
    assert mail.outbox == []
    make_due(email)
    assert worker().startswith("1 sent, 0 retrying, 0 failed")
    assert worker().startswith("0 sent")
    [message] = mail.outbox
    assert key in message.body
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == (OutboxStatus.SENT, 2, "")


def test_failures_back_off_then_give_up_and_the_one_shot_run_exits_non_zero(smtp_down):
    smtp_down.EMAIL_OUTBOX_MAX_ATTEMPTS = 3
    smtp_down.EMAIL_OUTBOX_SEND_ON_COMMIT = False
    send_key_email(keys.generate())
    email = OutboxEmail.objects.get()
    delays = []
    for _ in range(3):
        make_due(email)
        before = timezone.now()
        result = worker()
        assert result.startswith("CommandError: 1 email(s) could not be sent")
        email.refresh_from_db()
        if email.next_attempt_at:
            delays.append(round((email.next_attempt_at - before).total_seconds() / 60))
    assert delays == [1, 5]
    assert (email.status, email.attempts, email.next_attempt_at) == (OutboxStatus.FAILED, 3, None)
    assert "ConnectionRefusedError" in email.last_error
    assert worker().startswith("0 sent, 0 retrying, 0 failed")  # a failed email is not retried


# --- addresses that cannot be sent to --------------------------------------------------------------

BAD_ADDRESSES = {
    "idna": ("ada@" + "x" * 64 + ".example.com", "cannot be encoded"),
    "right-to-left override": ("\u202eada@example.com", "right-to-left"),
    "over-long": ("a" * 60 + "@" + ".".join(["example"] * 30) + ".com", "longer than 254"),
    "newline": ("ada@example.com\nBcc: all@example.com", "control"),
    "not an address": ("ada at example.com", "not an email address"),
}


@pytest.mark.parametrize("address,reason", BAD_ADDRESSES.values(), ids=BAD_ADDRESSES.keys())
def test_an_address_that_cannot_be_encoded_fails_that_email_only(
    address, reason, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        send_key_email(keys.generate(), to=address)
    email = OutboxEmail.objects.get()
    assert (email.status, email.attempts, email.next_attempt_at) == (OutboxStatus.FAILED, 0, None)
    assert reason in email.last_error
    assert callbacks == [] and mail.outbox == []


def test_a_member_with_an_unsendable_address_is_removed_without_a_500(django_capture_on_commit_callbacks):
    team = TeamFactory()
    membership = MembershipFactory(team=team, user=UserFactory(email="\u202eeve@example.com"))
    client = APIClient()
    client.force_login(team.license.owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(reverse("teams_api:member_remove", args=[membership.public_id]))
    assert response.status_code in (200, 204)
    assert not team.memberships.filter(pk=membership.pk).exists()
    email = OutboxEmail.objects.get(template="team-member-removed")
    assert email.status == OutboxStatus.FAILED and "right-to-left" in email.last_error
    assert email.attempts == 0  # refused when queued, not when sent


# --- at rest ------------------------------------------------------------------------------------


def test_subject_and_bodies_are_encrypted_in_the_database(django_capture_on_commit_callbacks):
    key = keys.generate()
    with django_capture_on_commit_callbacks(execute=True):
        send_key_email(key)
        team = TeamFactory()
        token = team_invite_member(team=team, email="new@example.com", by=team.license.owner).token
    assert len(mail.outbox) == 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM qualitybytes_outboxemail")
        stored = repr(cursor.fetchall())
    assert "ada@example.com" in stored  # the recipient is searchable in the admin
    for secret in (key, key.replace("-", ""), token, "Keep this key private", "Your QualityBytes Solo"):
        assert secret not in stored


def test_rows_encrypted_under_an_old_key_are_sent_after_rotation(settings):
    settings.EMAIL_OUTBOX_SEND_ON_COMMIT = False
    old = settings.LICENSE_KEY_ENCRYPTION_KEY
    key = keys.generate()
    send_key_email(key)
    settings.LICENSE_KEY_ENCRYPTION_KEY = f"{'A' * 43}=,{old}"
    assert worker().startswith("1 sent")
    assert key in mail.outbox[0].body


# --- purging sent bodies --------------------------------------------------------------------------


def test_bodies_of_old_sent_emails_are_erased_and_the_record_kept(
    settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_OUTBOX_PURGE_DAYS = 30
    with django_capture_on_commit_callbacks(execute=True):
        send_key_email(keys.generate(), to="old@example.com")
        send_key_email(keys.generate(), to="recent@example.com")
    settings.EMAIL_OUTBOX_SEND_ON_COMMIT = False
    send_key_email(keys.generate(), to="waiting@example.com")
    OutboxEmail.objects.filter(recipient="old@example.com").update(
        sent_at=timezone.now() - timedelta(days=31)
    )

    assert "erased the bodies of 1 old sent email(s)" in worker("--limit", "1")
    old, recent, waiting = (
        OutboxEmail.objects.get(recipient=f"{n}@example.com") for n in ("old", "recent", "waiting")
    )
    assert (old.payload, old.status, old.template, old.attempts) == ("", OutboxStatus.SENT, "license-key", 1)
    assert old.purged_at is not None and old.sent_at is not None
    assert recent.payload and recent.purged_at is None
    assert waiting.status == OutboxStatus.SENT and waiting.payload  # sent by that run, not purged
    assert outbox.purge_sent() == 0

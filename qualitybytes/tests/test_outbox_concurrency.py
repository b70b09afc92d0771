"""Several workers (and the requests' own after-commit delivery) at once never send one email twice.

Real threads with their own PostgreSQL connections, on committed rows. The email backend is the
only stand-in: a locmem backend that takes a little while, as a relay does, so the workers overlap.
"""

import threading
import time

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection

from qualitybytes import outbox
from qualitybytes.emails import send_on_commit
from qualitybytes.models import OutboxEmail, OutboxStatus

pytestmark = pytest.mark.django_db(transaction=True)

EMAILS = 30
WORKERS = 5
PLAN = {"name": "Solo", "seats": 1, "devices_per_seat": 2}


class SlowRelayBackend(EmailBackend):
    def send_messages(self, messages):
        time.sleep(0.02)
        return super().send_messages(messages)


def run_together(*targets) -> None:
    start = threading.Barrier(len(targets))
    errors = []

    def run(target):
        try:
            start.wait()
            target()
        except Exception as exc:  # surfaced below: a thread's exception would otherwise vanish
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=[target]) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@pytest.fixture
def queued(settings):
    settings.EMAIL_BACKEND = f"{__name__}.SlowRelayBackend"
    settings.EMAIL_OUTBOX_SEND_ON_COMMIT = False
    for i in range(EMAILS):
        send_on_commit("license-key", to=f"user{i}@example.com", context={"plan": PLAN, "key": f"k{i}"})
    return list(OutboxEmail.objects.values_list("pk", flat=True))


def assert_each_sent_once():
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        f"user{i}@example.com" for i in range(EMAILS)
    )
    assert set(OutboxEmail.objects.values_list("status", "attempts")) == {(OutboxStatus.SENT, 1)}


def test_concurrent_workers_send_every_email_exactly_once(queued):
    run_together(*[outbox.send_due] * WORKERS)
    assert_each_sent_once()


def test_after_commit_delivery_racing_the_workers_sends_each_email_once(queued):
    def deliver_each():
        for pk in queued:
            outbox.deliver(pk)

    run_together(deliver_each, deliver_each, outbox.send_due, outbox.send_due)
    assert_each_sent_once()

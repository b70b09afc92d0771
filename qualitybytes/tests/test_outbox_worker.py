"""`send_queued_emails --loop` as the Procfile runs it: a separate process that sends what is due
and stops cleanly on SIGTERM. It reads the test database, so the rows are committed."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from qualitybytes.emails import send_on_commit
from qualitybytes.models import OutboxEmail, OutboxStatus

pytestmark = pytest.mark.django_db(transaction=True)

PLAN = {"name": "Solo", "seats": 1, "devices_per_seat": 2}


def test_the_worker_process_sends_due_emails_and_stops_on_sigterm(settings):
    settings.EMAIL_OUTBOX_SEND_ON_COMMIT = False
    send_on_commit("license-key", to="ada@example.com", context={"plan": PLAN, "key": "QB-TEST"})
    database = connection.settings_dict
    login = database["USER"] + (f":{database['PASSWORD']}" if database["PASSWORD"] else "")
    url = f"postgres://{login}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "send_queued_emails", "--loop", "--interval", "0.2"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while OutboxEmail.objects.get().status != OutboxStatus.SENT and time.monotonic() < deadline:
            time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    finally:
        worker.kill()
    assert OutboxEmail.objects.get().status == OutboxStatus.SENT
    assert worker.returncode == 0, output
    assert "1 sent, 0 retrying, 0 failed" in output and "Stopped." in output
    assert "To: ada@example.com" in output

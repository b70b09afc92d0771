"""`prune_webhook_triggers`: old deliveries go, recent ones and unexplained failures stay."""

import os
import re
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.utils import timezone
from djstripe.models import Event, WebhookEventTrigger

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("prune_webhook_triggers", *args, stdout=out, stderr=out)
    return out.getvalue()


def trigger(name: str, *, days_old: float, valid: bool, processed: bool) -> WebhookEventTrigger:
    row = WebhookEventTrigger.objects.create(
        remote_ip="203.0.113.7", headers={"Stripe-Signature": "t=1,v1=00"}, body=f'{{"id": "{name}"}}',
        valid=valid, processed=processed,
    )  # fmt: skip
    WebhookEventTrigger.objects.filter(pk=row.pk).update(created=timezone.now() - timedelta(days=days_old))
    return row


def event(name: str, *, days_old: float) -> Event:
    row = Event.objects.create(id=name, type="customer.updated", data={"object": {}}, livemode=False)
    Event.objects.filter(pk=row.pk).update(djstripe_created=timezone.now() - timedelta(days=days_old))
    return row


def remaining() -> set[str]:
    return {row.body.split('"')[3] for row in WebhookEventTrigger.objects.all()}


@pytest.fixture
def triggers():
    trigger("old processed", days_old=45, valid=True, processed=True)
    trigger("old invalid", days_old=45, valid=False, processed=False)
    trigger("old failed", days_old=45, valid=True, processed=False)
    trigger("recent processed", days_old=5, valid=True, processed=True)
    trigger("recent invalid", days_old=5, valid=False, processed=False)
    trigger("recent failed", days_old=5, valid=True, processed=False)


def test_old_processed_and_old_invalid_triggers_go_recent_and_failed_ones_stay(triggers):
    output = run("--older-than", "30")
    assert remaining() == {"old failed", "recent processed", "recent invalid", "recent failed"}
    assert "Deleted 2 webhook trigger(s) older than 30 days (1 processed, 1 invalid)." in output
    assert "Kept 1 verified trigger(s) older than 30 days that were never processed" in output
    assert run("--older-than", "30").startswith("Deleted 0 webhook trigger(s)")  # safe to rerun


def test_the_default_age_is_the_setting(triggers, settings):
    assert run().startswith("Deleted 2 webhook trigger(s) older than 30 days")
    settings.STRIPE_WEBHOOK_TRIGGER_DAYS = 3
    run()
    assert remaining() == {"old failed", "recent failed"}


def test_event_rows_are_kept_unless_asked_for(triggers):
    event("evt_old", days_old=45)
    event("evt_recent", days_old=5)
    output = run("--older-than", "30")
    assert "event" not in output.split("\n", 2)[-1].lower()
    assert set(Event.objects.values_list("id", flat=True)) == {"evt_old", "evt_recent"}
    output = run("--older-than", "30", "--events")
    assert "Deleted 1 Stripe event(s) stored more than 30 days ago." in output
    assert set(Event.objects.values_list("id", flat=True)) == {"evt_recent"}


def test_a_processed_triggers_event_can_go_with_it(triggers):
    old = event("evt_old", days_old=45)
    row = trigger("old with event", days_old=45, valid=True, processed=True)
    WebhookEventTrigger.objects.filter(pk=row.pk).update(event=old)
    run("--older-than", "30", "--events")
    assert not Event.objects.filter(id="evt_old").exists()
    assert "old with event" not in remaining()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--older-than", "-1"], "at least 1 (got -1)"),
        (["--older-than", "0"], "at least 1 (got 0)"),
        (["--older-than", "ten"], "invalid int value"),
        (["--older-than", "3", "--events"], "--events needs --older-than 7 or more"),
    ],
)
def test_bad_input_exits_non_zero_and_deletes_nothing(triggers, args, message):
    event("evt_old", days_old=45)
    with pytest.raises(CommandError, match=re.escape(message)):
        run(*args)
    assert len(remaining()) == 6
    assert Event.objects.count() == 1


def test_manage_py_exits_1_with_the_message():
    done = subprocess.run(
        [sys.executable, "manage.py", "prune_webhook_triggers", "--older-than", "-5"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=django_settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": "sqlite://:memory:"},  # never any real database
    )
    assert done.returncode == 1
    assert "--older-than must be a whole number of days, at least 1 (got -5)." in done.stderr

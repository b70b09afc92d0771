"""The outbox in the operator panel: staff see the delivery record and the subject, never a body,
can resend an email, and the changelist costs the same for 5 rows as for 100."""

import pytest
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from licensing import keys
from qualitybytes.emails import send_on_commit
from qualitybytes.models import OutboxEmail, OutboxStatus
from qualitybytes.outbox import purge_sent

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:qualitybytes_outboxemail_changelist")


def url(view, email):
    return reverse(f"admin:qualitybytes_outboxemail_{view}", args=[email.pk])


PLAN = {"name": "Solo", "seats": 1, "devices_per_seat": 2}


@pytest.fixture(autouse=True)
def queue_only(settings):
    # Rows stay as queued: these tests drive sending through the admin.
    settings.EMAIL_OUTBOX_SEND_ON_COMMIT = False


def queue_key_email(to="ada@example.com") -> tuple[OutboxEmail, str]:
    key = keys.generate()
    send_on_commit("license-key", to=to, context={"user": {"name": "Ada"}, "plan": PLAN, "key": key})
    return OutboxEmail.objects.latest("pk"), key


def test_staff_see_the_record_and_the_subject_but_never_the_body(admin_client):
    email, key = queue_key_email()
    email.refuse("The address cannot be encoded for sending: label too long")
    email.save()
    listing = admin_client.get(CHANGELIST).content.decode()
    assert "ada@example.com" in listing and "license-key" in listing and "label too long" in listing
    page = admin_client.get(url("change", email)).content.decode()
    assert "Your QualityBytes Solo license key" in page
    for secret in (key, "Keep this key private", email.payload):
        assert secret not in listing and secret not in page


def test_the_outbox_filters_by_status_and_template_and_searches_by_recipient(admin_client):
    queue_key_email("ada@example.com")
    failed, _ = queue_key_email("bob@example.com")
    failed.refuse("test")
    failed.save()
    send_on_commit("subscription-canceled", to="cy@example.com", context={"user": {}, "plan": PLAN})

    def listed(query):
        response = admin_client.get(CHANGELIST, query)
        return sorted(email.recipient for email in response.context["cl"].result_list)

    assert listed({"status__exact": "failed"}) == ["bob@example.com"]
    assert listed({"template__exact": "subscription-canceled"}) == ["cy@example.com"]
    assert listed({"q": "ada@"}) == ["ada@example.com"]


def test_rows_cannot_be_added_edited_or_deleted_by_hand(admin_client):
    email, _ = queue_key_email()
    assert admin_client.get(reverse("admin:qualitybytes_outboxemail_add")).status_code == 403
    assert admin_client.post(url("delete", email)).status_code == 403
    form = admin_client.get(url("change", email)).context["adminform"]
    assert list(form.form.fields) == []


def test_resend_now_sends_a_failed_email_and_records_who_did_it(admin_client, admin_user):
    email, key = queue_key_email()
    email.record_failure("SMTPServerDisconnected: gone", now=email.created_at, permanent=True)
    email.save()
    response = admin_client.post(
        CHANGELIST, {"action": "resend_now", "_selected_action": [email.pk]}, follow=True
    )
    assert "Resend now: 1 sent." in response.content.decode()
    [message] = mail.outbox
    assert key in message.body
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == (OutboxStatus.SENT, 1, "")
    entry = LogEntry.objects.get(object_id=str(email.pk))
    assert entry.user == admin_user and "Resent now by staff; sent" in entry.get_change_message()


def test_resend_now_cannot_send_an_email_whose_body_was_erased(admin_client):
    email, _ = queue_key_email()
    email.record_sent(now=email.created_at)
    email.save()
    purge_sent(days=0)
    response = admin_client.post(
        CHANGELIST, {"action": "resend_now", "_selected_action": [email.pk]}, follow=True
    )
    assert "1 purged (not resent)" in response.content.decode()
    assert mail.outbox == [] and not LogEntry.objects.exists()


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    return len(queries)


def test_the_changelist_query_count_does_not_grow_with_rows(admin_client):
    templates = ["license-key", "payment-failed", "plan-changed"]

    def add(n):
        OutboxEmail.objects.bulk_create(
            OutboxEmail(recipient=f"r{i}@example.com", template=templates[i % 3], status="failed")
            for i in range(n)
        )

    add(5)
    few = _queries(admin_client)
    add(95)
    assert len(admin_client.get(CHANGELIST).context["cl"].result_list) == 100
    assert _queries(admin_client) == few

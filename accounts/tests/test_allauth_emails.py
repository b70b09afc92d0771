"""allauth's emails: in the site's layout and name, and sent through the outbox like every other
email (accounts/adapter.py), so a relay that is down delays a confirmation link, never loses it."""

import re
import socket

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from accounts.tests.factories import UserFactory
from qualitybytes import outbox
from qualitybytes.models import OutboxEmail, OutboxStatus

PASSWORD = "violet-tractor-harbour-91"
SIGNUP = {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD}


@pytest.fixture
def capture_on_commit(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture(autouse=True)
def clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


def html_of(message) -> str:
    assert message.alternatives, "no HTML part"
    return message.alternatives[0][0]


def assert_in_our_name_and_layout(message):
    html = html_of(message)
    assert message.subject.startswith("[QualityBytes] ")
    for text in (message.subject, message.body, html):
        assert "127.0.0.1" not in re.sub(r"https?://\S+", "", text), text  # links may use the host
        assert "testserver" not in re.sub(r"https?://\S+", "", text), text
        assert "example.com!" not in text
    assert "QualityBytes" in message.body
    assert "#f6f7fb" in html and "You receive this email because you have a QualityBytes account" in html


@pytest.mark.django_db
def test_the_signup_confirmation_speaks_as_qualitybytes_in_the_layout(client, capture_on_commit):
    with capture_on_commit(execute=True):
        client.post(
            reverse("account_signup"),
            SIGNUP,
        )
    message = mail.outbox[0]
    assert_in_our_name_and_layout(message)
    assert "Hello from" not in message.body
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", message.body).group(0)
    assert f'href="{link}"' in html_of(message)  # the link is clickable in the HTML part


@pytest.mark.django_db
def test_the_password_reset_speaks_as_qualitybytes_in_the_layout(client, capture_on_commit):
    user = UserFactory(email="ada@example.com", name="Ada Lovelace")
    with capture_on_commit(execute=True):
        client.post(reverse("account_reset_password"), {"email": user.email})
    message = mail.outbox[0]
    assert_in_our_name_and_layout(message)
    assert message.body.startswith("Hello Ada Lovelace,")
    assert "/accounts/password/reset/key/" in html_of(message)


@pytest.mark.django_db
def test_a_name_in_the_html_part_is_escaped(client, capture_on_commit):
    UserFactory(email="ada@example.com", name="<b>Ada</b>")
    with capture_on_commit(execute=True):
        client.post(reverse("account_reset_password"), {"email": "ada@example.com"})
    html = html_of(mail.outbox[0])
    assert "<b>Ada</b>" not in html and "&lt;b&gt;Ada&lt;/b&gt;" in html


@pytest.mark.django_db
def test_the_confirmation_is_an_encrypted_outbox_row_sent_after_the_commit(client, capture_on_commit):
    with capture_on_commit() as callbacks:
        client.post(
            reverse("account_signup"),
            SIGNUP,
        )
    row = OutboxEmail.objects.get()
    assert (row.recipient, row.template, row.status) == (
        "new@example.com",
        "allauth/email_confirmation_signup",
        OutboxStatus.QUEUED,
    )
    assert "confirm-email" not in row.payload  # the link is sealed, not stored in clear
    assert mail.outbox == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    assert "/accounts/confirm-email/" in mail.outbox[0].body


@pytest.fixture
def smtp_down(settings):
    """Django's real SMTP backend pointed at a loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    return settings


@pytest.mark.django_db
def test_a_password_reset_survives_a_relay_that_is_down(client, smtp_down, capture_on_commit):
    UserFactory(email="ada@example.com")
    with capture_on_commit(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": "ada@example.com"})
    assert response.status_code == 302  # the person is told the email is on its way
    row = OutboxEmail.objects.get(template="allauth/password_reset_key")
    assert row.status == OutboxStatus.RETRYING and row.attempts == 1

    smtp_down.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    OutboxEmail.objects.filter(pk=row.pk).update(next_attempt_at=row.created_at)
    assert outbox.send_due()[OutboxStatus.SENT] == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body

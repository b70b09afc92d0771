import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from accounts.tests.factories import UserFactory

PASSWORD = "violet-tractor-harbour-91"


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
def test_the_signup_confirmation_speaks_as_qualitybytes_in_the_layout(client):
    client.post(
        reverse("account_signup"), {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD}
    )
    message = mail.outbox[0]
    assert_in_our_name_and_layout(message)
    assert "Hello from" not in message.body
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", message.body).group(0)
    assert f'href="{link}"' in html_of(message)  # the link is clickable in the HTML part


@pytest.mark.django_db
def test_the_password_reset_speaks_as_qualitybytes_in_the_layout(client):
    user = UserFactory(email="ada@example.com", name="Ada Lovelace")
    client.post(reverse("account_reset_password"), {"email": user.email})
    message = mail.outbox[0]
    assert_in_our_name_and_layout(message)
    assert message.body.startswith("Hello Ada Lovelace,")
    assert "/accounts/password/reset/key/" in html_of(message)


@pytest.mark.django_db
def test_a_name_in_the_html_part_is_escaped(client):
    UserFactory(email="ada@example.com", name="<b>Ada</b>")
    client.post(reverse("account_reset_password"), {"email": "ada@example.com"})
    html = html_of(mail.outbox[0])
    assert "<b>Ada</b>" not in html and "&lt;b&gt;Ada&lt;/b&gt;" in html

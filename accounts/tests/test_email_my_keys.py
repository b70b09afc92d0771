import logging

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from licensing.models import LicenseKeyStatus
from licensing.tests.factories import LicenseKeyFactory
from qualitybytes.models import OutboxEmail
from teams.tests.factories import MembershipFactory

URL = "/account/keys/email/"
SAME_ANSWER = "If an account exists for"


@pytest.fixture(autouse=True)
def clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


def ask(client, email):
    return client.post(URL, {"email": email})


@pytest.mark.django_db
class TestEmailMyKeys:
    def test_the_url_is_the_named_page(self):
        assert reverse("email_my_keys") == URL

    def test_the_login_page_links_to_it(self, client):
        page = client.get(reverse("account_login"))
        assert f'href="{URL}"' in page.content.decode()
        assert "Email me my keys" in page.content.decode()

    def test_it_emails_the_keys_of_that_account_only(self, client):
        owner = UserFactory(email="owner@example.com")
        own = LicenseKeyFactory(license__owner=owner, license__plan__name="Solo")
        membership = MembershipFactory(user=owner, team__name="Acme design")
        someone_else = LicenseKeyFactory()
        revoked = LicenseKeyFactory(license__owner=owner, status=LicenseKeyStatus.REVOKED)
        revoked.revoked_at = revoked.created_at
        revoked.save()

        response = ask(client, "Owner@Example.com")

        assert response.status_code == 200
        assert SAME_ANSWER in response.content.decode()
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["owner@example.com"]
        assert "license keys" in message.subject
        html = message.alternatives[0][0]
        for body in (message.body, html):
            assert own.plaintext in body
            assert membership.key.reveal() in body
            assert "Acme design" in body
            assert "Solo" in body
            assert someone_else.plaintext not in body
            assert revoked.plaintext not in body
        assert "QualityBytes" in html and "#f6f7fb" in html  # the emails' layout

    def test_it_answers_the_same_when_no_account_has_the_address(self, client):
        UserFactory(email="owner@example.com")
        LicenseKeyFactory(license__owner__email="other@example.com")
        known = ask(client, "owner@example.com")
        unknown = ask(client, "nobody@example.com")
        assert known.status_code == unknown.status_code == 200
        typed_out = [
            page.content.decode().replace(name, "X")
            for page, name in ((known, "owner@"), (unknown, "nobody@"))
        ]
        assert typed_out[0] == typed_out[1]
        assert [m.to for m in mail.outbox] == [["owner@example.com"]]

    def test_an_account_without_keys_is_told_so(self, client):
        UserFactory(email="owner@example.com")
        ask(client, "owner@example.com")
        assert "no license keys" in mail.outbox[0].body

    def test_a_verified_second_address_finds_the_account_but_an_unverified_one_does_not(self, client):
        owner = UserFactory(email="owner@example.com")
        key = LicenseKeyFactory(license__owner=owner)
        EmailAddress.objects.create(user=owner, email="work@example.com", verified=True, primary=False)
        EmailAddress.objects.create(user=owner, email="unverified@example.com", verified=False, primary=False)
        ask(client, "work@example.com")
        ask(client, "unverified@example.com")
        assert [m.to for m in mail.outbox] == [["work@example.com"]]
        assert key.plaintext in mail.outbox[0].body

    def test_an_inactive_account_gets_nothing(self, client):
        UserFactory(email="gone@example.com", is_active=False)
        response = ask(client, "gone@example.com")
        assert SAME_ANSWER in response.content.decode()
        assert mail.outbox == []

    def test_the_email_goes_through_the_outbox_sealed(self, client):
        owner = UserFactory(email="owner@example.com")
        key = LicenseKeyFactory(license__owner=owner)
        ask(client, "owner@example.com")
        row = OutboxEmail.objects.get(template="my-keys")
        assert row.status == "sent" and row.recipient == "owner@example.com"
        assert key.plaintext not in row.payload
        assert key.plaintext in row.content().text

    def test_no_log_line_holds_a_key(self, client, caplog):
        owner = UserFactory(email="owner@example.com")
        key = LicenseKeyFactory(license__owner=owner)
        with caplog.at_level(logging.DEBUG):
            ask(client, "owner@example.com")
        assert len(mail.outbox) == 1
        assert key.plaintext not in caplog.text
        assert key.plaintext not in "".join(str(record.args) for record in caplog.records)

    def test_an_invalid_address_is_a_field_error_and_sends_nothing(self, client):
        UserFactory(email="owner@example.com")
        response = ask(client, "owner-at-example.com")
        assert response.status_code == 200
        html = response.content.decode()
        assert 'id="id_email_errors"' in html
        assert "Enter a valid email address." in html
        assert SAME_ANSWER not in html
        assert mail.outbox == []
        assert not OutboxEmail.objects.exists()

    def test_an_empty_form_is_a_field_error(self, client):
        html = ask(client, "").content.decode()
        assert 'id="id_email_errors"' in html and "This field is required." in html

    def test_it_is_rate_limited_per_address(self, client):
        UserFactory(email="owner@example.com")
        answers = [ask(Client(REMOTE_ADDR=f"10.0.0.{n}"), "owner@example.com").status_code for n in range(4)]
        assert answers == [200, 200, 200, 429]
        assert len(mail.outbox) == 3

    def test_the_address_limit_counts_unknown_addresses_too(self, client):
        answers = [ask(Client(REMOTE_ADDR=f"10.0.0.{n}"), "nobody@example.com").status_code for n in range(4)]
        assert answers == [200, 200, 200, 429]

    def test_it_is_rate_limited_per_ip(self, client):
        answers = [ask(client, f"person{n}@example.com").status_code for n in range(11)]
        assert answers == [200] * 10 + [429]
        limited = ask(client, "another@example.com")
        assert limited.status_code == 429
        assert "Too many attempts" in limited.content.decode()

    def test_it_needs_the_csrf_token(self):
        UserFactory(email="owner@example.com")
        response = ask(Client(enforce_csrf_checks=True), "owner@example.com")
        assert response.status_code == 403
        assert mail.outbox == []


@pytest.mark.browser
def test_a_visitor_at_phone_width_gets_their_keys_from_the_login_page(page, live_server):
    owner = UserFactory(email="owner@example.com")
    key = LicenseKeyFactory(license__owner=owner)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(reverse("account_login"))
    page.click("text=Email me my keys")
    page.fill("input[name=email]", "not-an-address")
    page.click("button[type=submit]")
    assert page.locator("#id_email_errors").is_visible()
    page.fill("input[name=email]", "owner@example.com")
    page.click("button[type=submit]")
    assert page.locator("text=If an account exists for").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=page.screenshots / "email-my-keys-390.png", full_page=True)
    assert [message.to for message in mail.outbox] == [["owner@example.com"]]
    assert key.plaintext in mail.outbox[0].body

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache
from django.test import TestCase
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

STRONG_PASSWORD = "violet-tractor-harbour-91"


@pytest.fixture(autouse=True)
def clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


def link_in(message) -> str:
    match = re.search(r"https?://[^/\s]+(/\S+)", message.body)
    assert match, f"no link in {message.body!r}"
    return match.group(1)


def delivered(post):
    """Run a request and send what it queued in the outbox, as the commit does outside a test."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return post()


def signup(client, email="new@example.com", password=STRONG_PASSWORD, password2=None):
    return delivered(
        lambda: client.post(
            reverse("account_signup"),
            {"email": email, "password1": password, "password2": password2 or password},
        )
    )


@pytest.mark.django_db
class TestSignup:
    def test_it_creates_an_unverified_user_and_sends_a_verification_email(self, client):
        response = signup(client)
        assert response.status_code == 302
        user = User.objects.get(email="new@example.com")
        assert user.check_password(STRONG_PASSWORD)
        assert not EmailAddress.objects.get(user=user).verified
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == ["new@example.com"]
        assert "/accounts/confirm-email/" in mail.outbox[0].body

    def test_the_verification_link_verifies_and_logs_in(self, client):
        signup(client)
        confirm_url = link_in(mail.outbox[0])
        page = client.get(confirm_url)
        assert page.status_code == 200
        assert b"Confirm" in page.content
        response = client.post(confirm_url)
        assert response.status_code == 302
        assert EmailAddress.objects.get(email="new@example.com").verified
        assert client.get(reverse("home")).wsgi_request.user.email == "new@example.com"

    def test_it_lowercases_the_email(self, client):
        signup(client, email="Mixed.Case@Example.COM")
        assert User.objects.filter(email="mixed.case@example.com").exists()

    def test_a_taken_email_is_refused_beside_the_field(self, client):
        UserFactory(email="taken@example.com")
        response = signup(client, email="taken@example.com")
        assert response.status_code == 200
        assert "already registered" in response.context["form"].errors["email"][0]
        assert b'class="field has-error"' in response.content
        assert User.objects.filter(email="taken@example.com").count() == 1
        assert mail.outbox == []

    def test_a_weak_password_is_refused_and_creates_nothing(self, client):
        response = signup(client, password="password")
        assert response.status_code == 200
        assert response.context["form"].errors["password1"]
        assert not User.objects.exists()

    def test_a_malformed_email_is_refused_and_creates_nothing(self, client):
        response = signup(client, email="not-an-email")
        assert response.status_code == 200
        assert "email" in response.context["form"].errors
        assert b"field-errors" in response.content
        assert not User.objects.exists()

    def test_mismatched_passwords_are_refused(self, client):
        response = signup(client, password2="something-else-entirely-7")
        assert response.status_code == 200
        assert response.context["form"].errors
        assert not User.objects.exists()

    def test_a_tampered_verification_link_shows_a_clear_page(self, client):
        response = client.get("/accounts/confirm-email/not-a-real-key/")
        assert response.status_code == 200
        assert b"expired or is invalid" in response.content
        post = client.post("/accounts/confirm-email/not-a-real-key/")
        assert post.status_code in (200, 404)


@pytest.mark.django_db
class TestLogin:
    def test_a_verified_user_logs_in_with_email_and_out_again(self, client):
        user = UserFactory(email="ada@example.com")
        response = client.post(
            reverse("account_login"), {"login": "ADA@example.com", "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 302
        assert int(client.session["_auth_user_id"]) == user.pk
        response = client.post(reverse("account_logout"))
        assert response.status_code == 302
        assert "_auth_user_id" not in client.session

    def test_an_unverified_user_is_sent_to_verify_first(self, client):
        UserFactory(email="late@example.com", verified=False)
        response = delivered(
            lambda: client.post(
                reverse("account_login"), {"login": "late@example.com", "password": DEFAULT_PASSWORD}
            )
        )
        assert response.status_code == 302
        assert "_auth_user_id" not in client.session
        assert mail.outbox and mail.outbox[0].to == ["late@example.com"]

    def test_a_wrong_password_shows_a_form_error(self, client):
        UserFactory(email="ada@example.com")
        response = client.post(reverse("account_login"), {"login": "ada@example.com", "password": "wrong"})
        assert response.status_code == 200
        assert response.context["form"].non_field_errors()
        assert b"form-errors" in response.content
        assert "_auth_user_id" not in client.session

    def test_failed_logins_are_rate_limited_per_account(self, client):
        UserFactory(email="ada@example.com")
        for attempt in range(5):
            client.post(reverse("account_login"), {"login": "ada@example.com", "password": f"wrong{attempt}"})
        # Even the right password is refused while the limit holds.
        response = client.post(
            reverse("account_login"), {"login": "ada@example.com", "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 200
        assert "Too many failed login attempts" in response.content.decode()
        assert "_auth_user_id" not in client.session

    def test_login_attempts_are_rate_limited_per_ip(self, client, settings):
        settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "3/m/ip"}
        statuses = [
            client.post(reverse("account_login"), {"login": f"u{i}@example.com", "password": "x"}).status_code
            for i in range(5)
        ]
        assert statuses[:3] == [200, 200, 200]
        assert statuses[3:] == [429, 429]


@pytest.mark.django_db
class TestPasswords:
    def test_password_reset_sends_a_link_that_sets_a_new_password(self, client):
        user = UserFactory(email="ada@example.com")
        response = delivered(
            lambda: client.post(reverse("account_reset_password"), {"email": "ada@example.com"})
        )
        assert response.status_code == 302
        assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ada@example.com"]
        reset_url = link_in(mail.outbox[0])
        form_page = client.get(reset_url, follow=True)
        assert form_page.status_code == 200
        set_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else reset_url
        response = client.post(set_url, {"password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD})
        assert response.status_code == 302
        user.refresh_from_db()
        assert user.check_password(STRONG_PASSWORD)

    def test_reset_for_an_unknown_email_says_so_and_sends_nothing(self, client):
        response = client.post(reverse("account_reset_password"), {"email": "nobody@example.com"})
        assert response.status_code == 200
        assert response.context["form"].errors["email"]
        assert mail.outbox == []

    def test_a_tampered_reset_link_shows_a_clear_page(self, client, user):
        response = client.get("/accounts/password/reset/key/zz-bad-token/", follow=True)
        assert response.status_code == 200
        assert b"Bad Token" in response.content or b"invalid" in response.content

    def test_a_logged_in_user_changes_their_password(self, client, user):
        client.force_login(user)
        response = client.post(
            reverse("account_change_password"),
            {"oldpassword": DEFAULT_PASSWORD, "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
        )
        assert response.status_code == 302
        user.refresh_from_db()
        assert user.check_password(STRONG_PASSWORD)

    def test_a_wrong_current_password_changes_nothing(self, client, user):
        client.force_login(user)
        response = client.post(
            reverse("account_change_password"),
            {"oldpassword": "wrong", "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
        )
        assert response.status_code == 200
        assert response.context["form"].errors["oldpassword"]
        user.refresh_from_db()
        assert user.check_password(DEFAULT_PASSWORD)

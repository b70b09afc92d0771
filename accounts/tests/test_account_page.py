"""The account page: name, email change (the Stripe customer follows), password, 2FA status."""

import re

import pytest
import stripe
from allauth.account.models import EmailAddress
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.core import mail
from django.core.cache import cache
from djstripe.models import Customer

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory, enrol_totp
from teams.emails import send_member_removed
from teams.tests.factories import MembershipFactory, TeamFactory

pytestmark = pytest.mark.django_db

ACCOUNT = "/account/"
LOGIN = "/accounts/login/"
EMAIL = "/accounts/email/"
REAUTHENTICATE = "/accounts/reauthenticate/"
PASSWORD_CHANGE = "/accounts/password/change/"


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()
    yield
    cache.clear()


def log_in(client, user) -> None:
    """Through the site's login, as a person does (allauth records how they logged in)."""
    response = client.post(LOGIN, {"login": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302, response.content.decode()


def test_visitors_are_sent_to_the_login(client):
    response = client.get(ACCOUNT)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_the_page_shows_name_email_password_and_two_factor(client, user):
    client.force_login(user)
    html = client.get(ACCOUNT).content.decode()
    for heading in ("Name", "Email address", "Password", "Two-factor authentication"):
        assert f"<h2>{heading}</h2>" in html
    assert user.email in html and f'value="{user.name}"' in html
    assert "Off." in html and "Set it up" in html
    assert 'href="/account/"' in html  # the nav links here


def test_the_page_says_when_two_factor_is_on_and_how_many_recovery_codes_are_left(client, user):
    enrol_totp(user)
    RecoveryCodes.activate(user)
    client.force_login(user)
    html = client.get(ACCOUNT).content.decode()
    assert "On: logging in asks for a code" in html and "10 recovery codes left" in html


def test_the_page_costs_a_fixed_number_of_queries(client, user, django_assert_num_queries):
    enrol_totp(user)
    client.force_login(user)
    # session, user, email addresses, authenticators
    with django_assert_num_queries(4):
        assert client.get(ACCOUNT).status_code == 200


def test_a_name_is_saved(client, user):
    client.force_login(user)
    response = client.post(ACCOUNT, {"name": "  Ada   Lovelace "})
    assert response.status_code == 302 and response["Location"] == ACCOUNT
    user.refresh_from_db()
    assert user.name == "Ada Lovelace"
    assert "Your name is saved." in client.get(ACCOUNT).content.decode()


def test_an_empty_name_goes_by_the_email_address(client, user):
    client.force_login(user)
    client.post(ACCOUNT, {"name": ""})
    user.refresh_from_db()
    assert user.name == "" and user.display_name == user.email and user.name_with_email == user.email


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("boss@example.com", "cannot contain “@”"),
        ("Ada\x07Lovelace", "Use letters, spaces and punctuation only."),
        ("A" * 151, "at most 150 characters"),
    ],
)
def test_a_bad_name_is_refused_beside_the_field_and_changes_nothing(client, user, name, error):
    before = user.name
    client.force_login(user)
    response = client.post(ACCOUNT, {"name": name})
    assert response.status_code == 200
    html = response.content.decode()
    errors = re.search(r'<ul class="field-errors" id="id_name_errors">(.*?)</ul>', html, re.S)
    assert errors and error in errors.group(1)
    user.refresh_from_db()
    assert user.name == before
    assert f"Logged in as <strong>{user.email}</strong> ({before})" in html


def test_changing_the_email_verifies_the_new_address_then_the_stripe_customer_follows(
    client, stripe_api, django_capture_on_commit_callbacks
):
    user = UserFactory(email="old@example.com")
    customer, _ = Customer.get_or_create(subscriber=user)
    assert stripe.Customer.retrieve(customer.id).email == "old@example.com"
    log_in(client, user)

    # allauth asks for the password again, then carries on with the change it was asked for.
    response = client.post(EMAIL, {"email": "new@example.com", "action_add": ""})
    assert response.status_code == 302 and response["Location"].startswith(REAUTHENTICATE)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends after the commit
        response = client.post(response["Location"], {"password": DEFAULT_PASSWORD}, follow=True)
    assert response.status_code == 200
    assert [message.to for message in mail.outbox] == [["new@example.com"]]

    # Until the link is opened nothing moves: the login, the Stripe customer, the page says so.
    user.refresh_from_db()
    assert user.email == "old@example.com"
    assert "Changing to <strong>new@example.com</strong>" in client.get(ACCOUNT).content.decode()
    assert stripe.Customer.retrieve(customer.id).email == "old@example.com"

    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", mail.outbox[-1].body).group(1)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(link)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email == "new@example.com"
    assert list(EmailAddress.objects.filter(user=user).values_list("email", "verified", "primary")) == [
        ("new@example.com", True, True)
    ]
    assert stripe.Customer.retrieve(customer.id).email == "new@example.com"
    customer.refresh_from_db()
    assert customer.email == "new@example.com"
    # The old address is told, so a change made by someone else does not go unnoticed.
    assert ["old@example.com"] in [message.to for message in mail.outbox]


def test_an_address_of_another_account_is_refused_beside_the_field(client, user):
    other = UserFactory()
    log_in(client, user)
    client.post(REAUTHENTICATE, {"password": DEFAULT_PASSWORD})
    response = client.post(EMAIL, {"email": other.email, "action_add": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'<ul class="field-errors" id="id_email_errors">\s*<li>[^<]+</li>', html)
    assert not EmailAddress.objects.filter(user=user, email=other.email).exists()


def test_a_stripe_outage_does_not_undo_a_confirmed_email_change(
    client, stripe_api, django_capture_on_commit_callbacks, caplog
):
    user = UserFactory(email="old@example.com")
    customer, _ = Customer.get_or_create(subscriber=user)
    log_in(client, user)
    client.post(REAUTHENTICATE, {"password": DEFAULT_PASSWORD})
    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends after the commit
        client.post(EMAIL, {"email": "new@example.com", "action_add": ""})
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", mail.outbox[-1].body).group(1)
    simulator, stripe.api_base = stripe.api_base, "http://127.0.0.1:9"  # nothing listens there
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(link)
    finally:
        stripe.api_base = simulator
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).email == "new@example.com"
    assert "the email could not follow the account" in caplog.text
    assert stripe.Customer.retrieve(customer.id).email == "old@example.com"


def test_the_password_is_changed_with_the_old_one(client, user):
    log_in(client, user)
    response = client.post(
        PASSWORD_CHANGE,
        {
            "oldpassword": DEFAULT_PASSWORD,
            "password1": "quiet-harbour-lamp-58",
            "password2": "quiet-harbour-lamp-58",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("quiet-harbour-lamp-58")


def test_a_wrong_old_password_is_refused_beside_the_field(client, user):
    log_in(client, user)
    response = client.post(
        PASSWORD_CHANGE,
        {"oldpassword": "not-it", "password1": "quiet-harbour-lamp-58", "password2": "quiet-harbour-lamp-58"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'id="id_oldpassword_errors"><li>Please type your current password.</li>', html)
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_team_pages_and_emails_show_a_person_once_by_name_and_address(
    client, django_capture_on_commit_callbacks
):
    team = TeamFactory()
    owner = team.license.owner
    member = MembershipFactory(team=team).user
    client.force_login(member)
    html = client.get(f"/team/{team.public_id}/").content.decode()
    assert f"owned by {owner.name} ({owner.email})" in html
    nameless = UserFactory(name="")
    assert nameless.name_with_email == nameless.email

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        send_member_removed(user=member, team=team, by=owner)
    assert f"{owner.name} ({owner.email}) removed you" in mail.outbox[-1].body

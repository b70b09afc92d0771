"""The operator panel's door: staff log in through the site's login with their authenticator code,
and no admin page opens for staff without two-factor authentication."""

import pytest
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory, totp_code
from qualitybytes.admin_site import ENROL_MESSAGE

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
AUTHENTICATE = "/accounts/2fa/authenticate/"
ACTIVATE = "/accounts/2fa/totp/activate/"
REAUTHENTICATE = "/accounts/reauthenticate/"


@pytest.fixture(autouse=True)
def fresh_counters(settings):
    """Rate-limit windows and used TOTP codes live in the cache. A code computed just before a
    30-second boundary is still accepted just after it, as a person's phone would be."""
    settings.MFA_TOTP_TOLERANCE = 1
    cache.clear()
    yield
    cache.clear()


def every_admin_url() -> list[str]:
    """The index, every app's index, and every registered model's list and add page."""
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        meta = model._meta
        urls.append(reverse("admin:app_list", args=[meta.app_label]))
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
    return sorted(set(urls))


def test_the_url_list_covers_the_registered_admins():
    assert len(every_admin_url()) > 2 * len(admin.site._registry)


def test_staff_without_an_authenticator_are_refused_every_admin_url(client):
    staff = UserFactory(is_staff=True, is_superuser=True, totp=False)
    client.force_login(staff)
    refused = []
    for url in every_admin_url():
        response = client.get(url)
        if not (response.status_code == 302 and response["Location"].startswith(ADMIN_LOGIN)):
            refused.append((url, response.status_code))
    assert refused == []
    # A change page and an admin action are behind the same door.
    change = reverse("admin:accounts_user_change", args=[staff.pk])
    assert client.get(change)["Location"].startswith(ADMIN_LOGIN)
    delete = {"action": "delete_selected", "_selected_action": [staff.pk]}
    response = client.post(reverse("admin:accounts_user_changelist"), delete)
    assert response.status_code == 302 and response["Location"].startswith(ADMIN_LOGIN)
    assert User.objects.filter(pk=staff.pk).exists()


def test_staff_without_an_authenticator_are_sent_to_set_one_up_with_a_message(client):
    staff = UserFactory(is_staff=True, totp=False)
    client.force_login(staff)
    response = client.get("/admin/licensing/license/", follow=False)
    response = client.get(response["Location"])
    assert response.status_code == 302 and response["Location"] == ACTIVATE
    assert [str(message) for message in get_messages(response.wsgi_request)] == [ENROL_MESSAGE]


def test_staff_with_an_authenticator_open_the_admin(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    assert Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists()
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/licensing/license/").status_code == 200


def test_the_admin_login_sends_visitors_to_the_site_login_and_back(client):
    response = client.get(ADMIN_LOGIN + "?next=/admin/licensing/license/")
    assert response.status_code == 302
    assert response["Location"] == LOGIN + "?next=/admin/licensing/license/"
    assert "no-store" in response["Cache-Control"]


def test_the_admin_login_does_not_send_anyone_off_site(client):
    response = client.get(ADMIN_LOGIN + "?next=https://evil.example/")
    assert response["Location"] == LOGIN + "?next=/admin/"


def test_the_admin_login_checks_no_password(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    response = client.post(ADMIN_LOGIN, {"username": staff.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert "_auth_user_id" not in client.session


def test_a_customer_is_told_the_panel_is_for_staff(client, user):
    client.force_login(user)
    response = client.get("/admin/")
    assert response["Location"].startswith(ADMIN_LOGIN)
    response = client.get(response["Location"])
    assert response.status_code == 403
    assert "The operator panel is for QualityBytes staff" in response.content.decode()


def test_staff_log_in_with_password_and_authenticator_code_end_to_end(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    response = client.post(LOGIN, {"login": staff.email, "password": DEFAULT_PASSWORD, "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == AUTHENTICATE
    # The password alone is not a login.
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/")["Location"].startswith(ADMIN_LOGIN)

    right = totp_code(staff.totp_secret)
    response = client.post(AUTHENTICATE, {"code": "000000" if right != "000000" else "999999"})
    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert "_auth_user_id" not in client.session

    response = client.post(AUTHENTICATE, {"code": right})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_wrong_authenticator_codes_are_rate_limited_per_account(client):
    staff = UserFactory(is_staff=True)
    client.post(LOGIN, {"login": staff.email, "password": DEFAULT_PASSWORD})
    right = totp_code(staff.totp_secret)
    wrong = "111111" if right != "111111" else "222222"
    for _ in range(5):  # ACCOUNT_RATE_LIMITS["login_failed"]: 5 per account per 5 minutes
        assert "Incorrect code." in client.post(AUTHENTICATE, {"code": wrong}).content.decode()
    response = client.post(AUTHENTICATE, {"code": right})
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_new_staff_member_logs_in_enrols_and_opens_the_admin(client, monkeypatch):
    # What `make staff` runs, then the first visit to the admin.
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-staff-password-7")
    call_command("createsuperuser", "--noinput", "--email", "ops@qualitybytes.test", verbosity=0)
    staff = User.objects.get(email="ops@qualitybytes.test")

    response = client.get("/admin/")
    response = client.get(response["Location"])
    assert response["Location"] == LOGIN + "?next=/admin/"
    response = client.post(
        LOGIN, {"login": staff.email, "password": "a-long-staff-password-7", "next": "/admin/"}
    )
    # No verification email is needed: the address was typed by the operator on the server.
    assert response.status_code == 302 and response["Location"] == "/admin/"

    response = client.get("/admin/", follow=True)
    # allauth asks for the password again before a second factor is added.
    assert response.redirect_chain[-1][0] == REAUTHENTICATE + "?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F"
    assert ENROL_MESSAGE in response.content.decode()
    response = client.post(
        response.redirect_chain[-1][0], {"password": "a-long-staff-password-7", "next": ACTIVATE}, follow=True
    )
    assert response.redirect_chain[-1][0] == ACTIVATE
    assert "no-store" in response["Cache-Control"]

    secret = client.session["mfa.totp.secret"]
    response = client.post(ACTIVATE, {"code": totp_code(secret)})
    assert response.status_code == 302 and response["Location"] == reverse("mfa_view_recovery_codes")
    page = client.get(response["Location"])
    assert "Continue to the operator panel" in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    assert client.get("/admin/").status_code == 200


def test_totp_secrets_are_stored_encrypted(db):
    staff = UserFactory(is_staff=True)
    stored = Authenticator.objects.get(user=staff, type=Authenticator.Type.TOTP).data["secret"]
    assert staff.totp_secret not in stored


def test_the_admin_asks_the_database_about_the_second_factor_once_per_page(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    client.get("/admin/accounts/user/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/admin/accounts/user/")
    asked = [query["sql"] for query in queries.captured_queries if "mfa_authenticator" in query["sql"]]
    assert len(asked) == 1

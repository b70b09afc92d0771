"""The operator panel as a whole: who gets in, the login limit, branding, and every page of every admin."""

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.core.cache import cache
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from licensing.models import UsageDaily, ValidationEvent
from licensing.tests.factories import DeviceFactory, LicenseFactory, LicenseKeyFactory
from qualitybytes.admin_site import LOGIN_FAILURES_PER_ACCOUNT, LOGIN_FAILURES_PER_IP, OperatorAdminSite
from teams.tests.factories import InvitationFactory, MembershipFactory

LOGIN = "/admin/login/"


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()
    yield
    cache.clear()


def test_admin_site_is_the_operator_panel():
    assert isinstance(admin.site, OperatorAdminSite)


@pytest.mark.parametrize("path", ["/admin/", "/admin/accounts/user/", "/admin/licensing/license/"])
def test_anonymous_visitors_are_sent_to_the_login(client, db, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


@pytest.mark.parametrize("path", ["/admin/", "/admin/accounts/user/", "/admin/licensing/license/"])
def test_customers_get_no_admin_page(client, user, path):
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_a_customer_cannot_log_in_to_the_admin(client, user):
    response = client.post(LOGIN, {"username": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert "staff account" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_staff_log_in_and_see_the_branded_index(client, db):
    staff = UserFactory(is_staff=True, is_superuser=True)
    response = client.post(LOGIN, {"username": staff.email, "password": DEFAULT_PASSWORD, "next": "/admin/"})
    assert response.status_code == 302
    html = client.get("/admin/").content.decode()
    assert "QualityBytes" in html and "operator panel" in html
    assert "admin-qb/admin.css" in html
    assert "cdn" not in html.lower()


def test_failed_staff_logins_are_limited_per_account(client, db):
    staff = UserFactory(is_staff=True)
    for _ in range(LOGIN_FAILURES_PER_ACCOUNT):
        response = client.post(LOGIN, {"username": staff.email, "password": "wrong"})
        assert response.status_code == 200
    # Now even the right password is not checked until the window passes.
    response = client.post(LOGIN, {"username": staff.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another account from the same address is still allowed.
    other = UserFactory(is_staff=True)
    assert client.post(LOGIN, {"username": other.email, "password": DEFAULT_PASSWORD}).status_code == 302


def test_rotating_ips_does_not_buy_more_guesses_at_one_account(client, db):
    staff = UserFactory(is_staff=True)
    for number in range(LOGIN_FAILURES_PER_ACCOUNT):
        response = client.post(
            LOGIN, {"username": staff.email, "password": "wrong"}, REMOTE_ADDR=f"203.0.113.{number + 1}"
        )
        assert response.status_code == 200
    for address in ("198.51.100.7", "2001:db8::1"):
        response = client.post(
            LOGIN, {"username": f" {staff.email.upper()} ", "password": DEFAULT_PASSWORD}, REMOTE_ADDR=address
        )
        assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_one_ip_is_limited_across_accounts(client, db):
    for number in range(LOGIN_FAILURES_PER_IP):
        response = client.post(LOGIN, {"username": f"guess{number}@example.com", "password": "wrong"})
        assert response.status_code == 200
    staff = UserFactory(is_staff=True)
    assert client.post(LOGIN, {"username": staff.email, "password": DEFAULT_PASSWORD}).status_code == 429
    # From another address the same account logs in.
    response = client.post(
        LOGIN, {"username": staff.email, "password": DEFAULT_PASSWORD}, REMOTE_ADDR="198.51.100.7"
    )
    assert response.status_code == 302


def test_the_login_limit_forgets_after_a_success(client, db):
    staff = UserFactory(is_staff=True)
    for _ in range(LOGIN_FAILURES_PER_ACCOUNT - 1):
        client.post(LOGIN, {"username": staff.email, "password": "wrong"})
    assert client.post(LOGIN, {"username": staff.email, "password": DEFAULT_PASSWORD}).status_code == 302
    client.logout()
    # A fresh allowance: as many failures as ever before the lock, then the right password works.
    for _ in range(LOGIN_FAILURES_PER_ACCOUNT - 1):
        assert client.post(LOGIN, {"username": staff.email, "password": "wrong"}).status_code == 200
    assert client.post(LOGIN, {"username": staff.email, "password": DEFAULT_PASSWORD}).status_code == 302


def test_ordinary_admin_changes_are_in_the_history_with_who(admin_client, admin_user, plan):
    url = reverse("admin:billing_plan_change", args=[plan.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(name="Solo Plus", entitlements='["core"]')
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = LogEntry.objects.get()
    assert entry.user == admin_user and entry.object_id == str(plan.pk)


# --- every registered admin ---------------------------------------------------------------------


@pytest.fixture
def one_of_everything(db, plan):
    key = LicenseKeyFactory(license=LicenseFactory(plan=plan, stripe_subscription_id="sub_smoke"))
    DeviceFactory(key=key)
    ValidationEvent.objects.create(key=key, code="VALID")
    UsageDaily.objects.create(key=key, day=timezone.localdate(), feature=UsageDaily.VALIDATIONS, count=3)
    membership = MembershipFactory()
    InvitationFactory(team=membership.team)


def _registered():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.mark.parametrize(
    "model,model_admin", _registered(), ids=lambda v: getattr(v, "_meta", None) and v._meta.label
)
def test_every_admin_page_renders(admin_client, admin_user, one_of_everything, model, model_admin):
    opts = model._meta
    name = f"admin:{opts.app_label}_{opts.model_name}"
    assert admin_client.get(reverse(f"{name}_changelist")).status_code == 200
    request = RequestFactory().get("/")
    request.user = admin_user
    if model_admin.has_add_permission(request):
        assert admin_client.get(reverse(f"{name}_add")).status_code == 200
    obj = model._default_manager.first()
    if obj is not None:
        assert admin_client.get(reverse(f"{name}_change", args=[obj.pk])).status_code == 200

"""The operator panel as a whole: who gets in, branding, and every page of every admin. Logging in
(the site's login, its limits and the second factor) is tested in accounts/tests/test_mfa_admin.py."""

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.core.cache import cache
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from licensing.models import UsageDaily, ValidationEvent
from licensing.tests.factories import DeviceFactory, LicenseFactory, LicenseKeyFactory
from qualitybytes.admin_site import OperatorAdminSite
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


def test_staff_see_the_branded_index(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    html = client.get("/admin/").content.decode()
    assert "QualityBytes" in html and "operator panel" in html
    assert "admin-qb/admin.css" in html
    assert "cdn" not in html.lower()


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

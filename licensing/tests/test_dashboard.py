"""The customer dashboard and the customer API: owner sees theirs, an outsider gets 404."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken
from accounts.tests.factories import UserFactory
from licensing.models import Device, UsageDaily
from licensing.tests.factories import DeviceFactory, LicenseKeyFactory


@pytest.fixture
def key(db, user):
    return LicenseKeyFactory(license__owner=user)


@pytest.fixture
def outsider(db):
    return UserFactory()


def test_the_dashboard_needs_a_login(client, db):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_a_user_without_a_plan_is_pointed_to_pricing(client, user):
    client.force_login(user)
    response = client.get(reverse("dashboard"))
    assert b"You have no plan yet" in response.content
    assert reverse("pricing").encode() in response.content


def test_the_dashboard_shows_my_key_masked_with_its_devices(client, user, key):
    DeviceFactory(key=key, name="Work laptop", platform="macos", app_version="5.1.0")
    client.force_login(user)
    html = client.get(reverse("dashboard")).content.decode()
    assert key.masked in html
    assert key.plaintext not in html
    assert "Work laptop" in html and "macos" in html and "5.1.0" in html
    assert "1 / 2 devices" in html
    assert "Remove device" in html


@pytest.mark.parametrize(
    ("change", "badge"),
    [
        ({}, '<span class="badge badge-active">Active</span>'),
        ({"status": "grace"}, '<span class="badge badge-grace">Past due</span>'),
        ({"suspended_at": timezone.now()}, '<span class="badge badge-suspended">Suspended</span>'),
        (
            {"expires_at": timezone.now() - timedelta(days=1)},
            '<span class="badge badge-expired">Expired</span>',
        ),
    ],
)
def test_the_key_badge_says_the_state_in_words(client, user, key, change, badge):
    """The badge reads as the license-state vocabulary, never a raw validation code (VALID, GRACE)."""
    for name, value in change.items():
        setattr(key.license, name, value)
    if change.get("status") == "grace":
        key.license.grace_ends_at = timezone.now() + timedelta(days=5)
    key.license.save()
    client.force_login(user)
    html = client.get(reverse("dashboard")).content.decode()
    assert badge in html
    assert ">VALID<" not in html and ">GRACE<" not in html


def test_the_usage_chart_shows_30_days_of_validations(client, user, key):
    today = timezone.now().date()
    UsageDaily.objects.create(key=key, day=today, feature=UsageDaily.VALIDATIONS, count=12)
    UsageDaily.objects.create(key=key, day=today - timedelta(days=3), feature=UsageDaily.VALIDATIONS, count=4)
    UsageDaily.objects.create(
        key=key, day=today - timedelta(days=40), feature=UsageDaily.VALIDATIONS, count=99
    )
    UsageDaily.objects.create(key=key, day=today, feature="export_pdf", count=7)
    client.force_login(user)
    response = client.get(reverse("dashboard"))
    chart = response.context["chart"]
    assert len(chart["bars"]) == 30
    assert chart["total"] == 16 and chart["peak"] == 12
    html = response.content.decode()
    assert html.count('class="chart-bar"') == 30
    assert "export_pdf" in html


def test_dashboard_queries_do_not_grow_with_keys_and_devices(client, user, django_assert_max_num_queries):
    def render():
        client.force_login(user)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("dashboard")).status_code == 200
        return len(ctx.captured_queries)

    first = LicenseKeyFactory(license__owner=user)
    DeviceFactory(key=first)
    few = render()
    for _ in range(4):
        extra = LicenseKeyFactory(license__owner=user)
        DeviceFactory.create_batch(2, key=extra)
    assert render() == few


def test_removing_a_device_frees_its_slot(client, user, key):
    device = DeviceFactory(key=key)
    client.force_login(user)
    response = client.post(reverse("device_remove", args=[device.public_id]))
    assert response.status_code == 302
    assert not Device.objects.filter(pk=device.pk).exists()


def test_an_outsider_cannot_remove_my_device(client, outsider, key):
    device = DeviceFactory(key=key)
    client.force_login(outsider)
    assert client.post(reverse("device_remove", args=[device.public_id])).status_code == 404
    assert Device.objects.filter(pk=device.pk).exists()


def test_removing_a_device_needs_post(client, user, key):
    device = DeviceFactory(key=key)
    client.force_login(user)
    assert client.get(reverse("device_remove", args=[device.public_id])).status_code == 405


class TestCustomerApi:
    def test_my_licenses_lists_my_keys_only(self, client, user, key, outsider):
        LicenseKeyFactory(license__owner=outsider)
        client.force_login(user)
        data = client.get("/api/v1/me/licenses").json()
        assert [item["key"]["prefix"] for item in data] == [key.prefix]
        assert data[0]["is_owner"] is True
        assert data[0]["state"] == "VALID"
        assert key.plaintext not in str(data)

    def test_reveal_returns_my_key_and_needs_csrf_with_a_session(self, user, key):
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        url = reverse("me-key-reveal", args=[key.public_id])
        assert client.post(url).status_code == 403
        client.get(reverse("dashboard"))
        token = client.cookies["csrftoken"].value
        response = client.post(url, HTTP_X_CSRFTOKEN=token)
        assert response.status_code == 200
        assert response.json() == {"key": key.plaintext}

    def test_reveal_with_an_api_token_needs_no_csrf(self, client, user, key):
        _, plaintext = ApiToken.issue(user=user, name="script")
        response = client.post(
            reverse("me-key-reveal", args=[key.public_id]), HTTP_AUTHORIZATION=f"Bearer {plaintext}"
        )
        assert response.status_code == 200

    def test_devices_list_and_remove(self, client, user, key):
        device = DeviceFactory(key=key, name="Desk")
        client.force_login(user)
        data = client.get("/api/v1/me/devices").json()
        assert [(d["id"], d["name"]) for d in data] == [(str(device.public_id), "Desk")]
        assert client.delete(f"/api/v1/me/devices/{device.public_id}").status_code == 204
        assert client.get("/api/v1/me/devices").json() == []

    def test_usage_window_is_validated(self, client, user, key):
        client.force_login(user)
        assert len(client.get("/api/v1/me/usage").json()["days"]) == 30
        assert len(client.get("/api/v1/me/usage?days=7").json()["days"]) == 7
        for bad in ("0", "91", "x"):
            response = client.get(f"/api/v1/me/usage?days={bad}")
            assert response.status_code == 400
            assert "days" in response.json()["errors"]

    def test_anonymous_requests_are_refused(self, client, db):
        for url in ("/api/v1/me/licenses", "/api/v1/me/devices", "/api/v1/me/usage"):
            assert client.get(url).status_code in (401, 403)


def test_isolation_sweep_an_outsider_gets_404_for_every_object_of_mine(client, key, outsider):
    device = DeviceFactory(key=key)
    client.force_login(outsider)
    assert client.post(reverse("me-key-reveal", args=[key.public_id])).status_code == 404
    assert client.delete(f"/api/v1/me/devices/{device.public_id}").status_code == 404
    assert client.post(reverse("device_remove", args=[device.public_id])).status_code == 404
    assert client.get("/api/v1/me/licenses").json() == []
    assert client.get("/api/v1/me/devices").json() == []
    assert key.masked not in client.get(reverse("dashboard")).content.decode()
    assert Device.objects.filter(pk=device.pk).exists()

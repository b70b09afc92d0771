import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from licensing import keys, services, tokens
from licensing.models import Device, LicenseStatus
from licensing.tests.factories import DeviceFactory, LicenseFactory, LicenseKeyFactory


def post(client, path, **body):
    return client.post(f"/api/v1/licenses/{path}", body, content_type="application/json")


def test_activating_a_new_device_creates_it_and_returns_a_token(client, license_key):
    response = post(
        client, "activate", key=license_key.plaintext, fingerprint="fp-1", name="Ada's Mac", platform="macos"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["activated"] is True
    assert body["code"] == "VALID"
    assert body["device"]["fingerprint"] == "fp-1"
    assert body["device"]["name"] == "Ada's Mac"
    assert body["license"]["devices"] == 1
    assert tokens.verify(body["token"])["fingerprint"] == "fp-1"
    device = Device.objects.get(key=license_key)
    assert device.last_ip == "127.0.0.1"


def test_activating_the_same_fingerprint_again_is_idempotent(client, license_key):
    assert post(client, "activate", key=license_key.plaintext, fingerprint="fp-1").status_code == 201
    response = post(client, "activate", key=license_key.plaintext, fingerprint="fp-1", app_version="4.3")
    assert response.status_code == 200
    assert response.json()["activated"] is True
    assert Device.objects.filter(key=license_key).count() == 1
    assert Device.objects.get(key=license_key).app_version == "4.3"


def test_activation_over_the_device_limit_is_refused_with_409(client, license_key):
    for fingerprint in ("fp-1", "fp-2"):
        assert post(client, "activate", key=license_key.plaintext, fingerprint=fingerprint).status_code == 201
    response = post(client, "activate", key=license_key.plaintext, fingerprint="fp-3")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "TOO_MANY_DEVICES"
    assert body["activated"] is False
    assert body["token"] is None
    assert Device.objects.filter(key=license_key).count() == 2


def test_a_stale_device_frees_its_slot_and_can_come_back_later(client, license_key, settings):
    old = timezone.now() - timedelta(days=settings.LICENSE_DEVICE_STALE_DAYS + 1)
    DeviceFactory(key=license_key, fingerprint="old", first_seen_at=old, last_heartbeat_at=old)
    DeviceFactory(key=license_key, fingerprint="fp-1")
    assert post(client, "activate", key=license_key.plaintext, fingerprint="fp-2").status_code == 201
    assert post(client, "activate", key=license_key.plaintext, fingerprint="old").status_code == 409
    assert post(client, "deactivate", key=license_key.plaintext, fingerprint="fp-1").status_code == 200
    assert post(client, "activate", key=license_key.plaintext, fingerprint="old").status_code == 201


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"revoked_at": timezone.now()}, "REVOKED"),
        ({"suspended_at": timezone.now()}, "SUSPENDED"),
        ({"expires_at": timezone.now() - timedelta(days=1)}, "EXPIRED"),
        ({"status": LicenseStatus.INACTIVE}, "INACTIVE"),
    ],
)
def test_activation_on_an_unusable_license_is_refused_with_403(client, license_key, change, code):
    for field, value in change.items():
        setattr(license_key.license, field, value)
    license_key.license.save()
    response = post(client, "activate", key=license_key.plaintext, fingerprint="fp-1")
    assert response.status_code == 403
    assert response.json()["code"] == code
    assert not Device.objects.exists()


def test_activation_with_an_unknown_key_is_404(client, db):
    response = post(client, "activate", key=keys.generate(), fingerprint="fp-1")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


def test_activation_needs_a_fingerprint(client, license_key):
    response = post(client, "activate", key=license_key.plaintext)
    assert response.status_code == 400
    assert "fingerprint" in response.json()["errors"]


def test_deactivating_removes_the_device(client, license_key):
    DeviceFactory(key=license_key, fingerprint="fp-1")
    response = post(client, "deactivate", key=license_key.plaintext, fingerprint="fp-1")
    assert response.status_code == 200
    assert response.json() == {
        "deactivated": True,
        "code": "DEACTIVATED",
        "detail": "The device was deactivated.",
        "ts": response.json()["ts"],
        "devices": 0,
    }
    assert not Device.objects.exists()


def test_deactivating_an_unknown_fingerprint_changes_nothing(client, license_key):
    DeviceFactory(key=license_key, fingerprint="fp-1")
    response = post(client, "deactivate", key=license_key.plaintext, fingerprint="other")
    assert response.status_code == 200
    assert response.json()["deactivated"] is False
    assert response.json()["code"] == "DEVICE_NOT_ACTIVATED"
    assert Device.objects.count() == 1


def test_deactivating_works_on_a_suspended_license_so_a_slot_can_be_freed(client, license_key):
    DeviceFactory(key=license_key, fingerprint="fp-1")
    services.license_suspend(license=license_key.license, reason="check")
    assert post(client, "deactivate", key=license_key.plaintext, fingerprint="fp-1").json()["deactivated"]


def test_deactivating_with_an_unknown_key_is_404(client, db):
    assert post(client, "deactivate", key=keys.generate(), fingerprint="fp").status_code == 404


def test_another_keys_device_cannot_be_deactivated(client, license_key):
    other = DeviceFactory(fingerprint="theirs")
    response = post(client, "deactivate", key=license_key.plaintext, fingerprint="theirs")
    assert response.json()["deactivated"] is False
    assert Device.objects.filter(pk=other.pk).exists()


def test_a_heartbeat_refreshes_the_device_and_returns_a_token(client, license_key):
    long_ago = timezone.now() - timedelta(days=3)
    device = DeviceFactory(key=license_key, fingerprint="fp-1", last_heartbeat_at=long_ago)
    response = post(client, "heartbeat", key=license_key.plaintext, fingerprint="fp-1", app_version="5.0")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == "VALID"
    assert tokens.verify(body["token"])["fingerprint"] == "fp-1"
    device.refresh_from_db()
    assert device.last_heartbeat_at > long_ago
    assert device.app_version == "5.0"


def test_a_heartbeat_from_an_unknown_device_asks_for_activation(client, license_key):
    body = post(client, "heartbeat", key=license_key.plaintext, fingerprint="nope").json()
    assert body["code"] == "DEVICE_NOT_ACTIVATED"
    assert body["token"] is None
    assert not Device.objects.exists()


def test_a_heartbeat_on_a_revoked_license_does_not_keep_the_device_alive(client, license_key):
    long_ago = timezone.now() - timedelta(days=3)
    device = DeviceFactory(key=license_key, fingerprint="fp-1", last_heartbeat_at=long_ago)
    services.license_revoke(license=license_key.license, reason="refund")
    assert (
        post(client, "heartbeat", key=license_key.plaintext, fingerprint="fp-1").json()["code"] == "REVOKED"
    )
    device.refresh_from_db()
    assert device.last_heartbeat_at == long_ago


def test_heartbeat_needs_a_fingerprint(client, license_key):
    assert post(client, "heartbeat", key=license_key.plaintext).status_code == 400


def test_cull_stale_devices_removes_only_stale_ones(license_key, settings, capsys):
    old = timezone.now() - timedelta(days=settings.LICENSE_DEVICE_STALE_DAYS + 1)
    DeviceFactory(key=license_key, fingerprint="old", last_heartbeat_at=old)
    DeviceFactory(key=license_key, fingerprint="fresh")
    call_command("cull_stale_devices")
    assert list(Device.objects.values_list("fingerprint", flat=True)) == ["fresh"]
    assert "Removed 1 stale device" in capsys.readouterr().out
    call_command("cull_stale_devices")
    assert "Removed 0 stale devices" in capsys.readouterr().out


def test_cull_stale_devices_honours_a_days_override(license_key):
    DeviceFactory(
        key=license_key, fingerprint="week-old", last_heartbeat_at=timezone.now() - timedelta(days=7)
    )
    call_command("cull_stale_devices", "--days", "5")
    assert not Device.objects.exists()


def _in_parallel(count, work):
    """Run `work(i)` in `count` threads released together; each thread closes its connection."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        try:
            barrier.wait(timeout=10)
            results[i] = work(i)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_activations_never_pass_the_device_limit(team_plan):
    limit = team_plan.devices_per_seat
    key = LicenseKeyFactory(license=LicenseFactory(plan=team_plan))

    def activate(i):
        response = post(Client(), "activate", key=key.plaintext, fingerprint=f"racer-{i}")
        return response.status_code

    statuses = _in_parallel(limit + 5, activate)
    assert sorted(statuses) == [201] * limit + [409] * 5
    assert Device.objects.filter(key=key).count() == limit


@pytest.mark.django_db(transaction=True)
def test_the_same_fingerprint_activated_concurrently_makes_one_device(plan):
    key = LicenseKeyFactory(license=LicenseFactory(plan=plan))

    def activate(i):
        return post(Client(), "activate", key=key.plaintext, fingerprint="same-machine").status_code

    statuses = _in_parallel(6, activate)
    assert sorted(statuses) == [200] * 5 + [201]
    assert Device.objects.filter(key=key).count() == 1

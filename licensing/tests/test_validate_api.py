from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import UserFactory
from licensing import keys, services, tokens
from licensing.models import LicenseStatus, UsageDaily, ValidationEvent
from licensing.recording import recorder
from licensing.tests.factories import DeviceFactory, LicenseFactory, LicenseKeyFactory

URL = "/api/v1/licenses/validate"


def validate(client, **body):
    return client.post(URL, body, content_type="application/json")


def test_a_valid_key_answers_valid_with_license_user_plan_and_token(client, license_key):
    response = validate(client, key=license_key.plaintext, nonce="n-1")
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is True
    assert body["code"] == "VALID"
    assert body["nonce"] == "n-1"
    assert body["ts"]
    assert body["user"] == {
        "id": str(license_key.holder.public_id),
        "email": license_key.holder.email,
        "name": license_key.holder.name,
    }
    assert body["plan"] == {"slug": "solo", "name": "Solo", "access_level": "solo", "entitlements": ["core"]}
    assert body["license"]["status"] == "active"
    assert body["license"]["seats"] == 1
    assert body["license"]["seats_used"] == 1
    assert body["license"]["devices"] == 0
    assert body["license"]["max_devices"] == 2
    claims = tokens.verify(body["token"])
    assert claims["sub"] == str(license_key.public_id)
    assert claims["license"] == str(license_key.license.public_id)
    assert claims["user"] == str(license_key.holder.public_id)
    assert claims["plan"] == "solo"
    assert claims["entitlements"] == ["core"]
    assert claims["grace"] is False
    assert claims["nonce"] == "n-1"


def test_the_alias_path_answers_the_same(client, license_key):
    response = client.post(
        "/validate-license", {"key": license_key.plaintext}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["code"] == "VALID"


def test_a_key_is_accepted_in_any_spelling(client, license_key):
    sloppy = license_key.plaintext.lower().replace("-", " ")
    assert validate(client, key=sloppy).json()["code"] == "VALID"


def test_an_unknown_well_formed_key_is_not_found(client, db):
    response = validate(client, key=keys.generate(), nonce="abc")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "valid": False,
        "code": "NOT_FOUND",
        "detail": "No such license key.",
        "ts": body["ts"],
        "nonce": "abc",
        "token": None,
        "license": None,
        "user": None,
        "plan": None,
    }


def test_a_key_with_a_typo_is_a_field_error(client, license_key):
    key = license_key.plaintext
    typo = key[:-1] + ("0" if key[-1] != "0" else "1")
    response = validate(client, key=typo)
    assert response.status_code == 400
    assert response.json()["errors"]["key"] == [
        "This license key has a typo: its check character does not match."
    ]
    assert typo not in response.content.decode()


def test_a_revoked_key_is_revoked(client, license_key):
    services.license_key_revoke(key=license_key, reason="left the team")
    assert validate(client, key=license_key.plaintext).json()["code"] == "REVOKED"


def test_a_revoked_license_is_revoked_even_when_also_suspended(client, license_key):
    services.license_suspend(license=license_key.license, reason="chargeback")
    assert validate(client, key=license_key.plaintext).json()["code"] == "SUSPENDED"
    license_key.license.refresh_from_db()
    license_key.license.revoked_at = timezone.now()
    license_key.license.save()
    body = validate(client, key=license_key.plaintext).json()
    assert body["code"] == "REVOKED"
    assert body["valid"] is False
    assert body["token"] is None
    assert body["license"]["status"] == "revoked"


def test_a_suspended_license_outranks_expiry(client, license_key):
    license_ = license_key.license
    license_.expires_at = timezone.now() - timedelta(days=1)
    license_.save()
    services.license_suspend(license=license_, reason="fraud check")
    assert validate(client, key=license_key.plaintext).json()["code"] == "SUSPENDED"


def test_an_expired_license_outranks_inactive(client, license_key):
    license_ = license_key.license
    license_.expires_at = timezone.now() - timedelta(seconds=1)
    license_.status = LicenseStatus.INACTIVE
    license_.save()
    body = validate(client, key=license_key.plaintext).json()
    assert body["code"] == "EXPIRED"
    assert body["license"]["status"] == "expired"


def test_an_unpaid_or_canceled_license_is_inactive(client, license_key):
    license_key.license.status = LicenseStatus.INACTIVE
    license_key.license.save()
    assert validate(client, key=license_key.plaintext).json()["code"] == "INACTIVE"


def test_inactive_outranks_missing_entitlements(client, license_key):
    license_key.license.status = LicenseStatus.INACTIVE
    license_key.license.save()
    assert validate(client, key=license_key.plaintext, entitlements=["sso"]).json()["code"] == "INACTIVE"


def test_all_requested_entitlements_must_be_in_the_plan(client, license_key):
    assert validate(client, key=license_key.plaintext, entitlements=["core"]).json()["code"] == "VALID"
    body = validate(client, key=license_key.plaintext, entitlements=["core", "sso"]).json()
    assert body["code"] == "ENTITLEMENTS_MISSING"
    assert body["valid"] is False
    assert "sso" in body["detail"]


def test_missing_entitlements_outrank_an_unknown_device(client, license_key):
    body = validate(client, key=license_key.plaintext, entitlements=["sso"], fingerprint="nope").json()
    assert body["code"] == "ENTITLEMENTS_MISSING"


def test_a_fingerprint_that_is_not_activated_is_reported(client, license_key):
    body = validate(client, key=license_key.plaintext, fingerprint="unknown-device").json()
    assert body["code"] == "DEVICE_NOT_ACTIVATED"
    assert body["valid"] is False


def test_an_activated_fingerprint_is_valid_and_bound_into_the_token(client, license_key):
    DeviceFactory(key=license_key, fingerprint="laptop-1")
    body = validate(client, key=license_key.plaintext, fingerprint="laptop-1").json()
    assert body["code"] == "VALID"
    assert body["license"]["devices"] == 1
    assert tokens.verify(body["token"])["fingerprint"] == "laptop-1"


def test_a_stale_device_counts_as_not_activated(client, license_key, settings):
    old = timezone.now() - timedelta(days=settings.LICENSE_DEVICE_STALE_DAYS + 1)
    DeviceFactory(key=license_key, fingerprint="old-pc", first_seen_at=old, last_heartbeat_at=old)
    body = validate(client, key=license_key.plaintext, fingerprint="old-pc").json()
    assert body["code"] == "DEVICE_NOT_ACTIVATED"
    assert body["license"]["devices"] == 0


def test_devices_beyond_the_limit_after_a_downgrade_are_too_many_and_the_earliest_keep_working(
    client, license_key
):
    now = timezone.now()
    for i in range(3):
        DeviceFactory(key=license_key, fingerprint=f"pc-{i}", first_seen_at=now - timedelta(hours=3 - i))
    assert validate(client, key=license_key.plaintext, fingerprint="pc-0").json()["code"] == "VALID"
    assert validate(client, key=license_key.plaintext, fingerprint="pc-1").json()["code"] == "VALID"
    body = validate(client, key=license_key.plaintext, fingerprint="pc-2").json()
    assert body["code"] == "TOO_MANY_DEVICES"
    assert body["valid"] is False
    assert body["license"]["devices"] == 3


def test_too_many_devices_outranks_grace(client, license_key):
    license_ = license_key.license
    license_.status = LicenseStatus.GRACE
    license_.grace_ends_at = timezone.now() + timedelta(days=3)
    license_.save()
    now = timezone.now()
    for i in range(3):
        DeviceFactory(key=license_key, fingerprint=f"pc-{i}", first_seen_at=now - timedelta(hours=3 - i))
    assert (
        validate(client, key=license_key.plaintext, fingerprint="pc-2").json()["code"] == "TOO_MANY_DEVICES"
    )


def test_a_past_due_license_within_grace_is_valid_with_grace(client, license_key):
    license_ = license_key.license
    license_.status = LicenseStatus.GRACE
    license_.expires_at = timezone.now() - timedelta(days=1)
    license_.grace_ends_at = timezone.now() + timedelta(hours=2)
    license_.save()
    body = validate(client, key=license_key.plaintext).json()
    assert body["code"] == "GRACE"
    assert body["valid"] is True
    assert body["license"]["status"] == "grace"
    claims = tokens.verify(body["token"])
    assert claims["grace"] is True
    assert claims["exp"] <= int(license_.grace_ends_at.timestamp())


def test_a_past_due_license_after_its_grace_is_expired(client, license_key):
    license_ = license_key.license
    license_.status = LicenseStatus.GRACE
    license_.expires_at = timezone.now() - timedelta(days=8)
    license_.grace_ends_at = timezone.now() - timedelta(days=1)
    license_.save()
    assert validate(client, key=license_key.plaintext).json()["code"] == "EXPIRED"


def test_the_token_never_outlives_the_license(client, license_key):
    license_key.license.expires_at = timezone.now() + timedelta(minutes=5)
    license_key.license.save()
    claims = tokens.verify(validate(client, key=license_key.plaintext).json()["token"])
    assert claims["exp"] <= int(license_key.license.expires_at.timestamp())


def test_a_license_without_end_gets_a_token_for_the_configured_lifetime(client, license_key, settings):
    license_key.license.expires_at = None
    license_key.license.save()
    settings.LICENSE_TOKEN_TTL_SECONDS = 600
    claims = tokens.verify(validate(client, key=license_key.plaintext).json()["token"])
    assert claims["exp"] - claims["iat"] == 600


def test_team_keys_report_the_seats_in_use(client, team_plan):
    license_ = LicenseFactory(plan=team_plan)
    owner_key = LicenseKeyFactory(license=license_)
    LicenseKeyFactory(license=license_, holder=UserFactory())
    body = validate(client, key=owner_key.plaintext).json()
    assert body["license"]["seats"] == 5
    assert body["license"]["seats_used"] == 2
    assert body["license"]["max_devices"] == 3


def test_validation_needs_no_session_and_no_csrf_token(license_key):
    client = Client(enforce_csrf_checks=True)
    response = client.post(URL, {"key": license_key.plaintext}, content_type="application/json")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_validate_answers_only_post(client, license_key):
    response = client.get(URL)
    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize("fingerprint", [None, "laptop-1"])
def test_validate_takes_one_query(client, license_key, django_assert_num_queries, fingerprint):
    DeviceFactory(key=license_key, fingerprint="laptop-1")
    body = {"key": license_key.plaintext, "entitlements": ["core"]}
    if fingerprint:
        body["fingerprint"] = fingerprint
    for _ in range(3):
        with django_assert_num_queries(1):
            assert client.post(URL, body, content_type="application/json").json()["code"] == "VALID"


@pytest.mark.django_db(transaction=True)
def test_the_validation_that_writes_the_buffer_takes_two_queries(
    client, license_key, settings, django_assert_num_queries
):
    settings.LICENSE_TOUCH_INTERVAL_SECONDS = 0
    with django_assert_num_queries(2):
        assert validate(client, key=license_key.plaintext).json()["code"] == "VALID"


@pytest.mark.django_db(transaction=True)
def test_in_production_the_write_happens_off_the_request(
    client, license_key, settings, django_assert_num_queries
):
    import threading

    settings.LICENSE_FLUSH_IN_BACKGROUND = True
    settings.LICENSE_TOUCH_INTERVAL_SECONDS = 0
    with django_assert_num_queries(1):
        assert validate(client, key=license_key.plaintext).json()["code"] == "VALID"
    for thread in threading.enumerate():
        if thread.name == "validation-recorder":
            thread.join(timeout=30)
    license_key.refresh_from_db()
    assert license_key.last_validated_at is not None
    assert UsageDaily.objects.get(key=license_key, feature=UsageDaily.VALIDATIONS).count == 1
    assert ValidationEvent.objects.filter(key=license_key).count() == 1


def test_an_unknown_key_takes_one_query_and_writes_nothing(client, db, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert validate(client, key=keys.generate()).json()["code"] == "NOT_FOUND"


def test_validations_are_counted_and_written_once_per_interval(client, license_key, settings):
    for _ in range(5):
        validate(client, key=license_key.plaintext)
    license_key.refresh_from_db()
    assert license_key.last_validated_at is None
    assert not ValidationEvent.objects.exists()

    settings.LICENSE_TOUCH_INTERVAL_SECONDS = 0
    validate(client, key=license_key.plaintext, fingerprint="unknown")
    license_key.refresh_from_db()
    assert license_key.last_validated_at is not None
    assert UsageDaily.objects.get(key=license_key, feature=UsageDaily.VALIDATIONS).count == 6
    event = ValidationEvent.objects.get(key=license_key)
    assert (event.code, event.fingerprint, event.ip) == ("DEVICE_NOT_ACTIVATED", "unknown", "127.0.0.1")

    first = license_key.last_validated_at
    validate(client, key=license_key.plaintext)
    license_key.refresh_from_db()
    assert license_key.last_validated_at > first
    assert UsageDaily.objects.get(key=license_key, feature=UsageDaily.VALIDATIONS).count == 7
    assert ValidationEvent.objects.filter(key=license_key).count() == 2


def test_counts_of_a_key_deleted_before_the_write_are_dropped_quietly(client, license_key):
    other = LicenseKeyFactory()
    validate(client, key=license_key.plaintext)
    validate(client, key=other.plaintext)
    license_key.delete()
    assert recorder.flush() == 2
    assert list(UsageDaily.objects.values_list("key_id", "count")) == [(other.pk, 1)]


@pytest.mark.django_db(transaction=True)
def test_the_buffer_is_written_when_the_process_exits():
    """A real Python process records one validation (the interval far off, so nothing is written
    yet) and exits normally: the counters are in the database afterwards."""
    import os
    import subprocess
    import sys
    from pathlib import Path
    from urllib.parse import quote

    from django.db import connection

    key = LicenseKeyFactory()
    db = connection.settings_dict
    url = (
        f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}"
        f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    script = f"""
import django
django.setup()
from django.utils import timezone
from licensing.models import UsageDaily
from licensing.recording import recorder
recorder.record(key_id={key.pk}, code="VALID", fingerprint="fp-at-exit", ip=None, at=timezone.now())
print("written before exit:", UsageDaily.objects.filter(key_id={key.pk}).count())
"""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "qualitybytes.settings",
        "LICENSE_TOUCH_INTERVAL_SECONDS": "3600",
        "LICENSE_FLUSH_IN_BACKGROUND": "0",
    }
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "written before exit: 0" in result.stdout
    assert UsageDaily.objects.get(key=key, feature=UsageDaily.VALIDATIONS).count == 1
    assert ValidationEvent.objects.get(key=key).fingerprint == "fp-at-exit"


@pytest.mark.django_db(transaction=True)
def test_workers_writing_their_buffers_at_once_neither_deadlock_nor_lose_counts(caplog):
    import threading

    from django.db import connection

    from licensing.recording import ValidationRecorder

    keys_ = [LicenseKeyFactory() for _ in range(40)]
    workers = [ValidationRecorder() for _ in range(4)]
    for number, worker in enumerate(workers):
        # Each worker meets the keys in a different order, as real traffic would.
        order = keys_ if number % 2 else list(reversed(keys_))
        for key in order:
            worker.record(key_id=key.pk, code="VALID", fingerprint=None, ip=None, at=timezone.now())
    barrier = threading.Barrier(len(workers))
    written = []

    def flush(worker):
        try:
            barrier.wait(timeout=10)
            written.append(worker.flush())
        finally:
            connection.close()

    threads = [threading.Thread(target=flush, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert written == [40] * 4
    assert "Could not write" not in caplog.text
    counts = UsageDaily.objects.filter(feature=UsageDaily.VALIDATIONS).values_list("count", flat=True)
    assert sorted(counts) == [4] * 40
    assert ValidationEvent.objects.count() == 160

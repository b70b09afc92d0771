"""A request reads its key once: one normalisation, one digest, and activation evaluates the key
with validation's own query and rules."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from licensing import keys, services
from licensing.models import Device, LicenseKeyStatus
from licensing.tests.factories import DeviceFactory, LicenseFactory, LicenseKeyFactory


def post(client, path, **body):
    return client.post(f"/api/v1/licenses/{path}", body, content_type="application/json")


@pytest.fixture
def calls(monkeypatch):
    """How many times a request normalised a key and computed a digest."""
    counted = {"normalise": 0, "digest": 0}

    def counting(name, function):
        def wrapper(*args, **kwargs):
            counted[name] += 1
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(keys, "normalise", counting("normalise", keys.normalise))
    monkeypatch.setattr(keys, "_hmac", counting("digest", keys._hmac))
    return counted


@pytest.mark.parametrize(
    ("path", "extra", "status"),
    [
        ("validate", {}, 200),
        ("validate", {"fingerprint": "laptop-1"}, 200),
        ("activate", {"fingerprint": "laptop-2"}, 201),
        ("deactivate", {"fingerprint": "laptop-1"}, 200),
        ("heartbeat", {"fingerprint": "laptop-1"}, 200),
        ("usage", {"fingerprint": "laptop-1", "feature": "export"}, 200),
    ],
)
def test_a_request_normalises_its_key_once_and_digests_it_once(
    client, license_key, calls, path, extra, status
):
    DeviceFactory(key=license_key, fingerprint="laptop-1")
    response = post(client, path, key=license_key.plaintext.lower(), **extra)
    assert response.status_code == status, response.json()
    assert calls == {"normalise": 1, "digest": 1}


def test_an_unknown_key_is_normalised_and_digested_once_too(client, db, calls):
    assert post(client, "validate", key=keys.generate()).status_code == 200
    assert calls == {"normalise": 1, "digest": 1}


def test_a_parsed_key_never_shows_its_secret(license_key):
    parsed = keys.parse(license_key.plaintext)
    assert license_key.plaintext not in repr(parsed)
    assert keys.parse(parsed) is parsed
    assert keys.digest(parsed) == license_key.digest


def test_activation_takes_fewer_queries_than_before(client, license_key, django_assert_max_num_queries):
    # Before: lock, device, count, insert, seat count (and the savepoint pair). Now the count and
    # the seats come with validation's query.
    with django_assert_max_num_queries(6):
        assert post(client, "activate", key=license_key.plaintext, fingerprint="new").status_code == 201


def test_activation_refuses_a_key_beyond_the_seats_with_validations_answer(client, team_plan):
    license_ = LicenseFactory(plan=team_plan, seats=1)
    LicenseKeyFactory(license=license_)
    second = LicenseKeyFactory(license=license_, holder=UserFactory())
    activated = post(client, "activate", key=second.plaintext, fingerprint="fp")
    validated = post(client, "validate", key=second.plaintext)
    assert activated.status_code == 403
    assert activated.json()["code"] == validated.json()["code"] == "SEAT_LIMIT_EXCEEDED"
    assert activated.json()["detail"] == validated.json()["detail"]
    assert not Device.objects.filter(key=second).exists()


def test_a_revoked_key_is_refused_by_activation_as_by_validation(client, license_key):
    license_key.status = LicenseKeyStatus.REVOKED
    license_key.revoked_at = timezone.now()
    license_key.save()
    assert post(client, "activate", key=license_key.plaintext, fingerprint="fp").json()["code"] == "REVOKED"


def test_a_device_active_beyond_the_limit_after_a_downgrade_still_activates_as_a_no_op(license_key):
    limit = license_key.license.max_devices_per_key
    now = timezone.now()
    for i in range(limit + 1):
        DeviceFactory(
            key=license_key, fingerprint=f"fp-{i}", first_seen_at=now - timedelta(hours=limit + 1 - i)
        )
    last = f"fp-{limit}"
    assert services.license_validate(key=license_key.plaintext, fingerprint=last).code == "TOO_MANY_DEVICES"
    outcome = services.device_activate(key=license_key.plaintext, fingerprint=last, now=now)
    assert outcome.code == "VALID"
    assert not outcome.created
    refused = services.device_activate(key=license_key.plaintext, fingerprint="newcomer", now=now)
    assert refused.code == "TOO_MANY_DEVICES"
    assert refused.detail == f"This key already has {limit + 1} of {limit} devices; deactivate one first."

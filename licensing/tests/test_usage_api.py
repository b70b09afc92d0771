from django.utils import timezone

from licensing import keys, services
from licensing.models import UsageDaily
from licensing.tests.factories import DeviceFactory


def report(client, **body):
    return client.post("/api/v1/licenses/usage", body, content_type="application/json")


def test_usage_from_an_active_device_adds_to_todays_counter(client, license_key):
    DeviceFactory(key=license_key, fingerprint="fp-1")
    response = report(client, key=license_key.plaintext, fingerprint="fp-1", feature="export.pdf", count=3)
    assert response.status_code == 200
    body = response.json()
    assert body["recorded"] is True
    assert body["code"] == "RECORDED"
    assert body["feature"] == "export.pdf"
    assert body["day"] == timezone.localdate().isoformat()
    report(client, key=license_key.plaintext, fingerprint="fp-1", feature="export.pdf")
    report(client, key=license_key.plaintext, fingerprint="fp-1", feature="share")
    counters = dict(UsageDaily.objects.filter(key=license_key).values_list("feature", "count"))
    assert counters == {"export.pdf": 4, "share": 1}


def test_usage_from_a_device_that_is_not_activated_is_refused(client, license_key):
    response = report(client, key=license_key.plaintext, fingerprint="stranger", feature="export.pdf")
    assert response.status_code == 403
    assert response.json()["code"] == "DEVICE_NOT_ACTIVATED"
    assert not UsageDaily.objects.exists()


def test_usage_on_a_revoked_license_is_refused(client, license_key):
    DeviceFactory(key=license_key, fingerprint="fp-1")
    services.license_revoke(license=license_key.license, reason="refund")
    response = report(client, key=license_key.plaintext, fingerprint="fp-1", feature="export.pdf")
    assert response.status_code == 403
    assert response.json()["code"] == "REVOKED"


def test_usage_with_an_unknown_key_is_404(client, db):
    response = report(client, key=keys.generate(), fingerprint="fp", feature="export")
    assert response.status_code == 404
    assert response.json()["recorded"] is False


def test_feature_names_and_counts_are_validated(client, license_key):
    response = report(client, key=license_key.plaintext, fingerprint="fp", feature="@validations", count=0)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"feature", "count"}

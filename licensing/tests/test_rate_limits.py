import pytest
from django.core.exceptions import ImproperlyConfigured

from licensing import keys
from licensing.tests.factories import LicenseKeyFactory
from licensing.throttling import Rate

URL = "/api/v1/licenses/validate"


def validate(client, key, ip="203.0.113.7"):
    return client.post(URL, {"key": key}, content_type="application/json", REMOTE_ADDR=ip)


def test_a_key_over_its_limit_gets_429_with_retry_after(client, license_key, settings):
    settings.LICENSE_RATE_LIMIT_KEY = "3/m"
    for _ in range(3):
        assert validate(client, license_key.plaintext).status_code == 200
    response = validate(client, license_key.plaintext, ip="198.51.100.1")
    assert response.status_code == 429
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert response.json() == {
        "code": "RATE_LIMITED",
        "detail": f"Too many requests for this key; retry in {retry_after} s.",
        "retry_after": retry_after,
    }


def test_the_key_limit_does_not_touch_other_keys(client, license_key, settings):
    settings.LICENSE_RATE_LIMIT_KEY = "1/m"
    other = LicenseKeyFactory()
    assert validate(client, license_key.plaintext).status_code == 200
    assert validate(client, license_key.plaintext).status_code == 429
    assert validate(client, other.plaintext).status_code == 200


def test_an_ip_over_its_limit_gets_429_even_for_guessed_keys(client, db, settings):
    settings.LICENSE_RATE_LIMIT_IP = "5/m"
    for _ in range(5):
        assert validate(client, keys.generate()).json()["code"] == "NOT_FOUND"
    response = validate(client, keys.generate())
    assert response.status_code == 429
    assert response.headers["Retry-After"]
    assert validate(client, keys.generate(), ip="198.51.100.2").status_code == 200


def test_the_ip_limit_counts_malformed_requests_too(client, db, settings):
    settings.LICENSE_RATE_LIMIT_IP = "2/m"
    for _ in range(2):
        assert client.post(URL, b"junk", content_type="application/json").status_code == 400
    assert client.post(URL, b"junk", content_type="application/json").status_code == 429


@pytest.mark.parametrize("path", ["activate", "deactivate", "heartbeat", "usage"])
def test_every_licensing_endpoint_is_rate_limited(client, license_key, settings, path):
    settings.LICENSE_RATE_LIMIT_IP = "1/m"
    body = {"key": license_key.plaintext, "fingerprint": "fp", "feature": "x"}
    client.post(f"/api/v1/licenses/{path}", body, content_type="application/json")
    response = client.post(f"/api/v1/licenses/{path}", body, content_type="application/json")
    assert response.status_code == 429


def test_the_client_ip_comes_from_x_forwarded_for_only_behind_trusted_proxies(client, db, settings):
    settings.LICENSE_RATE_LIMIT_IP = "1/m"
    settings.LICENSE_TRUSTED_PROXIES = 1
    for spoofed in ("10.0.0.1", "10.0.0.2"):
        response = client.post(
            URL,
            {"key": keys.generate()},
            content_type="application/json",
            HTTP_X_FORWARDED_FOR=f"{spoofed}, 192.0.2.10",
        )
    assert response.status_code == 429


def test_a_limit_of_zero_switches_it_off(client, license_key, settings):
    settings.LICENSE_RATE_LIMIT_KEY = "0"
    for _ in range(70):
        assert validate(client, license_key.plaintext).status_code == 200


@pytest.mark.parametrize(
    ("text", "rate"), [("60/m", Rate(60, 60)), ("5/s", Rate(5, 1)), ("1000/hour", Rate(1000, 3600))]
)
def test_rates_are_read_from_settings_text(text, rate):
    assert Rate.parse(text) == rate


@pytest.mark.parametrize("text", ["sixty/m", "60/w", "60", "-1/m"])
def test_bad_rates_are_a_configuration_error(text):
    with pytest.raises(ImproperlyConfigured):
        Rate.parse(text)

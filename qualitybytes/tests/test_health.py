import pytest
from django.core.cache import cache
from django.db import connections


def test_healthz_answers_without_touching_the_database(client):
    # No django_db mark: any query here would raise.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_checks_database_and_cache(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_checks_answer_any_host_and_plain_http(client, settings):
    # Load balancers probe by IP over HTTP: no DisallowedHost 400, no redirect to HTTPS.
    settings.ALLOWED_HOSTS = ["licenses.example"]
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/healthz", HTTP_HOST="10.0.3.7:8000")
    assert response.status_code == 200
    assert client.get("/", HTTP_HOST="10.0.3.7:8000").status_code == 400


@pytest.mark.django_db
def test_readyz_is_503_with_a_reason_when_the_database_is_unreachable(client, monkeypatch):
    connection = connections["default"]
    monkeypatch.setitem(connection.settings_dict, "PORT", "1")
    connection.close()
    try:
        response = client.get("/readyz")
    finally:
        monkeypatch.undo()
        connection.close()
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": "database 'default' unreachable"}


@pytest.mark.django_db
def test_readyz_is_503_when_the_cache_is_unreachable(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    cache.close()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["reason"] == "cache unreachable"


def test_health_checks_refuse_other_methods(client):
    assert client.post("/healthz").status_code == 405

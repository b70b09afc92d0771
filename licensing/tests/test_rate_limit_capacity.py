"""The per-key limit holds without Redis: the local cache keeps far more counters than the 300
entries Django's LocMemCache keeps by default, which an attacker cycling through more keys than
that would otherwise push out, resetting every key's count."""

import pytest
from django.core.cache import cache

from licensing import keys

URL = "/api/v1/licenses/validate"
KEYS_CYCLED = 400  # more than LocMemCache's default MAX_ENTRIES (300)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_cycling_through_more_keys_than_the_cache_default_does_not_reset_their_limits(client, settings):
    settings.LICENSE_RATE_LIMIT_KEY = "1/d"  # one window for the whole test
    settings.LICENSE_RATE_LIMIT_IP = "0"
    guesses = [keys.generate() for _ in range(KEYS_CYCLED)]
    for key in guesses:
        response = client.post(URL, {"key": key}, content_type="application/json")
        assert response.status_code != 429
    refused = [
        client.post(URL, {"key": key}, content_type="application/json").status_code == 429 for key in guesses
    ]
    assert all(refused), f"{refused.count(False)} of {KEYS_CYCLED} keys got a second try"

import pytest
from django.core.cache import cache

from licensing.tests.factories import LicenseFactory, LicenseKeyFactory


@pytest.fixture(autouse=True)
def clear_cache():
    """Rate-limit windows and validation counters live in the cache; each test starts afresh."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def license_(db, user, plan):
    return LicenseFactory(owner=user, plan=plan)


@pytest.fixture
def license_key(license_):
    return LicenseKeyFactory(license=license_)

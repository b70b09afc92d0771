import pytest
from django.core.cache import cache

from licensing.recording import recorder
from licensing.tests.factories import LicenseFactory, LicenseKeyFactory


@pytest.fixture(autouse=True)
def clear_cache():
    """Rate-limit windows live in the cache and validation counts in a buffer; each test starts afresh."""
    cache.clear()
    recorder.clear()
    yield
    cache.clear()
    recorder.clear()


@pytest.fixture
def license_(db, user, plan):
    return LicenseFactory(owner=user, plan=plan)


@pytest.fixture
def license_key(license_):
    return LicenseKeyFactory(license=license_)

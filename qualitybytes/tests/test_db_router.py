"""The read replica: validation reads go to the `replica` alias, everything else to `default`.

The replica here is a second connection to the test database, as TEST MIRROR makes it when
DATABASE_REPLICA_URL is set. The tests commit their rows (transactional_db) so that the second
connection sees them, as a real replica would after replication.
"""

import pytest
from django.core.cache import cache
from django.db import connections
from django.test.utils import CaptureQueriesContext

from licensing.recording import recorder
from licensing.tests.factories import DeviceFactory, LicenseFactory, LicenseKeyFactory
from qualitybytes.db_router import ReplicaRouter, reads_from_replica

DIGEST_LOOKUP = "WHERE k.digest"


@pytest.fixture
def replica(transactional_db, settings):
    connections.settings["replica"] = {**connections.settings["default"], "TEST": {"MIRROR": "default"}}
    settings.DATABASE_ROUTERS = ["qualitybytes.db_router.ReplicaRouter"]
    cache.clear()
    recorder.clear()
    # Connect here: the test case only lets declared aliases connect lazily, and "replica" is
    # added after pytest-django declared them.
    connections["replica"].connect()
    yield connections["replica"]
    recorder.clear()
    connections["replica"].close()
    del connections["replica"]
    del connections.settings["replica"]


@pytest.fixture
def license_key(replica, user, plan):
    return LicenseKeyFactory(license=LicenseFactory(owner=user, plan=plan))


def queries(context: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in context.captured_queries]


def test_the_validate_read_goes_to_the_replica(client, replica, license_key):
    with CaptureQueriesContext(connections["default"]) as primary, CaptureQueriesContext(replica) as read:
        response = client.post(
            "/api/v1/licenses/validate", {"key": license_key.plaintext}, content_type="application/json"
        )
    assert response.json()["code"] == "VALID"
    assert len([sql for sql in queries(read) if DIGEST_LOOKUP in sql]) == 1
    assert not [sql for sql in queries(primary) if DIGEST_LOOKUP in sql]


def test_activation_and_heartbeat_read_and_write_the_primary(client, replica, license_key):
    DeviceFactory(key=license_key, fingerprint="laptop-1")
    with CaptureQueriesContext(replica) as read:
        for path in ("activate", "heartbeat"):
            response = client.post(
                f"/api/v1/licenses/{path}",
                {"key": license_key.plaintext, "fingerprint": "laptop-1"},
                content_type="application/json",
            )
            assert response.status_code in (200, 201), response.content
    assert queries(read) == []


def test_rows_read_from_the_replica_are_written_to_the_primary(replica, license_key):
    from licensing.models import LicenseKey

    with reads_from_replica():
        row = LicenseKey.objects.get(pk=license_key.pk)
    assert row._state.db == "replica"
    with CaptureQueriesContext(replica) as on_replica:
        row.revoked_reason = "test"
        row.save(update_fields=["revoked_reason"])
    assert queries(on_replica) == []
    assert LicenseKey.objects.get(pk=license_key.pk).revoked_reason == "test"


def test_without_a_replica_the_router_leaves_reads_to_default(settings):
    settings.DATABASE_ROUTERS = ["qualitybytes.db_router.ReplicaRouter"]
    with reads_from_replica():
        assert ReplicaRouter().db_for_read(None) is None


def test_the_replica_is_never_migrated():
    assert ReplicaRouter().allow_migrate("replica", "licensing") is False
    assert ReplicaRouter().allow_migrate("default", "licensing") is True

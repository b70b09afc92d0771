import io
import logging

from django.apps import apps
from django.core.management import call_command
from django.db import connection

from licensing.tests.factories import DeviceFactory, LicenseKeyFactory


def test_a_dump_of_the_licensing_tables_holds_no_plaintext_key(client, db, caplog):
    caplog.set_level(logging.DEBUG)
    key = LicenseKeyFactory()
    DeviceFactory(key=key, fingerprint="fp-1")
    for path in ("validate", "activate", "heartbeat", "usage"):
        body = {"key": key.plaintext, "fingerprint": "fp-1", "feature": "export"}
        client.post(f"/api/v1/licenses/{path}", body, content_type="application/json")
    dump = io.StringIO()
    call_command("dumpdata", "licensing", stdout=dump)
    rows = []
    with connection.cursor() as cursor:
        for model in apps.get_app_config("licensing").get_models():
            cursor.execute(f"SELECT t::text FROM {model._meta.db_table} t")
            rows += [row[0] for row in cursor.fetchall()]
    text = dump.getvalue() + "\n".join(rows)
    assert key.prefix in text
    body = key.plaintext.replace("-", "")
    for form in (key.plaintext, body, body[2:], key.plaintext.lower(), key.plaintext[9:]):
        assert form not in text
    assert key.plaintext[9:] not in caplog.text

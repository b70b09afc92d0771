"""The deployment files: gunicorn.conf.py serves the app with production settings and JSON logs."""

import http.client
import json
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from qualitybytes.tests.test_settings import ROOT, production_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, **headers) -> tuple[int, dict, bytes]:
    """GET without following redirects."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        connection.request("GET", parts.path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.headers), response.read()
    finally:
        connection.close()


@pytest.fixture
def gunicorn(tmp_path):
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("w+")
    # Any database the server can reach: readiness only asks it SELECT 1.
    database = production_env()["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    env = production_env(PORT=str(port), WEB_CONCURRENCY="1", GUNICORN_THREADS="2", DATABASE_URL=database)
    gunicorn_bin = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(
        [str(gunicorn_bin), "qualitybytes.wsgi"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            get(base + "/healthz")
            break
        except OSError:
            time.sleep(0.1)
    yield base, Path(log.name)
    process.terminate()
    process.wait(timeout=20)
    log.close()


def test_gunicorn_serves_health_checks_and_logs_json_with_request_ids(gunicorn):
    base, log = gunicorn
    status, headers, body = get(base + "/healthz", Host="10.1.2.3")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    status, _, body = get(base + "/readyz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})

    # Any other path: host checked, HTTPS required (the proxy says so), headers set, request logged.
    assert get(base + "/.well-known/jwks.json", Host="10.1.2.3")[0] == 400
    assert get(base + "/.well-known/jwks.json", Host="licenses.qualitybytes.example")[0] == 301
    status, headers, _ = get(
        base + "/.well-known/jwks.json",
        Host="licenses.qualitybytes.example",
        **{"X-Forwarded-Proto": "https", "X-Request-ID": "edge-0123456789"},
    )
    assert status == 200
    assert headers["X-Request-ID"] == "edge-0123456789"
    assert "max-age=31536000" in headers["Strict-Transport-Security"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]

    time.sleep(0.2)
    entries = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert any(entry["logger"] == "gunicorn.error" for entry in entries)  # gunicorn's own lines too
    request = next(e for e in entries if e.get("request_id") == "edge-0123456789" and "path" in e)
    assert (request["path"], request["status"]) == ("/.well-known/jwks.json", 200)

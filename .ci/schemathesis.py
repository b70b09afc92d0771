"""`make schemathesis`: fuzz the live API against its own OpenAPI schema.

Creates a PostgreSQL database of its own for this run (a fresh name on the server of
SCHEMATHESIS_DATABASE_URL), migrates it, adds a customer
with a Team license, its team, a key, a device and an API token, serves the app with gunicorn
on a free loopback port and runs schemathesis against /api/schema/ with two checks: no 5xx
(not_a_server_error) and every response matches the schema (response_schema_conformance).
Exits with schemathesis's status, and drops the database it created (SCHEMATHESIS_KEEP_DATABASE=1
keeps it for inspection). It never drops a database it did not create. Emails go to Django's
dummy backend, so a run prints no email.
"""

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SERVER_URL = os.environ.get("SCHEMATHESIS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qb_schemathesis")
# A name of this run's own: two runs (or a developer's and CI's) never share or drop each other's.
DATABASE_URL = f"{SERVER_URL.rsplit('/', 1)[0]}/qb_schemathesis_{os.getpid()}_{secrets.token_hex(4)}"
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "40")
MAX_TIME = os.environ.get("SCHEMATHESIS_MAX_TIME", "300")  # fuzzing repeats until the budget is spent
# One worker: with several threads schemathesis 4.32 on CPython 3.11 sometimes dies compiling
# its generators ("SystemError: AST constructor recursion depth mismatch"), a tool error.
WORKERS = os.environ.get("SCHEMATHESIS_WORKERS", "1")

SEED = """
from django.utils import timezone
from accounts.models import ApiToken, User
from billing.models import Plan
from licensing import services
from teams.services import team_create_for_license
user = User.objects.create_user(email="fuzz@example.com", password="fuzz-password-1234")
issued = services.license_issue(
    owner=user, plan=Plan.objects.get(slug="team"), expires_at=timezone.now() + timezone.timedelta(days=30)
)
services.device_activate(key=issued.plaintext, fingerprint="fuzz-device-1")
team_create_for_license(license=issued.key.license)
print(ApiToken.issue(user=user, name="schemathesis")[1])
"""


def log(message: str) -> None:
    print(f"schemathesis: {message}", flush=True)


def create_database() -> None:
    base, name = DATABASE_URL.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database() -> None:
    """Drop the database this run created (and only that one)."""
    if os.environ.get("SCHEMATHESIS_KEEP_DATABASE") == "1":
        log(f"kept {DATABASE_URL}")
        return
    base, name = DATABASE_URL.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(*args: str, env: dict) -> str:
    return subprocess.run(  # noqa: S603
        [str(BIN / "python"), "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def main() -> int:
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": DATABASE_URL,
        "LICENSE_RATE_LIMIT_IP": "0",
        "LICENSE_RATE_LIMIT_KEY": "0",
        "LOG_REQUESTS": "0",
        "LOG_LEVEL": "ERROR",  # 4xx are expected by the thousand; 5xx still show
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }
    log(f"fresh database {DATABASE_URL}")
    create_database()
    try:
        return serve_and_fuzz(env)
    finally:
        drop_database()


def serve_and_fuzz(env: dict) -> int:
    manage("migrate", "--noinput", env=env)
    manage("seed_plans", env=env)
    token = manage("shell", "-c", SEED, env=env).strip().splitlines()[-1]
    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [str(BIN / "gunicorn"), "qualitybytes.wsgi", "--workers=2", f"--bind=127.0.0.1:{port}"],
        cwd=ROOT,
        env={**env, "PORT": str(port)},
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        else:
            log("gunicorn did not start")
            return 2
        command = [
            str(BIN / "schemathesis"),
            "run",
            f"{base}/api/schema/",
            "--url",
            base,
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--header",
            f"Authorization: Bearer {token}",
            "--max-examples",
            MAX_EXAMPLES,
            "--max-time",
            MAX_TIME,
            "--phases",
            "examples,coverage,fuzzing",
            "--workers",
            WORKERS,
            "--seed",
            os.environ.get("SCHEMATHESIS_SEED", "1"),
            "--no-color",
        ]
        log(" ".join(command).replace(token, "qbt_…"))
        return subprocess.run(command, cwd=ROOT, env=env).returncode  # noqa: S603
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())

"""`make bench`: validate throughput and latency against a bare Django JSON view.

1. Creates (once) a PostgreSQL database BENCH_DATABASE_URL seeded with 100,000 licenses, one key
   each, and an activated device on every fifth key; a sample of keys is kept in bench/.data/.
2. Serves the project with gunicorn (DEBUG off, production settings, BENCH_WORKERS sync workers)
   with bench.settings, which only adds POST /bench/bare: a JSON view behind the same middleware.
3. Drives both with wrk (Debian package): validate gets a mix of 60 % valid keys, 30 % keys with
   an activated fingerprint and 10 % unknown keys; bare gets the same bodies.
4. Runs validate again at half its peak rate and reports that p99, then counts the SQL queries
   per validation in-process.

Not a test: nothing fails on a slow machine. Figures go to stdout and bench/.data/results.json.
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"
HOST = "127.0.0.1"
PORT = int(os.environ.get("BENCH_PORT", "8765"))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/qb_bench"


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def server_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    secrets_file = DATA / "secrets.json"
    if secrets_file.exists():
        secrets = json.loads(secrets_file.read_text())
    else:
        from cryptography.fernet import Fernet
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        signing = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        secrets = {
            "SECRET_KEY": os.urandom(32).hex(),
            "LICENSE_KEY_PEPPER": os.urandom(32).hex(),
            "LICENSE_KEY_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "LICENSE_SIGNING_KEY": signing.decode(),
        }
        DATA.mkdir(parents=True, exist_ok=True)
        secrets_file.write_text(json.dumps(secrets))
        secrets_file.chmod(0o600)
    env.update(secrets)
    env.update(
        {
            "DEBUG": "0",
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": database_url,
            "ALLOWED_HOSTS": HOST,
            "SECURE_SSL_REDIRECT": "0",
            "LOG_LEVEL": "WARNING",
            "LOG_REQUESTS": "0",
            # whitenoise warns that collectstatic has not run; the API serves no static files.
            "PYTHONWARNINGS": "ignore::UserWarning",
            # The limits stay on, high enough not to trip, so their cost is measured too.
            "LICENSE_RATE_LIMIT_IP": os.environ.get("BENCH_RATE_LIMIT_IP", "100000000/m"),
            "LICENSE_RATE_LIMIT_KEY": os.environ.get("BENCH_RATE_LIMIT_KEY", "100000000/m"),
        }
    )
    env.pop("LICENSE_SIGNING_KEYS_FILE", None)
    return env


def ensure_database(database_url: str) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            log(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def seed(count: int) -> None:
    """Runs inside Django (bench.settings, DEBUG off)."""
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from billing.models import Plan
    from licensing import keys
    from licensing.models import Device, License, LicenseKey

    call_command("migrate", verbosity=0)
    call_command("seed_plans", verbosity=0)
    sample_file = DATA / "keys.json"
    if License.objects.count() >= count and sample_file.exists():
        log(f"database already holds {License.objects.count()} licenses")
        return
    log(f"seeding {count} licenses (takes a minute)")
    Device.objects.all().delete()
    LicenseKey.objects.all().delete()
    License.objects.all().delete()
    User.objects.filter(email__endswith="@bench.invalid").delete()
    plans = list(Plan.objects.all())
    password = make_password(None)
    now = timezone.now()
    sample = {"valid": [], "device": []}
    batch = 5000
    for start in range(0, count, batch):
        with transaction.atomic():
            size = min(batch, count - start)
            users = User.objects.bulk_create(
                [User(email=f"user{start + i}@bench.invalid", password=password) for i in range(size)]
            )
            licenses = License.objects.bulk_create(
                [
                    License(
                        owner=user,
                        plan=plans[(start + i) % len(plans)],
                        expires_at=now + timezone.timedelta(days=30),
                    )
                    for i, user in enumerate(users)
                ]
            )
            plaintexts = [keys.generate() for _ in licenses]
            rows = LicenseKey.objects.bulk_create(
                [
                    LicenseKey(
                        license=license_,
                        holder=license_.owner,
                        digest=keys.digest(plaintext),
                        encrypted_key=keys.encrypt(plaintext),
                        prefix=keys.public_prefix(plaintext),
                    )
                    for license_, plaintext in zip(licenses, plaintexts, strict=True)
                ]
            )
            devices = []
            for i, (row, plaintext) in enumerate(zip(rows, plaintexts, strict=True)):
                if (start + i) % 5 == 0:
                    fingerprint = f"bench-device-{start + i}"
                    devices.append(Device(key=row, fingerprint=fingerprint, name="bench", platform="linux"))
                    if len(sample["device"]) < 3000:
                        sample["device"].append([plaintext, fingerprint])
                elif len(sample["valid"]) < 6000:
                    sample["valid"].append(plaintext)
            Device.objects.bulk_create(devices)
        log(f"  {start + size} / {count}")
    sample_file.write_text(json.dumps(sample))


def write_bodies(sample: dict, path: Path) -> None:
    """60 % valid keys, 30 % valid keys with their device, 10 % unknown keys, shuffled."""
    from licensing import keys

    bodies = [json.dumps({"key": key, "entitlements": ["core"]}) for key in sample["valid"][:6000]]
    bodies += [json.dumps({"key": key, "fingerprint": fp}) for key, fp in sample["device"][:3000]]
    bodies += [json.dumps({"key": keys.generate()}) for _ in range(1000)]
    random.Random(42).shuffle(bodies)
    path.write_text("\n".join(bodies) + "\n")


def wrk(url: str, bodies: Path, *, seconds: int, connections: int, threads: int, delay_ms: int = 0) -> dict:
    env = dict(os.environ, BENCH_BODIES=str(bodies), BENCH_DELAY_MS=str(delay_ms))
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(ROOT / "bench" / "validate.lua"),
        url,
    ]
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout  # noqa: S603
    match = re.search(
        r"BENCH requests=(\d+) seconds=([\d.]+) p50_us=(\d+) p90_us=(\d+) p99_us=(\d+) errors=(\d+)", output
    )
    if not match:
        raise SystemExit(f"wrk printed no summary:\n{output}")
    requests, duration, p50, p90, p99, errors = match.groups()
    rps = int(requests) / float(duration)
    log(f"  {url}: {rps:.0f} req/s, p50 {int(p50) / 1000:.2f} ms, p99 {int(p99) / 1000:.2f} ms")
    return {
        "rps": rps,
        "p50_ms": int(p50) / 1000,
        "p90_ms": int(p90) / 1000,
        "p99_ms": int(p99) / 1000,
        "errors": int(errors),
        "requests": int(requests),
    }


def gunicorn_command(workers: int) -> list[str]:
    """gunicorn as the bench serves it (gunicorn.conf.py in the working directory applies too)."""
    return [
        str(Path(sys.executable).parent / "gunicorn"),
        "qualitybytes.wsgi",
        f"--bind={HOST}:{PORT}",
        f"--workers={workers}",
        "--worker-class=sync",
        "--log-level=warning",
        "--backlog=2048",
    ]


def wait_for_server(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(url, data=b"{}", method="POST")  # noqa: S310 - loopback only
            urllib.request.urlopen(request, timeout=2)  # noqa: S310
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not start")


def check_answers(base: str, sample: dict) -> None:
    """wrk counts only 4xx / 5xx as errors: make sure a validation really answers 200 VALID."""
    body = json.dumps({"key": sample["valid"][0]}).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback only
        f"{base}/api/v1/licenses/validate", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        answer = json.loads(response.read())
        if response.status != 200 or answer.get("code") != "VALID":
            raise SystemExit(f"validate answered {response.status} {answer}; check the server settings")


def count_queries(sample: dict) -> dict:
    """Queries per validation, measured in-process on the same database."""
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from licensing import keys

    client = Client(HTTP_HOST=HOST)
    cases = {
        "valid key": {"key": sample["valid"][-1], "entitlements": ["core"]},
        "key + fingerprint": {"key": sample["device"][-1][0], "fingerprint": sample["device"][-1][1]},
        "unknown key": {"key": keys.generate()},
    }
    result = {}
    cache.clear()
    for name, body in cases.items():
        counts = []
        for _ in range(3):
            with CaptureQueriesContext(connection) as queries:
                response = client.post("/api/v1/licenses/validate", body, content_type="application/json")
            assert response.status_code == 200, response.content
            counts.append(len(queries))
        result[name] = counts
    return result


def prepare(licenses: int, *, recycle_workers: bool = True) -> tuple[dict[str, str], list, Path]:
    """What `make bench` and `make soak` both start from: the database at BENCH_DATABASE_URL
    seeded with `licenses` licenses, a sample of its keys and the request bodies made of them.
    Returns the server's environment (this process takes it too), the sample and the bodies' file."""
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    DATA.mkdir(parents=True, exist_ok=True)
    env = server_env(database_url)
    if not recycle_workers:
        env.pop("GUNICORN_MAX_REQUESTS", None)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    ensure_database(database_url)
    seed(licenses)
    sample = json.loads((DATA / "keys.json").read_text())
    bodies = DATA / "bodies.txt"
    write_bodies(sample, bodies)
    return env, sample, bodies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--licenses", type=int, default=int(os.environ.get("BENCH_LICENSES", "100000")))
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", "20")))
    parser.add_argument("--connections", type=int, default=int(os.environ.get("BENCH_CONNECTIONS", "32")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", "2")))
    parser.add_argument(
        "--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", str(2 * os.cpu_count())))
    )
    args = parser.parse_args()

    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    env, sample, bodies = prepare(args.licenses)

    gunicorn = gunicorn_command(args.workers)
    log(f"gunicorn, {args.workers} sync workers; wrk -t{args.threads} -c{args.connections} -d{args.seconds}s")
    server = subprocess.Popen(gunicorn, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
    base = f"http://{HOST}:{PORT}"
    try:
        wait_for_server(f"{base}/bench/bare")
        check_answers(base, sample)
        common = {"seconds": args.seconds, "connections": args.connections, "threads": args.threads}
        wrk(
            f"{base}/api/v1/licenses/validate",
            bodies,
            seconds=3,
            connections=args.connections,
            threads=args.threads,
        )
        validate = wrk(f"{base}/api/v1/licenses/validate", bodies, **common)
        bare = wrk(f"{base}/bench/bare", bodies, **common)
        # Half the peak rate: each connection pauses so the total is about rps / 2.
        target = validate["rps"] / 2
        delay_ms = max(1, round(args.connections * 1000 / target - validate["p50_ms"] / 2))
        half = wrk(f"{base}/api/v1/licenses/validate", bodies, delay_ms=delay_ms, **common)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    queries = count_queries(sample)

    ratio = validate["rps"] / bare["rps"]
    results = {
        "licenses": args.licenses,
        "workers": args.workers,
        "connections": args.connections,
        "validate": validate,
        "bare": bare,
        "ratio": ratio,
        "half_rate": {"target_rps": target, **half},
        "queries_per_validation": queries,
    }
    (DATA / "results.json").write_text(json.dumps(results, indent=2))
    print()
    print(f"{'':28}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, row in (
        ("bare Django JSON view", bare),
        ("validate (peak)", validate),
        ("validate (half rate)", half),
    ):
        print(f"{name:28}{row['rps']:>10.0f}{row['p50_ms']:>10.2f}{row['p99_ms']:>10.2f}{row['errors']:>8}")
    print(f"\nratio validate / bare: {ratio:.2f}  (target >= 0.5, stretch 0.7)")
    print(f"p99 at half the peak rate ({half['rps']:.0f} req/s): {half['p99_ms']:.2f} ms  (target <= 25 ms)")
    for name, counts in queries.items():
        print(f"SQL queries per validation, {name}: {' / '.join(map(str, counts))} (three calls in a row)")


if __name__ == "__main__":
    main()

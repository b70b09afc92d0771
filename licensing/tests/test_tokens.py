import base64
import hashlib
import hmac
import io
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from licensing import tokens

ROOT = Path(__file__).resolve().parents[2]
CLAIMS = {"sub": "user-1", "license": "lic-1", "plan": "solo", "entitlements": ["core"], "grace": False}


def in_days(days: float) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segments(token: str) -> list[str]:
    return token.split(".")


def payload_of(token: str) -> dict:
    part = segments(token)[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def private_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture(autouse=True)
def fresh_key_cache():
    tokens.clear_cache()
    yield
    tokens.clear_cache()


@pytest.fixture
def keyring_path(settings, tmp_path):
    """A real keyring in a temporary directory, created the way an operator would."""
    path = tmp_path / "signing-keys.json"
    settings.LICENSE_SIGNING_KEY = ""
    settings.LICENSE_SIGNING_KEYS_FILE = str(path)
    settings.LICENSE_SIGNING_KEYS_AUTOCREATE = False
    settings.LICENSE_TOKEN_TTL_SECONDS = 3 * 24 * 3600
    call_command("rotate_signing_key", "--create", stdout=io.StringIO())
    return path


def rotate(**kwargs) -> str:
    call_command("rotate_signing_key", stdout=io.StringIO(), **kwargs)
    return tokens.current_keyring().active.kid


def read_keyring(path: Path) -> dict:
    return json.loads(path.read_text())


# Issuing and verifying


def test_a_token_verifies_with_the_servers_jwks(keyring_path, settings):
    token = tokens.issue(CLAIMS, expires_at=in_days(1))

    claims = tokens.verify(token)

    assert {name: claims[name] for name in CLAIMS} == CLAIMS
    assert claims["iss"] == settings.SITE_URL
    assert claims["exp"] - claims["iat"] == pytest.approx(24 * 3600, abs=2)


def test_the_header_names_eddsa_and_the_active_kid(keyring_path):
    token = tokens.issue(CLAIMS, expires_at=in_days(1))

    header = jwt.get_unverified_header(token)

    assert header["alg"] == "EdDSA"
    assert header["kid"] == tokens.current_keyring().active.kid == read_keyring(keyring_path)["active"]


def test_a_client_verifies_offline_with_plain_pyjwt_and_the_jwks_endpoint(keyring_path, client, settings):
    token = tokens.issue(CLAIMS, expires_at=in_days(1))
    published = client.get("/.well-known/jwks.json").json()

    # What docs/client-guide.md tells app developers to do, with no server code involved.
    keys = {key.key_id: key for key in jwt.PyJWKSet.from_dict(published).keys}
    signing_key = keys[jwt.get_unverified_header(token)["kid"]]
    claims = jwt.decode(
        token,
        signing_key,
        algorithms=["EdDSA"],
        issuer=settings.SITE_URL,
        leeway=300,
        options={"require": ["exp", "iat", "iss"]},
    )

    assert claims["license"] == "lic-1"


def test_the_client_snippet_in_the_docs_verifies_offline(keyring_path, client, settings, tmp_path):
    guide = (ROOT / "docs" / "client-guide.md").read_text()
    section = guide.split("### Verifying a token offline in the app", 1)[1]
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(snippet, "docs/client-guide.md", "exec"), namespace)
    namespace["ISSUER"] = settings.SITE_URL
    namespace["JWKS_FILE"] = tmp_path / "jwks.json"
    namespace["JWKS_FILE"].write_bytes(client.get("/.well-known/jwks.json").content)
    token = tokens.issue(CLAIMS, expires_at=in_days(1))

    assert namespace["verify_offline"](token)["entitlements"] == ["core"]
    rotate()
    with pytest.raises(jwt.InvalidTokenError, match="refresh_jwks"):
        namespace["verify_offline"](tokens.issue(CLAIMS, expires_at=in_days(1)))


def test_a_token_from_an_instance_whose_clock_runs_ahead_verifies(keyring_path):
    active = tokens.current_keyring().active
    claims = payload_of(tokens.issue(CLAIMS, expires_at=in_days(1)))
    claims["iat"] += 30
    token = jwt.encode(claims, active.private_key, algorithm="EdDSA", headers={"kid": active.kid})

    assert tokens.verify(token)["sub"] == "user-1"


def test_verify_accepts_a_stored_jwks(keyring_path):
    token = tokens.issue(CLAIMS, expires_at=in_days(1))
    stored = json.loads(json.dumps(tokens.jwks()))

    assert tokens.verify(token, jwks=stored)["sub"] == "user-1"


def test_exp_is_never_later_than_the_token_ttl(keyring_path, settings):
    settings.LICENSE_TOKEN_TTL_SECONDS = 3600

    claims = tokens.verify(tokens.issue(CLAIMS, expires_at=in_days(365)))

    assert claims["exp"] - claims["iat"] == 3600


def test_exp_is_the_license_end_when_that_comes_first(keyring_path):
    ends = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=5)

    claims = tokens.verify(tokens.issue(CLAIMS, expires_at=ends))

    assert claims["exp"] == int(ends.timestamp())


def test_claims_may_hold_uuids_and_datetimes(keyring_path):
    license_id = uuid.uuid4()
    grace_ends = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)

    claims = tokens.verify(
        tokens.issue({"license": license_id, "grace_ends": grace_ends}, expires_at=in_days(1))
    )

    assert claims["license"] == str(license_id)
    assert claims["grace_ends"] == "2030-01-02T03:04:05Z"


def test_issue_refuses_a_naive_expiry(keyring_path):
    with pytest.raises(ValueError, match="timezone-aware"):
        tokens.issue(CLAIMS, expires_at=datetime.now() + timedelta(days=1))


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "nbf"])
def test_issue_refuses_to_let_callers_set_registered_time_and_issuer_claims(keyring_path, claim):
    with pytest.raises(ValueError, match=claim):
        tokens.issue({**CLAIMS, claim: 1}, expires_at=in_days(1))


# Tokens that must fail


def test_a_tampered_payload_fails(keyring_path):
    header, _, signature = segments(tokens.issue(CLAIMS, expires_at=in_days(1)))
    forged_claims = payload_of(tokens.issue(CLAIMS, expires_at=in_days(1))) | {"plan": "enterprise"}
    forged = f"{header}.{b64url(json.dumps(forged_claims).encode())}.{signature}"

    with pytest.raises(tokens.InvalidToken):
        tokens.verify(forged)


def test_a_tampered_signature_fails(keyring_path):
    header, payload, signature = segments(tokens.issue(CLAIMS, expires_at=in_days(1)))
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[0] ^= 1
    flipped = b64url(bytes(raw))

    with pytest.raises(tokens.InvalidToken):
        tokens.verify(f"{header}.{payload}.{flipped}")


def test_alg_none_fails(keyring_path):
    kid = tokens.current_keyring().active.kid
    claims = payload_of(tokens.issue(CLAIMS, expires_at=in_days(1)))
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": kid})
    header = b64url(json.dumps({"alg": "none", "kid": kid, "typ": "JWT"}).encode())
    handmade = f"{header}.{b64url(json.dumps(claims).encode())}."

    for token in (unsigned, handmade):
        with pytest.raises(tokens.InvalidToken, match="not allowed"):
            tokens.verify(token)
        with pytest.raises(tokens.InvalidToken):
            tokens.verify(token, jwks=tokens.jwks())


def test_hs256_signed_with_the_public_key_fails(keyring_path):
    active = tokens.current_keyring().active
    jwk = active.public_jwk()
    claims = payload_of(tokens.issue(CLAIMS, expires_at=in_days(1)))
    public_key_forms = [
        base64.urlsafe_b64decode(jwk["x"] + "="),
        active.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        jwk["x"].encode(),
        json.dumps(jwk).encode(),
    ]
    for secret in public_key_forms:
        header = b64url(json.dumps({"alg": "HS256", "kid": active.kid, "typ": "JWT"}).encode())
        signing_input = f"{header}.{b64url(json.dumps(claims).encode())}"
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        token = f"{signing_input}.{b64url(mac)}"

        with pytest.raises(tokens.InvalidToken, match="not allowed"):
            tokens.verify(token)


def test_a_token_signed_by_another_ed25519_key_under_our_kid_fails(keyring_path):
    kid = tokens.current_keyring().active.kid
    forged = jwt.encode(
        payload_of(tokens.issue(CLAIMS, expires_at=in_days(1))),
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
        headers={"kid": kid},
    )

    with pytest.raises(tokens.InvalidToken):
        tokens.verify(forged)


def test_an_expired_token_fails(keyring_path):
    token = tokens.issue(CLAIMS, expires_at=datetime.now(UTC) - timedelta(seconds=1))

    with pytest.raises(tokens.TokenExpired):
        tokens.verify(token)


@pytest.mark.parametrize("kid", ["unknown-kid", None, 7, ["x"], {"kid": "x"}])
def test_an_unknown_or_missing_kid_fails(keyring_path, kid):
    header = {"alg": "EdDSA", "typ": "JWT"} | ({"kid": kid} if kid is not None else {})
    signing_input = ".".join(
        b64url(json.dumps(part).encode())
        for part in (header, payload_of(tokens.issue(CLAIMS, expires_at=in_days(1))))
    )
    signature = Ed25519PrivateKey.generate().sign(signing_input.encode())

    with pytest.raises(tokens.InvalidToken):
        tokens.verify(f"{signing_input}.{b64url(signature)}")


def test_a_kid_known_to_nobody_is_reported_as_unknown(keyring_path):
    token = jwt.encode(
        payload_of(tokens.issue(CLAIMS, expires_at=in_days(1))),
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
        headers={"kid": "unknown-kid"},
    )

    with pytest.raises(tokens.InvalidToken, match="unknown kid"):
        tokens.verify(token)


@pytest.mark.parametrize(
    "keyset",
    [
        {},
        {"keys": None},
        {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "KID"}]},
        {"keys": [{"kty": "OKP", "crv": "Ed448", "x": "AAAA", "kid": "KID"}]},
        {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AAAA", "kid": "KID"}]},
    ],
)
def test_a_stored_jwks_without_a_usable_ed25519_key_for_the_kid_fails(keyring_path, keyset):
    token = tokens.issue(CLAIMS, expires_at=in_days(1))
    keyset = json.loads(json.dumps(keyset).replace("KID", tokens.current_keyring().active.kid))

    with pytest.raises(tokens.InvalidToken):
        tokens.verify(token, jwks=keyset)


def test_a_token_from_another_issuer_fails(keyring_path, settings):
    token = tokens.issue(CLAIMS, expires_at=in_days(1))
    settings.SITE_URL = "https://elsewhere.example"

    with pytest.raises(tokens.InvalidToken):
        tokens.verify(token)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "....", None, b"\x00\xff"])
def test_garbage_fails_cleanly(keyring_path, garbage):
    with pytest.raises(tokens.InvalidToken):
        tokens.verify(garbage)


def test_invalid_token_is_a_pyjwt_error_so_either_can_be_caught(keyring_path):
    with pytest.raises(jwt.InvalidTokenError):
        tokens.verify("a.b.c")


# Rotation


def test_after_rotation_old_tokens_still_verify_and_new_tokens_use_the_new_kid(keyring_path, client):
    old_kid = tokens.current_keyring().active.kid
    old_token = tokens.issue(CLAIMS, expires_at=in_days(1))

    new_kid = rotate()
    new_token = tokens.issue(CLAIMS, expires_at=in_days(1))

    assert new_kid != old_kid
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid
    assert tokens.verify(old_token)["sub"] == tokens.verify(new_token)["sub"] == "user-1"
    published = client.get("/.well-known/jwks.json").json()
    assert [key["kid"] for key in published["keys"]] == [new_kid, old_kid]


def test_rotation_keeps_the_old_key_published_until_its_tokens_expire(keyring_path, settings):
    settings.LICENSE_TOKEN_TTL_SECONDS = 2 * 3600
    old_kid = tokens.current_keyring().active.kid
    before = datetime.now(UTC)

    rotate()

    old_entry = next(entry for entry in read_keyring(keyring_path)["keys"] if entry["kid"] == old_kid)
    publish_until = datetime.fromisoformat(old_entry["publish_until"])
    assert before + timedelta(hours=2) < publish_until <= datetime.now(UTC) + timedelta(hours=2, minutes=6)


def test_rotation_removes_the_old_private_key_from_the_keyring(keyring_path):
    rotate()
    rotate()

    entries = read_keyring(keyring_path)["keys"]
    assert len(entries) == 3
    assert ["private_key" in entry for entry in entries] == [True, False, False]
    assert oct(keyring_path.stat().st_mode & 0o777) == "0o600"


def test_a_key_past_its_retirement_disappears(keyring_path, client):
    old_kid = tokens.current_keyring().active.kid
    old_token = tokens.issue(CLAIMS, expires_at=in_days(1))
    new_kid = rotate()
    # Jump to the end of the old key's publication by writing the date an earlier rotation would have.
    data = read_keyring(keyring_path)
    data["keys"][1]["publish_until"] = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    keyring_path.write_text(json.dumps(data))

    assert [key["kid"] for key in client.get("/.well-known/jwks.json").json()["keys"]] == [new_kid]
    with pytest.raises(tokens.InvalidToken, match="unknown kid"):
        tokens.verify(old_token)

    call_command("rotate_signing_key", stdout=io.StringIO())
    assert old_kid not in {entry["kid"] for entry in read_keyring(keyring_path)["keys"]}


def test_the_command_prints_the_new_kid_and_what_stays_published(keyring_path, capsys):
    old_kid = tokens.current_keyring().active.kid

    call_command("rotate_signing_key")

    out = capsys.readouterr().out
    assert f"New active signing key: {tokens.current_keyring().active.kid}" in out
    assert f"Still published: {old_kid} until" in out


def test_a_rotation_by_another_process_reaches_this_one(keyring_path, settings):
    old_kid = tokens.current_keyring().active.kid
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DEBUG": "1",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "DJANGO_SETTINGS_MODULE": "qualitybytes.settings",
        "LICENSE_SIGNING_KEYS_FILE": str(keyring_path),
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "rotate_signing_key"], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
    new_kid = tokens.current_keyring().active.kid
    assert new_kid != old_kid
    assert f"New active signing key: {new_kid}" in result.stdout
    assert jwt.get_unverified_header(tokens.issue(CLAIMS, expires_at=in_days(1)))["kid"] == new_kid


def test_concurrent_rotations_lose_no_key(keyring_path):
    first_kid = tokens.current_keyring().active.kid
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DEBUG": "1",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "DJANGO_SETTINGS_MODULE": "qualitybytes.settings",
        "LICENSE_SIGNING_KEYS_FILE": str(keyring_path),
    }
    runs = [
        subprocess.Popen(
            [sys.executable, "manage.py", "rotate_signing_key"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [run.communicate(timeout=60) for run in runs]

    assert [run.returncode for run in runs] == [0, 0, 0, 0], [err for _, err in outputs]
    printed = {out.strip().rsplit(" ", 1)[-1] for out, _ in outputs}
    published = {key["kid"] for key in tokens.jwks()["keys"]}
    assert published == printed | {first_kid}
    assert tokens.current_keyring().active.kid in printed


def test_rotation_keeps_the_mode_the_operator_gave_the_keyring_and_warns_if_anyone_can_read_it(keyring_path):
    keyring_path.chmod(0o644)
    err = io.StringIO()

    call_command("rotate_signing_key", stdout=io.StringIO(), stderr=err)

    assert oct(keyring_path.stat().st_mode & 0o777) == "0o644"
    assert f"chmod o-rwx {keyring_path}" in err.getvalue()


# The command's bad input


def test_the_command_refuses_a_key_from_the_environment_and_says_what_to_do(keyring_path, settings):
    settings.LICENSE_SIGNING_KEYS_FILE = ""
    settings.LICENSE_SIGNING_KEY = private_pem(Ed25519PrivateKey.generate())

    with pytest.raises(CommandError, match="LICENSE_SIGNING_KEY.*--keyring PATH.*LICENSE_SIGNING_KEYS_FILE"):
        call_command("rotate_signing_key")


def test_the_command_moves_a_key_from_the_environment_into_a_keyring(settings, tmp_path):
    env_key = Ed25519PrivateKey.generate()
    settings.LICENSE_SIGNING_KEYS_FILE = ""
    settings.LICENSE_SIGNING_KEY = private_pem(env_key)
    token_from_env_key = tokens.issue(CLAIMS, expires_at=in_days(1))
    path = tmp_path / "moved.json"

    call_command("rotate_signing_key", "--keyring", str(path), stdout=io.StringIO())
    settings.LICENSE_SIGNING_KEY = ""
    settings.LICENSE_SIGNING_KEYS_FILE = str(path)

    assert tokens.current_keyring().active.kid != tokens.kid_for(env_key.public_key())
    assert tokens.verify(token_from_env_key)["sub"] == "user-1"


def test_the_command_wants_create_before_starting_a_new_keyring(keyring_path, tmp_path):
    missing = tmp_path / "typo.json"

    with pytest.raises(CommandError, match="does not exist.*--create"):
        call_command("rotate_signing_key", "--keyring", str(missing))
    assert not missing.exists()


def test_the_command_reports_a_keyring_it_cannot_write(keyring_path, tmp_path):
    not_a_directory = tmp_path / "a-file"
    not_a_directory.write_text("")

    with pytest.raises(CommandError, match="Cannot write signing keyring.*not a directory"):
        call_command("rotate_signing_key", "--create", "--keyring", str(not_a_directory / "keys.json"))


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not valid JSON"),
        ('{"format": 99, "keys": []}', "invalid"),
        ('{"format": 1, "active": "x", "keys": [{"kid": "x", "x": "AAAA"}]}', "invalid"),
    ],
)
def test_the_command_refuses_a_damaged_keyring_and_leaves_it_alone(keyring_path, content, message):
    keyring_path.write_text(content)

    with pytest.raises(CommandError, match=message):
        call_command("rotate_signing_key")
    assert keyring_path.read_text() == content


def test_a_keyring_whose_kid_does_not_match_its_key_is_refused(keyring_path):
    data = read_keyring(keyring_path)
    data["keys"][0]["kid"] = "someone-elses-kid"
    keyring_path.write_text(json.dumps(data))

    with pytest.raises(ImproperlyConfigured, match="does not match"):
        tokens.issue(CLAIMS, expires_at=in_days(1))


def test_the_command_exits_non_zero_on_bad_input(tmp_path):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DEBUG": "1",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "DJANGO_SETTINGS_MODULE": "qualitybytes.settings",
        "LICENSE_SIGNING_KEYS_FILE": str(tmp_path / "missing.json"),
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "rotate_signing_key"], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert result.returncode == 1
    assert "does not exist" in result.stderr


# Where the keys come from


def test_a_key_from_the_environment_signs_and_is_published(settings):
    key = Ed25519PrivateKey.generate()
    settings.LICENSE_SIGNING_KEYS_FILE = ""
    # As a one-line .env value with literal "\n".
    settings.LICENSE_SIGNING_KEY = private_pem(key).replace("\n", "\\n")

    token = tokens.issue(CLAIMS, expires_at=in_days(1))

    assert jwt.get_unverified_header(token)["kid"] == tokens.kid_for(key.public_key())
    assert [jwk["kid"] for jwk in tokens.jwks()["keys"]] == [tokens.kid_for(key.public_key())]
    assert tokens.verify(token)["sub"] == "user-1"


@pytest.mark.parametrize(
    "value",
    [
        "secret-garbage-" * 8,
        generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode(),
    ],
)
def test_a_bad_key_in_the_environment_is_refused_without_echoing_it(settings, value):
    settings.LICENSE_SIGNING_KEYS_FILE = ""
    settings.LICENSE_SIGNING_KEY = value

    with pytest.raises(ImproperlyConfigured, match="LICENSE_SIGNING_KEY") as error:
        tokens.issue(CLAIMS, expires_at=in_days(1))
    assert value[40:60] not in str(error.value)


def test_no_key_at_all_is_an_improper_configuration(settings):
    settings.LICENSE_SIGNING_KEY = ""
    settings.LICENSE_SIGNING_KEYS_FILE = ""

    with pytest.raises(ImproperlyConfigured, match="No token signing key"):
        tokens.jwks()


def test_a_configured_keyring_that_is_missing_is_an_improper_configuration(settings, tmp_path):
    settings.LICENSE_SIGNING_KEY = ""
    settings.LICENSE_SIGNING_KEYS_FILE = str(tmp_path / "gone.json")
    settings.LICENSE_SIGNING_KEYS_AUTOCREATE = False

    with pytest.raises(ImproperlyConfigured, match="does not exist"):
        tokens.issue(CLAIMS, expires_at=in_days(1))


def test_debug_creates_a_development_keyring_once(settings, tmp_path, caplog):
    path = tmp_path / "var" / "signing-keys.json"
    settings.LICENSE_SIGNING_KEY = ""
    settings.LICENSE_SIGNING_KEYS_FILE = str(path)
    settings.LICENSE_SIGNING_KEYS_AUTOCREATE = True

    token = tokens.issue(CLAIMS, expires_at=in_days(1))
    tokens.clear_cache()

    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert tokens.verify(token)["sub"] == "user-1"
    assert "Generated a development token signing keyring" in caplog.text
    assert "PRIVATE KEY" not in caplog.text
    assert read_keyring(path)["keys"][0]["private_key"][40:80] not in caplog.text


def test_processes_starting_together_share_one_development_keyring(tmp_path):
    path = tmp_path / "var" / "signing-keys.json"
    script = (
        "import django; django.setup()\n"
        "from datetime import UTC, datetime, timedelta\n"
        "import jwt\n"
        "from django.conf import settings\n"
        "from licensing import tokens\n"
        f"settings.LICENSE_SIGNING_KEYS_FILE = {str(path)!r}\n"
        "token = tokens.issue({}, expires_at=datetime.now(UTC) + timedelta(hours=1))\n"
        "print(jwt.get_unverified_header(token)['kid'])\n"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DEBUG": "1",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "DJANGO_SETTINGS_MODULE": "qualitybytes.settings",
    }
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    outputs = [run.communicate(timeout=60) for run in runs]

    assert [run.returncode for run in runs] == [0] * 6, [err for _, err in outputs]
    assert {out.strip() for out, _ in outputs} == {read_keyring(path)["active"]}


def test_settings_refuse_to_start_without_a_signing_key_when_debug_is_off():
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DEBUG": "0",
        "SECRET_KEY": "prod-like-secret-" + "x7Kq9Vb2" * 8,
        "ALLOWED_HOSTS": "licenses.qualitybytes.example",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "LICENSE_KEY_PEPPER": "p" * 43,
        "LICENSE_KEY_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "DJANGO_SETTINGS_MODULE": "qualitybytes.settings",
    }

    missing = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    configured = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env | {"LICENSE_SIGNING_KEY": private_pem(Ed25519PrivateKey.generate())},
        capture_output=True,
        text=True,
    )

    assert missing.returncode != 0
    assert "No license token signing key" in missing.stderr
    assert configured.returncode == 0, configured.stderr


# The JWKS endpoint


def test_the_jwks_endpoint_publishes_public_keys_with_a_cache_header(keyring_path, client):
    response = client.get("/.well-known/jwks.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "public" in response["Cache-Control"]
    assert "max-age=300" in response["Cache-Control"]
    [key] = response.json()["keys"]
    assert key == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": key["x"],
        "kid": tokens.current_keyring().active.kid,
        "use": "sig",
        "alg": "EdDSA",
    }


def test_the_jwks_endpoint_only_answers_reads(keyring_path, client):
    assert client.post("/.well-known/jwks.json").status_code == 405
    assert client.head("/.well-known/jwks.json").status_code == 200

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

ROOT = Path(__file__).resolve().parents[2]


def signing_key_pem() -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def production_env(**overrides) -> dict:
    """An environment like production's: DEBUG off and every required secret set."""
    env = {
        "LICENSE_KEY_PEPPER": "pepper-" + "Qx81mZ" * 8,
        "LICENSE_KEY_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "LICENSE_SIGNING_KEY": signing_key_pem(),
        "PATH": os.environ.get("PATH", ""),
        "DEBUG": "0",
        "SECRET_KEY": "prod-like-secret-" + "x7Kq9Vb2" * 8,
        "ALLOWED_HOSTS": "licenses.qualitybytes.example",
        "CSRF_TRUSTED_ORIGINS": "https://licenses.qualitybytes.example",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "DJANGO_SETTINGS_MODULE": "qualitybytes.settings",
    }
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def run_manage(*args, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_settings_refuse_to_start_without_secret_key_when_debug_is_off():
    result = run_manage("check", env=production_env(SECRET_KEY=None))
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_settings_start_without_secret_key_in_debug():
    result = run_manage("check", env=production_env(SECRET_KEY=None, DEBUG="1"))
    assert result.returncode == 0, result.stderr


def test_check_deploy_reports_no_issues_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "name, value, expected",
    [("DEBUG", "yes", True), ("DEBUG", "0", False), ("DEBUG", "", False), ("DEBUG", "TRUE", True)],
)
def test_boolean_environment_values_are_read_leniently(monkeypatch, name, value, expected):
    from qualitybytes.settings import env_bool

    monkeypatch.setenv(name, value)
    assert env_bool(name, False) is expected


def test_list_environment_values_are_split_on_commas(monkeypatch):
    from qualitybytes.settings import env_list

    monkeypatch.setenv("ALLOWED_HOSTS", " a.example , b.example,, ")
    assert env_list("ALLOWED_HOSTS") == ["a.example", "b.example"]

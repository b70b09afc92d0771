"""The CI helpers' judgement: .ci/audit.py must tell "vulnerable" from "could not check"."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def audit():
    spec = importlib.util.spec_from_file_location("ci_audit", ROOT / ".ci" / "audit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CLEAN = {"name": "django", "version": "5.2.19", "vulns": []}
VULNERABLE = {
    "name": "requests",
    "version": "2.0.0",
    "vulns": [{"id": "PYSEC-2023-74", "fix_versions": ["2.31.0"], "aliases": [], "description": ""}],
}
# What pip-audit writes when PyPI cannot be reached for a package (as offline here).
UNREACHABLE = {
    "name": "gunicorn",
    "skip_reason": "Dependency not found on PyPI and could not be audited: gunicorn (27.0.1)",
}


def test_a_known_vulnerability_fails(audit):
    status, lines = audit.verdict({"dependencies": [CLEAN, VULNERABLE]}, strict=False)
    assert status == 1
    assert "VULNERABLE requests 2.0.0: PYSEC-2023-74 (fixed in 2.31.0)" in lines


def test_no_vulnerabilities_passes(audit):
    status, lines = audit.verdict({"dependencies": [CLEAN]}, strict=False)
    assert status == 0
    assert lines[-1] == "pip-audit: no known vulnerabilities in 1 audited package(s)."


def test_packages_that_could_not_be_checked_are_named_and_do_not_fail_ci_for_lack_of_network(audit):
    status, lines = audit.verdict({"dependencies": [CLEAN, UNREACHABLE]}, strict=False)
    assert status == 0
    assert lines[0].startswith("NOT AUDITED: 1 of 2 packages") and lines[0].endswith("gunicorn.")
    assert "not a pass" in lines[1]


def test_strict_mode_fails_when_anything_could_not_be_checked(audit):
    assert audit.verdict({"dependencies": [CLEAN, UNREACHABLE]}, strict=True)[0] == 1


def test_a_vulnerability_fails_even_when_other_packages_could_not_be_checked(audit):
    assert audit.verdict({"dependencies": [UNREACHABLE, VULNERABLE]}, strict=False)[0] == 1


def test_nothing_audited_is_not_called_clean(audit):
    status, lines = audit.verdict({"dependencies": [UNREACHABLE]}, strict=False)
    assert status == 0
    assert not any("no known vulnerabilities" in line for line in lines)

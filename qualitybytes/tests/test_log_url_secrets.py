"""Secrets that travel in URLs (invitation tokens, password-reset and email-confirmation keys)
never reach a log line: not the per-request line, not Django's "Not Found" warning."""

import logging
import secrets

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from qualitybytes.logging import JsonFormatter, MaskSecretsFilter, RequestIdFilter, mask_secrets
from teams.tests.factories import InvitationFactory

# URL arguments that carry a secret; any route that takes one must be masked in logs.
SECRET_ARGUMENTS = {"token", "key"}


@pytest.fixture
def log_lines():
    """What the production handler writes for the request loggers, and each raw record's path."""
    lines: list[str] = []
    paths: list[str] = []

    class ListHandler(logging.Handler):
        def emit(self, record):
            paths.append(str(getattr(record, "path", "")))
            lines.append(self.format(record))

    handler = ListHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(MaskSecretsFilter())
    names = ("qualitybytes.request", "django.request", "django.server")
    loggers = [logging.getLogger(name) for name in names]
    for logger in loggers:
        logger.addHandler(handler)
    yield lines, paths
    for logger in loggers:
        logger.removeHandler(handler)


def _secret() -> str:
    return secrets.token_urlsafe(24)


def _secret_routes(resolver=None, namespace=""):
    """(name, secret argument names, other argument names) of every route taking a secret."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _secret_routes(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            names = set(entry.pattern.regex.groupindex)
            if names & SECRET_ARGUMENTS:
                yield f"{namespace}{entry.name}", names & SECRET_ARGUMENTS, names - SECRET_ARGUMENTS


def test_the_routes_that_carry_secrets_are_the_ones_we_know():
    names = {name for name, _, _ in _secret_routes()}
    assert {"teams:join", "account_confirm_email", "account_reset_password_from_key"} <= names


@pytest.mark.parametrize("route", list(_secret_routes()), ids=lambda route: route[0])
def test_every_route_that_carries_a_secret_is_masked(route):
    name, secret_names, other_names = route
    secret = _secret()
    kwargs = {argument: secret for argument in secret_names} | {argument: "3" for argument in other_names}
    path = reverse(name, kwargs=kwargs)
    masked = mask_secrets(f"GET {path} 200")
    assert secret not in masked and secret[:8] not in masked
    assert "[masked]" in masked


@pytest.mark.django_db
def test_an_invitation_link_is_logged_without_its_token(client, log_lines):
    lines, paths = log_lines
    invitation = InvitationFactory()
    unknown = _secret()
    assert client.get(reverse("teams:join", args=[invitation.token])).status_code == 200
    assert client.get(reverse("teams:join", args=[unknown])).status_code == 404  # Django warns "Not Found"
    assert len(lines) >= 3
    for text in lines + paths:
        assert invitation.token not in text and unknown not in text
    assert "/team/join/[masked]/" in paths


@pytest.mark.django_db
def test_password_reset_and_email_confirmation_links_are_logged_without_their_keys(client, log_lines):
    lines, paths = log_lines
    reset_key = f"{secrets.token_hex(8)}-{secrets.token_hex(16)}"  # Django's token: timestamp-hash
    confirm_key = f"{secrets.token_hex(8)}:{secrets.token_hex(16)}"
    client.get(reverse("account_reset_password_from_key", kwargs={"uidb36": "3", "key": reset_key}))
    client.get(reverse("account_confirm_email", kwargs={"key": confirm_key}))
    assert len(paths) >= 2
    for text in lines + paths:
        for part in (*reset_key.split("-"), *confirm_key.split(":")):
            assert part not in text
    assert "/accounts/password/reset/key/3-[masked]/" in paths


def test_allauths_set_password_step_is_not_a_secret():
    path = "/accounts/password/reset/key/3-set-password/"
    assert mask_secrets(path) == path

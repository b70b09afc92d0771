import json
import logging
import uuid

import pytest

from qualitybytes.logging import JsonFormatter, MaskSecretsFilter, RequestIdFilter, mask_secrets

KEY = "QB-7K3MX-9QW2D-ABCDE-FGHJK-MNPQR-STVWX-YZ012"


@pytest.fixture
def json_log():
    """Records of the `qualitybytes.test` and request loggers, formatted as production does."""
    lines: list[str] = []

    class ListHandler(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = ListHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(MaskSecretsFilter())
    loggers = [logging.getLogger("qualitybytes.test"), logging.getLogger("qualitybytes.request")]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield lines
    for logger in loggers:
        logger.removeHandler(handler)


def test_a_full_license_key_logged_by_mistake_comes_out_masked(json_log):
    logging.getLogger("qualitybytes.test").warning("Could not validate %s for %s", KEY, "a@example.com")
    entry = json.loads(json_log[-1])
    assert entry["message"] == "Could not validate QB-7K3MX-[masked] for a@example.com"
    assert "9QW2D" not in json_log[-1]


@pytest.mark.parametrize(
    "text",
    [
        KEY.lower(),
        KEY.replace("-", ""),
        "QB-7K3MX-9QW2D-ABCDE",  # a partial key is still secret beyond its prefix
    ],
)
def test_keys_in_other_spellings_are_masked(text):
    masked = mask_secrets(f"key={text}!")
    assert "9QW2D" not in masked.upper()
    assert masked.upper().startswith("KEY=QB")


def test_the_public_prefix_alone_is_kept():
    assert mask_secrets("key QB-7K3MX was revoked") == "key QB-7K3MX was revoked"


@pytest.mark.parametrize(
    "secret",
    [
        "qbt_Zx9-aB_cdEfGhIjKlMnOpQrStUvWxYz0123456789abc",
        "sk_live_51QbAbCdEfGhIjKlMnOpQrSt",
        "sk_test_51QbSimulatorOnlyNotARealStripeKey0000",
        "whsec_0123456789abcdef0123456789abcdef",
    ],
)
def test_api_tokens_and_stripe_secrets_are_masked(json_log, secret):
    logging.getLogger("qualitybytes.test").error("Stripe said no", extra={"api_key": secret})
    logging.getLogger("qualitybytes.test").error("Using %s", secret)
    kind = secret.split("_")[0]
    assert all(secret not in line for line in json_log)
    assert json.loads(json_log[-1])["message"].startswith(f"Using {kind}_")


def test_keys_in_a_traceback_are_masked(json_log):
    try:
        raise ValueError(f"bad key {KEY}")
    except ValueError:
        logging.getLogger("qualitybytes.test").exception("Validation failed")
    entry = json.loads(json_log[-1])
    assert "ValueError: bad key QB-7K3MX-[masked]" in entry["exc_info"]
    assert "9QW2D" not in json_log[-1]


@pytest.mark.django_db
def test_each_request_gets_an_id_echoed_in_the_response_and_the_log(client, json_log):
    response = client.get("/healthz")  # health probes are not logged
    assert "X-Request-ID" not in response
    response = client.get("/pricing/")
    request_id = response["X-Request-ID"]
    assert uuid.UUID(request_id).version == 4
    entry = json.loads(json_log[-1])
    assert entry["request_id"] == request_id
    assert entry["logger"] == "qualitybytes.request"
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/pricing/", 200)
    assert entry["duration_ms"] >= 0


@pytest.mark.django_db
def test_a_well_formed_incoming_request_id_is_kept(client):
    response = client.get("/pricing/", HTTP_X_REQUEST_ID="lb-4f1c2a9e.77:01")
    assert response["X-Request-ID"] == "lb-4f1c2a9e.77:01"


@pytest.mark.django_db
@pytest.mark.parametrize("incoming", ["short", "x" * 200, "abc def ghi", 'a"}\n{"forged":1'])
def test_a_malformed_incoming_request_id_is_replaced(client, incoming):
    response = client.get("/pricing/", HTTP_X_REQUEST_ID=incoming)
    assert uuid.UUID(response["X-Request-ID"]).version == 4


def test_log_format_defaults_to_json_without_debug_and_text_with_it():
    from qualitybytes.tests.test_settings import production_env, run_manage

    def log_format(**env) -> str:
        code = "from django.conf import settings; print(settings.LOG_FORMAT)"
        return run_manage("shell", "-c", code, env=production_env(**env)).stdout.split()[-1]

    assert log_format() == "json"
    assert log_format(DEBUG="1") == "text"
    assert log_format(LOG_FORMAT="text") == "text"


def test_production_logs_are_one_json_object_per_line():
    from qualitybytes.tests.test_settings import production_env, run_manage

    code = f"import logging; logging.getLogger('qualitybytes').warning('key %s', '{KEY}')"
    result = run_manage("shell", "-c", code, env=production_env())
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    entry = json.loads(lines[-1])
    assert entry["message"] == "key QB-7K3MX-[masked]"
    assert entry["level"] == "WARNING" and entry["request_id"] == "-"

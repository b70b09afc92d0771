"""What `make run` shows a newcomer: the welcome lines, one log line per request (none for static
files, none from runserver itself, none from the Stripe client) and emails framed by a banner."""

import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django.db import connection

from qualitybytes.email_backends import ConsoleEmailBackend
from qualitybytes.emails import send_on_commit
from qualitybytes.models import OutboxEmail, OutboxStatus

ROOT = Path(django_settings.BASE_DIR)
PLAN = {"name": "Solo", "seats": 1, "devices_per_seat": 2}
LINK = "http://127.0.0.1:8000/accounts/confirm-email/" + "x" * 90 + "/"


def test_make_run_prints_where_the_site_the_simulator_and_the_admin_are_and_how_to_make_staff(settings):
    settings.EMAIL_BACKEND = "qualitybytes.email_backends.ConsoleEmailBackend"
    out = StringIO()
    call_command("dev_welcome", stdout=out)
    text = out.getvalue()
    assert "Site              http://127.0.0.1:8000/" in text
    assert f"Stripe simulator  {django_settings.STRIPE_SIMULATOR_URL}/" in text
    assert "Admin             http://127.0.0.1:8000/admin/" in text
    assert "make staff" in text
    assert "Admin 2FA         the first admin visit sets up an authenticator app" in text
    assert "Emails            printed in this terminal" in text


def test_the_welcome_names_another_email_backend(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    out = StringIO()
    call_command("dev_welcome", stdout=out)
    assert "Emails            sent by django.core.mail.backends.smtp.EmailBackend" in out.getvalue()


def test_the_makefile_runs_the_welcome_and_installs_only_runtime_requirements_for_run():
    makefile = (ROOT / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert run.splitlines()[0].strip() == "install-run"
    assert "manage.py dev_welcome" in run
    assert "$(VENV)/.installed-run: requirements.txt |" in makefile
    assert "pip install -r requirements.txt\n" in makefile
    for target in ("test", "lint", "audit", "schemathesis"):
        assert f"\n{target}: install\n" in makefile
    staff = makefile.split("\nstaff:", 1)[1].split("\n\n", 1)[0]
    assert "manage.py createsuperuser" in staff
    # The README's staff step is the make target: it sets DEBUG=1 like `make run` does.
    assert "make staff" in (ROOT / "README.md").read_text()


def test_the_console_backend_frames_each_email_with_a_banner_and_prints_its_text_readably():
    stream = StringIO()
    message = EmailMultiAlternatives(
        "[QualityBytes] Confirm your email",
        f"Open this link:\n{LINK}\n",
        "noreply@qb.test",
        ["ada@example.com"],
    )
    message.attach_alternative(f'<a href="{LINK}">Confirm</a>', "text/html")
    ConsoleEmailBackend(stream=stream).send_messages([message, message])
    text = stream.getvalue()
    assert text.count("===== EMAIL ====") == 2 and text.count("===== END OF EMAIL ====") == 2
    assert "To: ada@example.com" in text and "Subject: [QualityBytes] Confirm your email" in text
    assert f"\n{LINK}\n" in text  # one line to copy: no quoted-printable soft breaks
    assert "<a href" not in text and "text/html version" in text


def _settings_value(name: str, **env) -> str:
    script = f"from django.conf import settings; import django; django.setup(); print(settings.{name})"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "qualitybytes.settings", "DEBUG": "1", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_the_console_email_backend_is_the_framed_one_by_default_or_when_named():
    framed = "qualitybytes.email_backends.ConsoleEmailBackend"
    assert _settings_value("EMAIL_BACKEND", EMAIL_BACKEND="") == framed
    console = "django.core.mail.backends.console.EmailBackend"
    assert _settings_value("EMAIL_BACKEND", EMAIL_BACKEND=console) == framed
    smtp = "django.core.mail.backends.smtp.EmailBackend"
    assert _settings_value("EMAIL_BACKEND", EMAIL_BACKEND=smtp) == smtp


def test_email_file_path_is_read_from_the_environment(tmp_path):
    assert _settings_value("EMAIL_FILE_PATH", EMAIL_FILE_PATH=str(tmp_path)) == str(tmp_path)


@pytest.mark.django_db
def test_the_file_email_backend_writes_outbox_emails_to_email_file_path(
    settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    with django_capture_on_commit_callbacks(execute=True):
        send_on_commit("license-key", to="ada@example.com", context={"plan": PLAN, "key": "QB-TEST"})
    assert OutboxEmail.objects.get().status == OutboxStatus.SENT
    written = list(tmp_path.iterdir())
    assert len(written) == 1 and "To: ada@example.com" in written[0].read_text()


def test_the_stripe_client_logs_warnings_only():
    assert logging.getLogger("stripe").getEffectiveLevel() == logging.WARNING


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_runserver_logs_one_line_per_request_and_none_for_static_files():
    database = connection.settings_dict
    login = database["USER"] + (f":{database['PASSWORD']}" if database["PASSWORD"] else "")
    url = f"postgres://{login}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    port, simulator_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "1",
        "LOG_FORMAT": "text",
        "STRIPE_SIMULATOR_PORT": str(simulator_port),
        "STRIPE_SIMULATOR_STATE_FILE": "/dev/null/none",
    }
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).close()  # noqa: S310
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        for path in ("/accounts/login/", "/static/css/site.css"):
            urllib.request.urlopen(f"{base}{path}", timeout=10).close()  # noqa: S310
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    lines = [line for line in output.splitlines() if "/accounts/login/" in line]
    assert len(lines) == 1, output
    assert "qualitybytes.request: GET /accounts/login/ 200" in lines[0]
    assert "site.css" not in output, output
    assert "HTTP/1.1" not in output, output

from io import StringIO

from django.core import mail
from django.core.management import call_command

from licensing.models import License


def run(*args):
    out = StringIO()
    call_command("issue_license", *args, stdout=out)
    return out.getvalue()


def test_issue_license_emails_the_key_to_the_owner_and_says_so(
    user, plan, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        out = run("--email", user.email, "--plan", "solo")
    key = License.objects.get(owner=user).keys.get().reveal()
    assert f"Emailed the key to {user.email}." in out
    assert out.strip().splitlines()[-1] == key  # the key stays the last line, for scripts
    assert [message.to for message in mail.outbox] == [[user.email]]
    message = mail.outbox[0]
    assert key in message.body and key in message.alternatives[0][0]
    assert "has been issued to you" in message.body
    assert "Thank you for subscribing" not in message.body


def test_issue_license_with_no_email_sends_nothing_and_says_so(
    user, plan, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        out = run("--email", user.email, "--plan", "solo", "--no-email")
    assert "Not emailed (--no-email)" in out
    assert "Emailed" not in out
    assert mail.outbox == []

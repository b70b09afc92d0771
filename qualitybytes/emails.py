"""Email rendering: each email is three templates, `emails/<name>-subject.txt`, `-body.txt` and
`-body.html`, sent as one multipart message through the outbox (qualitybytes/outbox.py)."""

from django.conf import settings
from django.template.loader import render_to_string

from qualitybytes import outbox
from qualitybytes.models import EmailContent


def render(name: str, context: dict) -> EmailContent:
    context = {"site_url": settings.SITE_URL, **context}
    return EmailContent(
        subject=" ".join(render_to_string(f"emails/{name}-subject.txt", context).split()),
        text=render_to_string(f"emails/{name}-body.txt", context),
        html=render_to_string(f"emails/{name}-body.html", context),
    )


def send_on_commit(name: str, *, to: str, context: dict) -> None:
    """Render the email now and queue it in the current transaction: a rollback sends nothing,
    and after the commit it is sent at once or, if that fails, retried by `send_queued_emails`.

    An address that cannot be sent to fails this email (see the admin's outbox), never the caller.
    """
    outbox.enqueue(name, to=to, content=render(name, context))

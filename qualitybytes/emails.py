"""Email rendering: each email is three templates, `emails/<name>-subject.txt`,
`-body.txt` and `-body.html`, sent as one multipart message after the transaction commits."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string


def send(name: str, *, to: str, context: dict) -> None:
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    text = render_to_string(f"emails/{name}-body.txt", context)
    html = render_to_string(f"emails/{name}-body.html", context)
    message = EmailMultiAlternatives(subject, text, to=[to])
    message.attach_alternative(html, "text/html")
    message.send()


def send_on_commit(name: str, *, to: str, context: dict) -> None:
    """Queue the email until the surrounding transaction commits; a rollback sends nothing."""
    transaction.on_commit(lambda: send(name, to=to, context=context))

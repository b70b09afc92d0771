"""allauth's account adapter: its emails (address confirmation, password reset, notices) go
through the outbox (qualitybytes/outbox.py) like every other email of the site: written in the
request's transaction, encrypted, sent after the commit and retried by `send_queued_emails` if the
relay is down, so a confirmation link is never lost to a failed SMTP call.

allauth renders them as before (templates/account/email/: the site's layout and name); only the
sending changes.
"""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.contrib.sites.shortcuts import get_current_site
from django.utils.html import escape, linebreaks

from qualitybytes import outbox
from qualitybytes.models import EmailContent

TEMPLATE_PREFIX = "account/email/"


def outbox_template_name(template_prefix: str) -> str:
    """The outbox row's template name: "allauth/email_confirmation_signup" and so on."""
    return "allauth/" + template_prefix.removeprefix(TEMPLATE_PREFIX)


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        message = self._rendered(template_prefix, email, context)
        html = next(
            (body for body, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"), None
        )
        if message.content_subtype == "html":  # allauth found an HTML template only
            html, text = message.body, ""
        else:
            text = message.body
        if html is None:
            html = linebreaks(escape(text))
        content = EmailContent(subject=message.subject, text=text, html=html)
        outbox.enqueue(outbox_template_name(template_prefix), to=email, content=content)

    def _rendered(self, template_prefix: str, email: str, context: dict):
        """What allauth's own send_mail would send (its context and render_mail), unsent."""
        request = allauth_context.request
        full_context = {"request": request, "email": email, "current_site": get_current_site(request)}
        full_context.update(context)
        return self.render_mail(template_prefix, email, full_context)

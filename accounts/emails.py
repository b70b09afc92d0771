"""Accounts' emails: one function per message, each building its own context, sent through the
outbox (qualitybytes/outbox.py)."""

from __future__ import annotations

from django.urls import reverse

from accounts.models import User
from accounts.selectors import keys_to_send
from qualitybytes import outbox
from qualitybytes.emails import render
from qualitybytes.models import OutboxEmail


def queue_my_keys(*, user: User, to: str) -> OutboxEmail:
    """Every key the account holds, in full, to one of its addresses ("Email me my keys").

    Queued only: the caller delivers it after its answer is sent, so that the page answers as
    fast for an address with an account as for one without. The body (full keys) exists only
    sealed in the outbox row and in the message itself; nothing here logs it.
    """
    keys = []
    for key in keys_to_send(user):
        license_ = key.license
        team = getattr(license_, "team", None)
        keys.append(
            {
                "key": key.reveal(),
                "plan": license_.plan,
                "team": team,
                "own": license_.owner_id == user.pk,
                "state": license_.current_state,
            }
        )
    context = {"user": user, "keys": keys, "pricing_path": reverse("pricing")}
    return outbox.enqueue("my-keys", to=to, content=render("my-keys", context), send_on_commit=False)

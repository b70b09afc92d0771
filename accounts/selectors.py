"""Accounts' read side: every query here is scoped to the user it is for."""

from django.db.models import QuerySet

from accounts.models import ApiToken, User


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    """The user's tokens that still authenticate (the page lists them; only they can be revoked)."""
    return ApiToken.objects.active().filter(user=user)

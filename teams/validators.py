"""The one rule for an invitation address, used by the team page's form, the team API's input and
the service: an address the outbox could not send to (too long for the column and RFC 5321, not
IDNA-encodable, hidden characters such as a right-to-left override) is refused before any
invitation is stored, so it never holds a seat."""

from django.core.exceptions import ValidationError

from qualitybytes.outbox import address_problem


def validate_invitation_email(value: str) -> None:
    problem = address_problem(value)
    if problem:
        raise ValidationError(f"This address cannot receive an invitation. {problem}", code="invalid")

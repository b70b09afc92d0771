"""Billing's reads that need no Stripe call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from accounts.models import User
from licensing.models import License

# Up to this many members are named on the cancellation page and in its email.
MEMBERS_NAMED = 10


@dataclass(frozen=True)
class CancellationFacts:
    """What cancelling at the period end means: when access ends and whose keys stop then."""

    ends_at: datetime | None
    members: list[User]  # holders of the license's other active keys, by email

    @property
    def member_count(self) -> int:
        return len(self.members)

    @property
    def members_named(self) -> list[User]:
        return self.members[:MEMBERS_NAMED]

    @property
    def members_unnamed(self) -> int:
        return max(0, self.member_count - MEMBERS_NAMED)


def cancellation_facts(license_: License) -> CancellationFacts:
    keys = (
        license_.keys.active()
        .exclude(holder_id=license_.owner_id)
        .select_related("holder")
        .order_by("holder__email")
    )
    members = list({key.holder_id: key.holder for key in keys}.values())
    return CancellationFacts(ends_at=license_.expires_at, members=members)

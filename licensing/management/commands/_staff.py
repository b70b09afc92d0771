"""Shared parts of the revoke / suspend / reinstate commands."""

from django.core.management.base import BaseCommand, CommandError

from licensing import keys, services
from licensing.models import License, LicenseKey


def find_license(key_or_prefix: str) -> License:
    """The license of a full key, or of a unique public prefix (QB-XXXXX)."""
    text = key_or_prefix.strip()
    try:
        keys.normalise(text)
    except keys.InvalidKey:
        if len(text) != keys.PUBLIC_PREFIX_LENGTH or not text.upper().startswith(f"{keys.PREFIX}-"):
            raise CommandError(
                "Give a full license key or its public prefix (QB- and the first five characters)."
            ) from None
    matches = list(LicenseKey.objects.matching(text).select_related("license__plan", "license__owner")[:2])
    if not matches:
        raise CommandError("No license key matches that key or prefix.")
    if len(matches) > 1 and matches[0].license_id != matches[1].license_id:
        raise CommandError("That prefix matches keys of several licenses; give the full key.")
    return matches[0].license


class StaffCommand(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument(
            "key", metavar="KEY_OR_PREFIX", help="A license key, or its public prefix QB-XXXXX."
        )

    def describe(self, license_: License) -> str:
        return f"{license_.plan.name} license {license_.public_id} of {license_.owner.email}"


class ReasonCommand(StaffCommand):
    """A staff hold given with a reason: `apply(license, reason)` calls the service; `done` says what
    happened ("Revoked"). A refusal of the service is the command's error."""

    done: str

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--reason", required=True, help="Why; shown to staff in the admin.")

    def apply(self, license_: License, reason: str) -> None:
        raise NotImplementedError

    def handle(self, *args, key, reason, **options):
        license_ = find_license(key)
        try:
            self.apply(license_, reason)
        except services.LicensingError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{self.done} {self.describe(license_)}.")

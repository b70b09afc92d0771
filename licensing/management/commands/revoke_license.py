from django.core.management.base import CommandError

from licensing import services
from licensing.management.commands._staff import StaffCommand, find_license


class Command(StaffCommand):
    help = "Revoke a license for good: every key of it stops working; webhooks never undo it."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--reason", required=True, help="Why; shown to staff in the admin.")

    def handle(self, *args, key, reason, **options):
        license_ = find_license(key)
        try:
            services.license_revoke(license=license_, reason=reason)
        except services.LicensingError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Revoked {self.describe(license_)}.")

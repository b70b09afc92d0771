from django.core.management.base import CommandError

from licensing import services
from licensing.management.commands._staff import StaffCommand, find_license


class Command(StaffCommand):
    help = "Lift the suspension of a license. A revoked license cannot be reinstated."

    def handle(self, *args, key, **options):
        license_ = find_license(key)
        try:
            services.license_reinstate(license=license_)
        except services.LicensingError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Reinstated {self.describe(license_)}.")

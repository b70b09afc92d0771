from licensing import services
from licensing.management.commands._staff import ReasonCommand


class Command(ReasonCommand):
    help = "Suspend a license until reinstate_license; webhooks do not lift a suspension."
    done = "Suspended"

    def apply(self, license_, reason):
        services.license_suspend(license=license_, reason=reason)

from licensing import services
from licensing.management.commands._staff import ReasonCommand


class Command(ReasonCommand):
    help = "Revoke a license for good: every key of it stops working; webhooks never undo it."
    done = "Revoked"

    def apply(self, license_, reason):
        services.license_revoke(license=license_, reason=reason)

"""`make run` prints this just before the server starts: where everything is, for a newcomer."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.urls import reverse


def welcome_text() -> str:
    site = settings.SITE_URL
    if getattr(settings, "STRIPE_SIMULATOR", False):
        stripe = f"{settings.STRIPE_SIMULATOR_URL}/   (its dashboard: renewals, failed payments)"
    else:
        stripe = "Stripe's test mode (STRIPE_TEST_SECRET_KEY is set)"
    if "console" in settings.EMAIL_BACKEND.lower():
        emails = "printed in this terminal, each between ===== EMAIL lines (verification links, keys)"
    else:
        emails = f"sent by {settings.EMAIL_BACKEND}"
    rows = [
        ("Site", f"{site}/"),
        ("Stripe simulator" if getattr(settings, "STRIPE_SIMULATOR", False) else "Stripe", stripe),
        ("Admin", f"{site}{reverse('admin:index')}"),
        ("Staff user", "run `make staff` in another terminal (asks for an email and a password)"),
        ("Admin 2FA", "the first admin visit sets up an authenticator app (TOTP); it is asked at each login"),
        ("Emails", emails),
    ]
    width = max(len(label) for label, _ in rows)
    database = settings.DATABASES["default"]
    where = database["NAME"] if database["ENGINE"].endswith("sqlite3") else database.get("HOST") or "local"
    lines = ["", f"QualityBytes for development (DEBUG on; database: {where}).", ""]
    lines += [f"  {label.ljust(width)}  {value}" for label, value in rows]
    lines += ["", "Stop with CONTROL-C; running `make run` again keeps your data.", ""]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Print where the development site, the Stripe simulator and the admin are (`make run`)."

    def handle(self, *args, **options):
        self.stdout.write(welcome_text())

from datetime import UTC, datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from billing.models import Plan
from licensing import services
from teams import emails
from teams.services import team_create_for_license


def parse_expiry(text: str) -> datetime:
    """YYYY-MM-DD (end of that day, UTC) or a full ISO 8601 timestamp; must be in the future."""
    try:
        if len(text) == 10:
            moment = datetime.combine(datetime.fromisoformat(text).date(), time.max, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--expires {text!r} is not a date (use YYYY-MM-DD).") from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    if moment <= timezone.now():
        raise CommandError(f"--expires {text} is in the past.")
    return moment


class Command(BaseCommand):
    help = (
        "Issue a comp license (no subscription) to an existing user and print its key once. "
        "The key is not stored in the clear and cannot be printed again by this command."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True, help="The owner's email; the account must exist.")
        parser.add_argument("--plan", required=True, help="Plan slug, e.g. solo, team, enterprise.")
        parser.add_argument("--expires", help="YYYY-MM-DD or ISO timestamp; default: no end.")
        parser.add_argument("--seats", type=int, help="Seats, overriding the plan's.")
        parser.add_argument(
            "--no-email",
            action="store_true",
            help="Do not email the key to the owner (by default it is).",
        )

    def handle(self, *args, email, plan, expires=None, seats=None, no_email=False, **options):
        owner = User.objects.filter(email__iexact=email.strip()).first()
        if owner is None:
            raise CommandError(f"No user with email {email}. They must sign up first.")
        plan_obj = Plan.objects.filter(slug=plan).first()
        if plan_obj is None:
            slugs = ", ".join(Plan.objects.values_list("slug", flat=True)) or "none (run seed_plans)"
            raise CommandError(f"No plan {plan!r}. Plans: {slugs}.")
        if seats is not None and seats < 1:
            raise CommandError("--seats must be at least 1.")
        expires_at = parse_expiry(expires) if expires else None
        with transaction.atomic():
            issued = services.license_issue(owner=owner, plan=plan_obj, expires_at=expires_at, seats=seats)
            license_ = issued.key.license
            if license_.seats_total > 1:
                team_create_for_license(license=license_)
            if not no_email:
                emails.send_issued_key(license=license_, key=issued.plaintext)
        ends = "no end" if expires_at is None else f"ends {expires_at:%Y-%m-%d %H:%M} UTC"
        self.stdout.write(
            f"Issued {plan_obj.name} license {license_.public_id} to {owner.email} "
            f"({license_.seats_total} seat(s), {ends})."
        )
        if no_email:
            self.stdout.write("Not emailed (--no-email): pass the key on yourself.")
        else:
            self.stdout.write(f"Emailed the key to {owner.email}.")
        self.stdout.write("License key (shown once; the owner also sees it in their dashboard):")
        self.stdout.write(issued.plaintext)

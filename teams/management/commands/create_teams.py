from django.core.management.base import BaseCommand
from django.db.models import Q

from licensing.models import License
from teams.services import team_create_for_license


class Command(BaseCommand):
    help = (
        "Create the team of every multi-seat license that has none (e.g. comp licenses issued by "
        "hand, or licenses from before teams existed). Safe to run again: existing teams are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List the licenses, change nothing.")

    def handle(self, *args, dry_run=False, **options):
        missing = (
            License.objects.filter(team__isnull=True, revoked_at__isnull=True)
            .filter(Q(seats__gt=1) | Q(seats__isnull=True, plan__seats__gt=1))
            .select_related("owner", "plan")
            .order_by("created_at")
        )
        created = 0
        for license_ in missing:
            if dry_run:
                self.stdout.write(f"Would create a team for {license_} ({license_.public_id}).")
                continue
            team = team_create_for_license(license=license_)
            created += 1
            self.stdout.write(f"Created team {team.public_id} for {license_}.")
        if not dry_run:
            self.stdout.write(self.style.SUCCESS(f"{created} team(s) created."))

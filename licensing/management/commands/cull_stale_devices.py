from django.core.management.base import BaseCommand, CommandError

from licensing import services


class Command(BaseCommand):
    help = (
        "Remove devices whose last heartbeat is older than LICENSE_DEVICE_STALE_DAYS (or --days). "
        "Safe to run any time, e.g. daily from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, help="Override the stale window for this run.")

    def handle(self, *args, days=None, **options):
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1.")
        removed = services.device_cull_stale(days=days)
        self.stdout.write(f"Removed {removed} stale device{'' if removed == 1 else 's'}.")

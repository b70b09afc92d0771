from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from licensing.models import ValidationEvent


class Command(BaseCommand):
    help = "Delete validation log rows older than LICENSE_VALIDATION_EVENT_DAYS (or --days). Safe to rerun."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", "--older-than", dest="days", type=int, help="Keep this many days instead."
        )

    def handle(self, *args, days=None, **options):
        days = settings.LICENSE_VALIDATION_EVENT_DAYS if days is None else days
        if days < 1:
            raise CommandError("--days must be at least 1.")
        deleted, _ = ValidationEvent.objects.filter(
            created_at__lt=timezone.now() - timedelta(days=days)
        ).delete()
        self.stdout.write(f"Deleted {deleted} validation event(s) older than {days} days.")

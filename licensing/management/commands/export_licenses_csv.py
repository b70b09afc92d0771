from django.core.management.base import BaseCommand

from licensing.exports import licenses_csv_write


class Command(BaseCommand):
    help = "Write every license with its plan, state and Stripe subscription as CSV (for accounting)."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="File to write; default standard output.")

    def handle(self, *args, output=None, **options):
        if output:
            with open(output, "w", newline="", encoding="utf-8") as out:
                rows = licenses_csv_write(out)
            self.stderr.write(f"Wrote {rows} license(s) to {output}.")
        else:
            rows = licenses_csv_write(self.stdout)
            self.stderr.write(f"Wrote {rows} license(s).")

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from licensing import tokens


class Command(BaseCommand):
    help = (
        "Add a new active key for signing license tokens. The previous key stays published in the "
        "JWKS until the tokens it signed have expired; keys past that are dropped. Prints the new kid."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--keyring",
            help="Keyring file to rotate (default: LICENSE_SIGNING_KEYS_FILE). Required when the key "
            "comes from LICENSE_SIGNING_KEY: that key is then imported as the previous key.",
        )
        parser.add_argument(
            "--create", action="store_true", help="Start a new keyring if the file does not exist yet."
        )

    def handle(self, *args, keyring=None, create=False, **options):
        env_pem = settings.LICENSE_SIGNING_KEY
        if env_pem and not keyring:
            raise CommandError(
                "The signing key comes from LICENSE_SIGNING_KEY, which this command cannot change. "
                "Move to a keyring: run `python manage.py rotate_signing_key --keyring PATH` (it keeps "
                "the current key published and adds a new one), then set LICENSE_SIGNING_KEYS_FILE=PATH "
                "and unset LICENSE_SIGNING_KEY on every web instance."
            )
        path = keyring or settings.LICENSE_SIGNING_KEYS_FILE
        if not path:
            raise CommandError("No keyring configured: set LICENSE_SIGNING_KEYS_FILE or pass --keyring PATH.")
        path = Path(path)
        is_dev_keyring = settings.LICENSE_SIGNING_KEYS_AUTOCREATE and path == Path(
            settings.LICENSE_SIGNING_KEYS_FILE
        )
        try:
            rotation = tokens.keyring_rotate(path, create=create or is_dev_keyring, import_pem=env_pem)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc

        if rotation.created:
            self.stdout.write(f"Created keyring {path}.")
        if rotation.imported_kid:
            self.stdout.write(f"Imported the LICENSE_SIGNING_KEY key as {rotation.imported_kid}.")
        for key in rotation.keyring.keys[1:]:
            self.stdout.write(f"Still published: {key.kid} until {key.publish_until:%Y-%m-%d %H:%M:%S} UTC.")
        for kid in rotation.dropped:
            self.stdout.write(f"Dropped retired key: {kid}.")
        if env_pem:
            self.stdout.write(
                f"Now set LICENSE_SIGNING_KEYS_FILE={path} and unset LICENSE_SIGNING_KEY "
                "on every web instance."
            )
        elif keyring and path != Path(settings.LICENSE_SIGNING_KEYS_FILE):
            self.stdout.write(f"Note: web instances read LICENSE_SIGNING_KEYS_FILE, not {path}.")
        mode = path.stat().st_mode & 0o777
        if mode & 0o007:
            self.stderr.write(
                f"Warning: {path} holds a private key and any user on this host can read it "
                f"(mode {mode:04o}); run: chmod o-rwx {path}"
            )
        self.stdout.write(self.style.SUCCESS(f"New active signing key: {rotation.keyring.active.kid}"))

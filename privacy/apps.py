from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """A person's own data: export it as JSON, delete the account. It reads every app (accounts,
    licensing, teams, billing), so it sits above them all."""

    name = "privacy"

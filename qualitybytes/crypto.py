"""Encryption at rest for what must be shown again: a license key on its holder's dashboard, an
email body in the outbox. One MultiFernet under LICENSE_KEY_ENCRYPTION_KEY, comma-separated:
the first key encrypts, every key decrypts, so a key can be rotated without re-encrypting."""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

__all__ = ["InvalidToken", "decrypt", "encrypt"]


def _fernet() -> MultiFernet:
    secrets = [item.strip() for item in settings.LICENSE_KEY_ENCRYPTION_KEY.split(",") if item.strip()]
    return MultiFernet([Fernet(item.encode()) for item in secrets])


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    """The text sealed in `token`; InvalidToken when no configured key opens it."""
    return _fernet().decrypt(token.encode()).decode()

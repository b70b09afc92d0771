"""allauth's two-factor authentication, wired to this project: secrets encrypted at rest, and the
one question the admin asks (`has_second_factor`)."""

from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator

from qualitybytes import crypto


class MFAAdapter(DefaultMFAAdapter):
    # TOTP secrets and recovery-code seeds must be read back, so they cannot be digests: they are
    # sealed like license keys, with LICENSE_KEY_ENCRYPTION_KEY (qualitybytes/crypto.py).
    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text)


def has_second_factor(user) -> bool:
    """An authenticator app is set up (recovery codes alone come with it and do not count)."""
    if not user.is_authenticated:
        return False
    return Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()

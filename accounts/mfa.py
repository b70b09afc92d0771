"""allauth's two-factor authentication, wired to this project: secrets encrypted at rest. The
admin's question (`has_second_factor`) is in qualitybytes/admin_site.py."""

from allauth.mfa.adapter import DefaultMFAAdapter

from qualitybytes import crypto


class MFAAdapter(DefaultMFAAdapter):
    # TOTP secrets and recovery-code seeds must be read back, so they cannot be digests: they are
    # sealed like license keys, with LICENSE_KEY_ENCRYPTION_KEY (qualitybytes/crypto.py).
    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text)

"""License key format, digest and encryption.

A key looks like ``QB-7K3MX-9QW2D-...-XXXXC``: 34 symbols of Crockford base32 drawn with
`secrets` (170 bits) and one Luhn mod 32 check symbol, in seven groups of five. The first group
is the public prefix shown to support and in the admin; the 29 symbols after it still carry
145 secret bits. The check symbol catches every single-symbol typo and most swapped neighbours
before any database lookup.

The database never holds a usable key: rows are found by HMAC-SHA256(pepper, canonical key) and
the key itself is kept only as a Fernet token so the dashboard can show it again.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import cached_property

from django.conf import settings

from qualitybytes import crypto

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_SYMBOLS = 34
GROUP = 5
BODY_LENGTH = RANDOM_SYMBOLS + 1
PREFIX = "QB"
PUBLIC_PREFIX_LENGTH = len(PREFIX) + 1 + GROUP
DISPLAY_LENGTH = len(PREFIX) + BODY_LENGTH + BODY_LENGTH // GROUP

# Crockford's decoding rules: read O as zero and I / L as one; case does not matter.
MISREADS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = str.maketrans("", "", " -_\t")
_VALUES = {symbol: value for value, symbol in enumerate(ALPHABET)}


class InvalidKey(ValueError):
    """The text is not a QualityBytes key; the message never repeats the key."""


def check_symbol(body: str) -> str:
    """Luhn mod 32 over the base32 values of `body`."""
    total = 0
    factor = 2
    for symbol in reversed(body):
        addend = factor * _VALUES[symbol]
        total += addend // 32 + addend % 32
        factor = 1 if factor == 2 else 2
    return ALPHABET[(32 - total % 32) % 32]


def generate() -> str:
    """A new key in display form."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_SYMBOLS))
    return _display(body + check_symbol(body))


def normalise(raw: str) -> str:
    """The canonical display form of `raw`, or InvalidKey.

    Accepts lower case, missing or extra separators, and O / I / L for 0 / 1 / 1.
    """
    if not isinstance(raw, str) or len(raw) > 4 * DISPLAY_LENGTH:
        raise InvalidKey("This is not a QualityBytes license key.")
    text = raw.upper().translate(_SEPARATORS)
    if not text.startswith(PREFIX):
        raise InvalidKey("A QualityBytes license key starts with QB-.")
    body = text[len(PREFIX) :].translate(MISREADS)
    if len(body) != BODY_LENGTH or any(symbol not in _VALUES for symbol in body):
        raise InvalidKey("A QualityBytes license key has seven groups of five letters and digits.")
    if check_symbol(body[:-1]) != body[-1]:
        raise InvalidKey("This license key has a typo: its check character does not match.")
    return _display(body)


def _display(body: str) -> str:
    groups = [body[i : i + GROUP] for i in range(0, len(body), GROUP)]
    return "-".join([PREFIX, *groups])


@dataclass(frozen=True)
class ParsedKey:
    """A key normalised once, with its digest computed at most once.

    The API's input field yields one, and the rate limiter, the services and the queries all
    take it, so that a request normalises its key once and hashes it once.
    """

    canonical: str

    def __str__(self) -> str:
        return self.canonical

    def __repr__(self) -> str:
        return f"ParsedKey({mask(self.canonical)!r})"  # never the secret part

    @cached_property
    def digest(self) -> str:
        return _hmac(self.canonical)


def parse(key: "str | ParsedKey") -> ParsedKey:
    """`key` normalised (InvalidKey when it is not a key); a ParsedKey is returned as it is."""
    return key if isinstance(key, ParsedKey) else ParsedKey(normalise(key))


def _hmac(canonical: str) -> str:
    return hmac.new(settings.LICENSE_KEY_PEPPER.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def public_prefix(key: str) -> str:
    """The non-secret first group, e.g. ``QB-7K3MX``, for support and the admin."""
    return normalise(key)[:PUBLIC_PREFIX_LENGTH]


def digest(key: "str | ParsedKey") -> str:
    """HMAC-SHA256 of the canonical key under the server pepper, as 64 hex digits."""
    return parse(key).digest


def mask(key: str) -> str:
    """A form safe for logs and messages: the public prefix and the check symbol only."""
    canonical = normalise(key)
    return f"{canonical[:PUBLIC_PREFIX_LENGTH]}-…-{canonical[-1]}"


def encrypt(key: str) -> str:
    return crypto.encrypt(normalise(key))


def decrypt(token: str) -> str:
    try:
        return crypto.decrypt(token)
    except crypto.InvalidToken as exc:
        raise InvalidKey("The stored key cannot be decrypted with LICENSE_KEY_ENCRYPTION_KEY.") from exc

"""Signed license tokens: Ed25519 (EdDSA) JWTs that the desktop app verifies offline.

The signing key comes from one of two places (docs/client-guide.md, "Signed license tokens", has
the operator's view):

- ``LICENSE_SIGNING_KEY``: one Ed25519 private key in PEM. Simple, but it cannot be rotated in
  place; ``rotate_signing_key --keyring PATH`` moves it into a keyring.
- ``LICENSE_SIGNING_KEYS_FILE``: a JSON keyring shared by every web instance. It holds the active
  private key and the public halves of older keys, published until the tokens they signed have
  expired. ``rotate_signing_key`` rewrites it atomically; running workers notice the new mtime.

With DEBUG on and neither set, settings point at ``var/signing-keys.json`` and allow creating it.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, JsonResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

ALGORITHM = "EdDSA"
KEYRING_FORMAT = 1
# A worker may still sign with the old key for an instant after a rotation, and clocks drift:
# keep a retired key published this much longer than the longest token it can have signed.
ROTATION_MARGIN = timedelta(minutes=5)
# Clients refetch the JWKS when a token names a kid they lack; caches hold it at most this long
# after a rotation, so a new key is visible within the same margin that old keys are kept.
JWKS_MAX_AGE = 300
RESERVED_CLAIMS = frozenset({"iss", "iat", "exp", "nbf"})


class InvalidToken(jwt.InvalidTokenError):
    """The token is malformed, forged, signed by an unknown key or not valid now."""


class TokenExpired(InvalidToken):
    """The token was genuine but its ``exp`` has passed."""


class KeyringError(ImproperlyConfigured):
    """The signing keys are missing, unreadable or inconsistent. Messages never hold key material."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def kid_for(public_key: Ed25519PublicKey) -> str:
    """RFC 7638 JWK thumbprint: the same key gets the same kid on every instance."""
    canonical = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": _b64url(_raw_public(public_key))},
        separators=(",", ":"),
        sort_keys=True,
    )
    return _b64url(hashlib.sha256(canonical.encode()).digest())


@dataclass(frozen=True)
class SigningKey:
    kid: str
    public_key: Ed25519PublicKey
    private_key: Ed25519PrivateKey | None = field(default=None, repr=False)
    created_at: datetime | None = None
    # None for the active key: it is published for as long as it signs.
    publish_until: datetime | None = None

    @classmethod
    def generate(cls, *, now: datetime) -> SigningKey:
        private_key = Ed25519PrivateKey.generate()
        public_key = private_key.public_key()
        return cls(kid=kid_for(public_key), public_key=public_key, private_key=private_key, created_at=now)

    @classmethod
    def from_private_pem(cls, pem: str | bytes, *, source: str) -> SigningKey:
        if isinstance(pem, str):
            # .env files and CI secrets often carry the PEM on one line with literal "\n".
            pem = pem.replace("\\n", "\n").strip().encode()
        try:
            private_key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:
            raise KeyringError(
                f"{source} is not an unencrypted PEM private key "
                "(generate one with: openssl genpkey -algorithm ed25519)."
            ) from exc
        if not isinstance(private_key, Ed25519PrivateKey):
            raise KeyringError(f"{source} must be an Ed25519 private key, not {type(private_key).__name__}.")
        public_key = private_key.public_key()
        return cls(kid=kid_for(public_key), public_key=public_key, private_key=private_key)

    def public_jwk(self) -> dict[str, str]:
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": _b64url(_raw_public(self.public_key)),
            "kid": self.kid,
            "use": "sig",
            "alg": ALGORITHM,
        }

    def is_published(self, now: datetime) -> bool:
        return self.publish_until is None or self.publish_until > now

    def retired(self, *, publish_until: datetime) -> SigningKey:
        return SigningKey(
            kid=self.kid, public_key=self.public_key, created_at=self.created_at, publish_until=publish_until
        )


@dataclass(frozen=True)
class Keyring:
    active: SigningKey
    # Every key the keyring holds, the active one first.
    keys: tuple[SigningKey, ...]

    def published(self, now: datetime) -> list[SigningKey]:
        return [key for key in self.keys if key.is_published(now)]

    def to_dict(self) -> dict[str, Any]:
        entries = []
        for key in self.keys:
            entry: dict[str, Any] = {"kid": key.kid, "x": key.public_jwk()["x"]}
            if key.created_at is not None:
                entry["created_at"] = _iso(key.created_at)
            if key.publish_until is not None:
                entry["publish_until"] = _iso(key.publish_until)
            if key is self.active:
                assert key.private_key is not None
                entry["private_key"] = key.private_key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ).decode("ascii")
            entries.append(entry)
        return {"format": KEYRING_FORMAT, "active": self.active.kid, "keys": entries}

    @classmethod
    def from_dict(cls, data: Any, *, source: str) -> Keyring:
        def bad(reason: str) -> KeyringError:
            return KeyringError(f"Signing keyring {source} is invalid: {reason}.")

        if not isinstance(data, dict) or data.get("format") != KEYRING_FORMAT:
            raise bad(f'expected a JSON object with "format": {KEYRING_FORMAT}')
        entries = data.get("keys")
        if not isinstance(entries, list) or not entries:
            raise bad('"keys" must be a non-empty list')
        active_kid = data.get("active")
        keys: list[SigningKey] = []
        active: SigningKey | None = None
        for position, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise bad(f"key #{position} is not an object")
            try:
                public_key = Ed25519PublicKey.from_public_bytes(_b64url_decode(entry["x"]))
                created_at = datetime.fromisoformat(entry["created_at"]) if "created_at" in entry else None
                publish_until = (
                    datetime.fromisoformat(entry["publish_until"]) if "publish_until" in entry else None
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise bad(f'key #{position} needs "x" (base64url Ed25519 public key) and ISO dates') from exc
            kid = kid_for(public_key)
            if entry.get("kid") != kid:
                raise bad(f"key #{position} has a kid that does not match its public key")
            key = SigningKey(
                kid=kid, public_key=public_key, created_at=created_at, publish_until=publish_until
            )
            if kid == active_kid:
                if "private_key" not in entry:
                    raise bad("the active key has no private_key")
                loaded = SigningKey.from_private_pem(entry["private_key"], source=f"{source} (active key)")
                if loaded.kid != kid:
                    raise bad("the active private key does not match its public key")
                key = SigningKey(
                    kid=kid, public_key=public_key, private_key=loaded.private_key, created_at=created_at
                )
                active = key
            keys.append(key)
        if active is None:
            raise bad('"active" does not name one of the keys')
        return cls(active=active, keys=(active, *(key for key in keys if key is not active)))


def _read_keyring(path: Path) -> Keyring:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyringError(
            f"Signing keyring {path} does not exist. Create it with "
            "`python manage.py rotate_signing_key --create`, or set LICENSE_SIGNING_KEY."
        ) from None
    except OSError as exc:
        raise KeyringError(f"Signing keyring {path} cannot be read: {exc.strerror}.") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise KeyringError(f"Signing keyring {path} is not valid JSON.") from exc
    return Keyring.from_dict(data, source=str(path))


def _write_keyring(path: Path, keyring: Keyring, *, exclusive: bool = False) -> bool:
    """Write atomically, so a worker never reads half a file. With ``exclusive``, only create:
    answers False when another process created the file first."""
    text = json.dumps(keyring.to_dict(), indent=2) + "\n"
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as tmp:
            tmp.write(text)
            tmp.flush()
            os.fsync(tmp.fileno())
        if exclusive:
            try:
                os.link(tmp_name, path)
            except FileExistsError:
                return False
        else:
            with contextlib.suppress(FileNotFoundError):
                # Keep the mode and owner the operator gave the file, so web instances can still read it.
                current = path.stat()
                os.chmod(tmp_name, current.st_mode & 0o777)
                if (current.st_uid, current.st_gid) != (os.getuid(), os.getgid()):
                    with contextlib.suppress(PermissionError):
                        os.chown(tmp_name, current.st_uid, current.st_gid)
            os.replace(tmp_name, path)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)


def _create_dev_keyring(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = SigningKey.generate(now=datetime.now(UTC))
    if _write_keyring(path, Keyring(active=key, keys=(key,)), exclusive=True):
        logger.warning("Generated a development token signing keyring at %s (kid %s).", path, key.kid)


# The keys loaded by this process, with the signature of their source: (signature, keyring).
_cache: tuple[tuple[Any, ...], Keyring] | None = None
_cache_lock = threading.Lock()


def _source() -> tuple[Any, ...]:
    pem = getattr(settings, "LICENSE_SIGNING_KEY", "")
    path = getattr(settings, "LICENSE_SIGNING_KEYS_FILE", "")
    if pem and path:
        raise KeyringError("Set LICENSE_SIGNING_KEY or LICENSE_SIGNING_KEYS_FILE, not both.")
    if pem:
        return ("env", pem)
    if not path:
        raise KeyringError(
            "No token signing key is configured. Set LICENSE_SIGNING_KEYS_FILE to a keyring path and "
            "create it with `python manage.py rotate_signing_key --create`, or set LICENSE_SIGNING_KEY "
            "to an Ed25519 private key in PEM (openssl genpkey -algorithm ed25519)."
        )
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return ("file", str(path), None)
    # A rotation replaces the file, so the inode changes even within one mtime tick.
    return ("file", str(path), stat.st_ino, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size)


def _load(source: tuple[Any, ...]) -> Keyring:
    if source[0] == "env":
        key = SigningKey.from_private_pem(source[1], source="LICENSE_SIGNING_KEY")
        return Keyring(active=key, keys=(key,))
    path = Path(source[1])
    if source[2] is None and getattr(settings, "LICENSE_SIGNING_KEYS_AUTOCREATE", False):
        _create_dev_keyring(path)
    return _read_keyring(path)


def current_keyring() -> Keyring:
    """The keys this process signs and verifies with, reloaded when their source changes."""
    global _cache
    source = _source()
    cached = _cache
    if cached is not None and cached[0] == source:
        return cached[1]
    with _cache_lock:
        if _cache is not None and _cache[0] == source:
            return _cache[1]
        if source[0] == "file" and source[2] is None:
            keyring = _load(source)
            source = _source()
        else:
            keyring = _load(source)
        _cache = (source, keyring)
        logger.info(
            "Token signing keys loaded: active kid %s, %d key(s).", keyring.active.kid, len(keyring.keys)
        )
        return keyring


def clear_cache() -> None:
    global _cache
    with _cache_lock:
        _cache = None


def issue(claims: dict[str, Any], *, expires_at: datetime) -> str:
    """Sign ``claims`` with the active key. ``exp`` is ``expires_at``, but never later than
    LICENSE_TOKEN_TTL_SECONDS from now: key retirement relies on that bound."""
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    clash = RESERVED_CLAIMS & claims.keys()
    if clash:
        raise ValueError(f"issue() sets {', '.join(sorted(clash))} itself; leave them out of claims")
    keyring = current_keyring()
    now = int(time.time())
    payload = {
        **claims,
        "iss": settings.SITE_URL,
        "iat": now,
        "exp": min(int(expires_at.timestamp()), now + settings.LICENSE_TOKEN_TTL_SECONDS),
    }
    return jwt.encode(
        payload,
        keyring.active.private_key,
        algorithm=ALGORITHM,
        headers={"kid": keyring.active.kid},
        json_encoder=DjangoJSONEncoder,
    )


def jwks() -> dict[str, list[dict[str, str]]]:
    """The public keys clients may meet in tokens: the active key and retired ones still published."""
    now = datetime.now(UTC)
    return {"keys": [key.public_jwk() for key in current_keyring().published(now)]}


def verify(token: str, *, jwks: dict[str, Any] | None = None) -> dict[str, Any]:
    """Claims of a genuine, unexpired token from this server; raises InvalidToken otherwise.

    ``jwks`` defaults to this server's published keys; pass a stored JWKS to verify as a client would.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise InvalidToken("malformed token") from exc
    # Checked before any key is chosen, so "none" and HMAC tokens never reach a verifier.
    if header.get("alg") != ALGORITHM:
        raise InvalidToken(f"algorithm {header.get('alg')!r} is not allowed")
    kid = header.get("kid")
    key = _published_key(kid) if jwks is None else _key_from_jwks(jwks, kid)
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=settings.SITE_URL,
            # iat is only informative: a web instance whose clock runs a second ahead must not
            # make its tokens "not yet valid" on another. exp stays strict.
            options={"require": ["exp", "iat", "iss"], "verify_iat": False},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired("token has expired") from exc
    except jwt.InvalidTokenError as exc:
        raise InvalidToken(str(exc)) from exc


def _published_key(kid: Any) -> Ed25519PublicKey:
    now = datetime.now(UTC)
    for key in current_keyring().keys:
        if key.kid == kid and key.is_published(now):
            return key.public_key
    raise InvalidToken("unknown kid")


def _key_from_jwks(keyset: Any, kid: Any) -> jwt.PyJWK:
    keys = keyset.get("keys") if isinstance(keyset, dict) else None
    if not isinstance(keys, list):
        raise InvalidToken('the JWKS has no "keys" list')
    jwk_data = next((item for item in keys if isinstance(item, dict) and item.get("kid") == kid), None)
    if jwk_data is None:
        raise InvalidToken("unknown kid")
    if jwk_data.get("kty") != "OKP" or jwk_data.get("crv") != "Ed25519":
        raise InvalidToken("the key for this kid is not an Ed25519 key")
    try:
        return jwt.PyJWK(jwk_data, algorithm=ALGORITHM)
    except jwt.PyJWTError as exc:
        raise InvalidToken("the key for this kid is not a usable Ed25519 JWK") from exc


@require_safe
def jwks_view(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(jwks())
    patch_cache_control(response, public=True, max_age=JWKS_MAX_AGE)
    return response


@dataclass(frozen=True)
class Rotation:
    keyring: Keyring
    created: bool
    imported_kid: str | None
    dropped: tuple[str, ...]


def keyring_rotate(path: Path, *, create: bool = False, import_pem: str = "") -> Rotation:
    """Add a new active key to the keyring at ``path``.

    The previous active key stays published until every token it can have signed has expired
    (LICENSE_TOKEN_TTL_SECONDS plus a margin); keys past that are dropped. ``import_pem`` brings a key
    from LICENSE_SIGNING_KEY in as the previous key. Safe against concurrent rotations.
    """
    if not path.parent.is_dir():
        raise KeyringError(f"Cannot write signing keyring {path}: {path.parent} is not a directory.")
    if not os.access(path.parent, os.W_OK):
        raise KeyringError(
            f"Cannot write signing keyring {path}: {path.parent} is not writable by this user. "
            "Run the command as the user that owns the keyring."
        )
    lock_path = path.with_name(f".{path.name}.lock")
    try:
        lock_file = open(lock_path, "a")
    except OSError as exc:
        raise KeyringError(f"Cannot lock signing keyring {path}: {exc.strerror}.") from exc
    with lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        now = datetime.now(UTC)
        exists = path.exists()
        if exists:
            previous: list[SigningKey] = list(_read_keyring(path).keys)
        elif create or import_pem:
            previous = []
        else:
            raise KeyringError(
                f"Signing keyring {path} does not exist. Pass --create to start a new keyring there."
            )
        imported_kid = None
        if import_pem:
            imported = SigningKey.from_private_pem(import_pem, source="LICENSE_SIGNING_KEY")
            imported_kid = imported.kid
            if all(key.kid != imported.kid for key in previous):
                previous.insert(0, imported)
        retire_at = now + timedelta(seconds=settings.LICENSE_TOKEN_TTL_SECONDS) + ROTATION_MARGIN
        kept: list[SigningKey] = []
        dropped: list[str] = []
        for key in previous:
            if key.publish_until is None:
                key = key.retired(publish_until=retire_at)
            if key.is_published(now):
                kept.append(key)
            else:
                dropped.append(key.kid)
        new_key = SigningKey.generate(now=now)
        keyring = Keyring(active=new_key, keys=(new_key, *kept))
        try:
            _write_keyring(path, keyring)
        except OSError as exc:
            raise KeyringError(f"Cannot write signing keyring {path}: {exc.strerror}.") from exc
    clear_cache()
    logger.info("Token signing key rotated in %s: new kid %s.", path, new_key.kid)
    return Rotation(keyring=keyring, created=not exists, imported_kid=imported_kid, dropped=tuple(dropped))

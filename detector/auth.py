"""Admin UI credentials: scrypt password hashes and the account lookup behind the login form.

Accounts live in settings (``DETECTOR_ADMIN_USERS``), never in the database, so the UI cannot be
used to grant itself access. Hashes are self-describing (``scrypt$n$r$p$salt$hash``) so the cost
can be raised later without breaking stored hashes. Nothing here logs or returns a password, and an
unknown user costs the same scrypt run as a wrong password, so timing does not reveal account names.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

log = logging.getLogger(__name__)

ROLES = ("moderator", "admin")
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # about 16 MiB and 30-60 ms per check on one core
MAX_N = 2**20  # refuse stored hashes that would make one login take gigabytes
SALT_BYTES, KEY_BYTES = 16, 32


@dataclass(frozen=True)
class User:
    """Who is logged in to the admin UI and what they may do."""

    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length,
                          maxmem=128 * n * r * p + 2**20)


def hash_password(password: str) -> str:
    """A new ``scrypt$n$r$p$salt_b64$hash_b64`` string with a random salt."""
    if not password:
        raise ValueError("an empty password cannot be hashed")
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``; False for a malformed hash (never raises)."""
    try:
        scheme, n_s, r_s, p_s, salt_s, key_s = stored.split("$")
        n, r, p = int(n_s), int(r_s), int(p_s)
        salt, expected = base64.b64decode(salt_s, validate=True), base64.b64decode(key_s, validate=True)
    except (AttributeError, ValueError):
        return False
    if scheme != "scrypt" or not (1 < n <= MAX_N and n & (n - 1) == 0) or not (0 < r <= 32 and 0 < p <= 16):
        return False
    if not salt or not 16 <= len(expected) <= 64:
        return False
    actual = _scrypt(password, salt, n, r, p, len(expected))
    return hmac.compare_digest(actual, expected)


_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    """A hash to check unknown users against, so they take as long as known ones."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
    return _DUMMY_HASH


def authenticate(settings, username: str, password: str) -> User | None:
    """The account named ``username`` if ``password`` is right and its role is known, else None."""
    name = (username or "").strip()
    entry = settings.admin_users.get(name) if name else None
    if not isinstance(entry, dict) or not entry.get("password_hash"):
        verify_password(password or "", _dummy_hash())
        log.info("admin login refused: unknown user")
        return None
    if not verify_password(password or "", str(entry["password_hash"])):
        log.info("admin login refused for %s: wrong password", name)
        return None
    role = entry.get("role", "moderator")
    if role not in ROLES:
        log.warning("admin login refused for %s: unknown role %r in DETECTOR_ADMIN_USERS", name, role)
        return None
    return User(name=name, role=role)


def user_for_identity(settings, email: str | None) -> User | None:
    """The UI user for an OIDC identity (``st.login``): its role from ``admin_users`` keyed by e-mail.

    With no accounts configured, everyone the identity provider admits is a moderator; once any are
    configured, only listed e-mails get in, so an admin list cannot be bypassed by a broad IdP.
    """
    if not email:
        return None
    entry = settings.admin_users.get(email)
    if entry is None:
        return User(name=email, role="moderator") if not settings.admin_users else None
    role = entry.get("role", "moderator") if isinstance(entry, dict) else None
    return User(name=email, role=role) if role in ROLES else None

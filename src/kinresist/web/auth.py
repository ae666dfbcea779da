"""Accounts and access: passwords, API tokens, signed session cookies, CSRF, login rate limit.

* Passwords are hashed with argon2 (argon2-cffi's defaults, RFC 9106 low-memory profile);
  a hash made with older parameters is re-hashed at the next successful login.
* API tokens are ``kr_`` + 43 random URL-safe characters, shown once; only their SHA-256 is
  stored, so a leaked database does not leak usable tokens.
* The session cookie is signed (itsdangerous, timestamped) and carries the user id, a CSRF token
  and a fingerprint of the password hash: a changed password or a deactivated account ends every
  session. Every form carries the CSRF token (synchroniser-token pattern); API calls with a
  Bearer token need none (the browser never sends one by itself).
* Failed logins are counted per client address and per account name in a sliding window; past
  the limit the login answers 429 with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeTimedSerializer

__all__ = [
    "ROLES",
    "LoginLimiter",
    "Principal",
    "SessionCodec",
    "fingerprint",
    "hash_password",
    "new_api_token",
    "new_csrf_token",
    "password_needs_rehash",
    "same_token",
    "token_digest",
    "verify_password",
]

#: Roles in increasing power: viewers read, analysts also run and save, admins also manage.
ROLES = ("viewer", "analyst", "admin")
_HASHER = PasswordHasher()
TOKEN_PREFIX = "kr_"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: an account, or the local user of single-user mode (an admin)."""

    name: str
    role: str
    id: int | None = None
    single_user: bool = False

    def at_least(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash`` (False for a malformed hash)."""
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)


def fingerprint(password_hash: str) -> str:
    """A short digest of the stored hash, kept in the session to end it on a password change."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def new_api_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the store keeps of a token: its SHA-256 in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two tokens (False when either is missing)."""
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode(), b.encode())


class SessionCodec:
    """Signs and checks the session cookie's payload (a small JSON mapping)."""

    def __init__(self, secret: str, *, max_age_s: float) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="kinresist-session")
        self.max_age_s = max_age_s

    def dumps(self, payload: Mapping[str, Any]) -> str:
        return self._serializer.dumps(dict(payload))

    def loads(self, cookie: str | None) -> dict[str, Any] | None:
        """The payload, or None when the cookie is missing, forged or expired."""
        if not cookie:
            return None
        try:
            value = self._serializer.loads(cookie, max_age=int(self.max_age_s))
        except BadSignature:
            return None
        return value if isinstance(value, dict) else None


class LoginLimiter:
    """Failed logins per key (client address, account name) in a sliding window."""

    def __init__(self, *, attempts: int, window_s: float) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def retry_after(self, *keys: str) -> float:
        """Seconds until a login may be tried again (0: now)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                q = self._recent(key, now)
                if len(q) >= self.attempts:
                    wait = max(wait, self.window_s - (now - q[0]))
        return wait

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, name_key: str) -> None:
        with self._lock:
            self._failures.pop(name_key, None)

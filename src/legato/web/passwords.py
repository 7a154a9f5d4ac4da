"""Password hashing (scrypt) and the random secrets behind sessions and API tokens."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# scrypt with N=2**14, r=8: 16 MiB of memory and tens of milliseconds per hash, memory-hard enough
# to make guessing costly while a login stays well under 100 ms. The parameters are stored with
# each hash, so raising them later keeps old hashes verifiable.
_N, _R, _P = 2**14, 8, 1
_DKLEN = 32
MIN_PASSWORD = 10
MAX_PASSWORD = 1024


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$digest`` for ``password``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=_N, r=_R, p=_P, maxmem=64 * 2**20, dklen=_DKLEN
    )
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True if ``password`` matches ``stored``; constant time in the digest comparison."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(
            password.encode(errors="surrogatepass"),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=64 * 2**20,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


class HashGate:
    """At most ``slots`` password checks at once; an attempt that finds them all taken is told
    so at once instead of waiting, so a flood of logins can never hold more than ``slots`` CPUs
    (nor a queue of threads) of the server."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("a hash gate needs at least one slot")
        self.slots = slots
        self._free = threading.BoundedSemaphore(slots)

    @contextmanager
    def slot(self) -> Iterator[bool]:
        """Yields whether a slot was free; the slot is held until the block ends."""
        taken = self._free.acquire(blocking=False)
        try:
            yield taken
        finally:
            if taken:
                self._free.release()


@functools.cache
def dummy_hash() -> str:
    """A hash checked when the user does not exist, so that a login for an unknown name costs as
    much as one for a known name (no user enumeration by timing)."""
    return hash_password(secrets.token_urlsafe(16))


def generate_password() -> str:
    return secrets.token_urlsafe(15)  # 120 bits


def new_secret() -> str:
    """A 256-bit random value, URL-safe: a session id, a CSRF token or a token's secret part."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """How a session id or API token is stored (it is random, so SHA-256 is enough)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def password_problem(password: str) -> str | None:
    """Why ``password`` is refused, or None."""
    if len(password) < MIN_PASSWORD:
        return f"the password is shorter than {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"the password is longer than {MAX_PASSWORD} characters"
    if "\x00" in password:
        return "the password contains a NUL character"
    return None

"""Password hashes for local (break-glass) accounts: scrypt from the standard library."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_N, _R, _P = 2**15, 8, 1
_MAXMEM = 64 * 1024 * 1024


def hash_password(password: str, *, n: int = _N) -> str:
    if not password:
        raise ValueError("an empty password cannot be hashed")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=_R, p=_P, maxmem=_MAXMEM)
    b64 = base64.b64encode
    return f"scrypt${n}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def is_password_hash(encoded: str) -> bool:
    """True for what hash_password writes: scrypt$N$r$p$salt$digest, N a power of two."""
    try:
        kind, n, r, p, salt, digest = encoded.split("$")
        cost = int(n)
        base64.b64decode(salt, validate=True)
        usable = bool(base64.b64decode(digest, validate=True))
        return (
            kind == "scrypt"
            and cost > 1
            and cost & (cost - 1) == 0
            and int(r) * int(p) > 0
            and usable
        )
    except (ValueError, TypeError):
        return False


def verify_password(password: str, encoded: str) -> bool:
    try:
        kind, n, r, p, salt, digest = encoded.split("$")
        if kind != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_MAXMEM,
            dklen=len(want),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)

"""Bearer tokens: generation and hashing.

A token is ``"cs" + kind letter + "_" + 43 URL-safe characters`` carrying 256 random bits from
:func:`secrets.token_urlsafe`. Only its SHA-256 digest (FIPS 180-4) is stored.

Why a fast hash and not scrypt/argon2: slow, salted KDFs exist to make guessing *low-entropy*
secrets (passwords) expensive. A 256-bit random token cannot be guessed whatever the hash speed
(2**255 trials on average, and SHA-256 is preimage resistant), so a slow KDF would add no
security, while costing tens of milliseconds of CPU per verification — a denial-of-service lever
when a thousand devices reconnect at once — and, being salted, it would rule out finding the
token's row by an indexed lookup of its digest. A stolen database therefore yields no usable
token. After the indexed lookup the digests are compared again with
:func:`hmac.compare_digest` (constant time), so the check itself does not leak by timing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["MAX_TOKEN_LENGTH", "hash_token", "new_token", "same_digest"]

#: Longer presented tokens are rejected before hashing.
MAX_TOKEN_LENGTH = 256
_PREFIX = {"device": "csd_", "user": "csu_"}


def new_token(kind: str) -> str:
    """A new random token for a ``"device"`` or ``"user"`` principal (256 bits of entropy)."""
    return _PREFIX[kind] + secrets.token_urlsafe(32)


def hash_token(token: str) -> bytes:
    """SHA-256 digest (32 bytes) of the token's UTF-8 encoding."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def same_digest(a: bytes, b: bytes) -> bool:
    """Constant-time equality of two digests."""
    return hmac.compare_digest(a, b)

"""The phone page's ticket tokens: unguessable, one per ticket, derived from its id.

A ticket's QR used to hold its id (`2026-11-26/A008`), which anyone can
write down for every number of the day. The token is HMAC-SHA256 of the id
with the office's ticket key (kept in the store's meta table, made on first
start), cut to 22 base64url characters: 132 bits, so guessing one of a
day's thousand live tokens takes about 2^122 tries. Being derived, tokens
need no table: the engine keeps today's in memory and rebuilds them at start.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

TOKEN_CHARS = 22
_SHAPE = re.compile(rf"[A-Za-z0-9_-]{{{TOKEN_CHARS}}}")


def ticket_token(key: bytes, ticket_id: str) -> str:
    """The token of one ticket: 22 base64url characters."""
    digest = hmac.new(key, ticket_id.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:TOKEN_CHARS]


def token_hash(token: str) -> str:
    """SHA-256 of a token, in hex: what the `issued` event carries for the central web.

    The centre finds a ticket by the hash of the token a phone presents, but
    holds no token: a 132-bit secret cannot be recovered from its hash, so the
    centre (or anyone reading its database) cannot open or enumerate pages.
    """
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def token_shaped(text: str) -> bool:
    """Whether `text` has the form of a token (a cheap check before any look-up)."""
    return _SHAPE.fullmatch(text) is not None

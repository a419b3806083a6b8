"""Bearer-token authentication and the access rules of the HTTP and WebSocket endpoints.

Tokens are verified by :meth:`Store.verify_token` (hashed at rest). The rules are the store's:
a device token may only ingest for its own device and patient; a clinician reads only the
patients assigned to them; an admin reads everything and manages patients, devices, users,
tokens and assignments.
"""

from __future__ import annotations

import asyncio
import math
import time

from fastapi import HTTPException, Request, WebSocket

from ..store import Principal, Store

__all__ = ["TokenBucket", "bearer_token", "check_read", "require_admin", "require_user"]


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (None when absent/malformed)."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


async def verify(store: Store, token: str | None) -> Principal | None:
    if token is None:
        return None
    return await asyncio.to_thread(store.verify_token, token)


def _unauthorized() -> HTTPException:
    return HTTPException(401, "missing or invalid bearer token",
                         headers={"WWW-Authenticate": "Bearer"})


async def require_user(request: Request) -> Principal:
    """FastAPI dependency: a clinician or admin token (401 without one, 403 for devices)."""
    store: Store = request.app.state.store
    p = await verify(store, bearer_token(request.headers.get("authorization")))
    if p is None:
        raise _unauthorized()
    if p.kind != "user":
        raise HTTPException(403, "device tokens may only ingest")
    return p


async def require_admin(request: Request) -> Principal:
    """FastAPI dependency: an admin token."""
    p = await require_user(request)
    if not p.is_admin:
        raise HTTPException(403, "admin only")
    return p


async def check_read(store: Store, principal: Principal, patient_id: int) -> None:
    """403 unless ``principal`` may read ``patient_id`` (404 is not used: no oracle)."""
    ok = await asyncio.to_thread(store.can_read_patient, principal, patient_id)
    if not ok:
        raise HTTPException(403, "not allowed to read this patient")


async def accept_reader(ws: WebSocket, patient_id: int) -> Principal | None:
    """Authorise a subscriber WebSocket (``Authorization: Bearer`` or ``?token=``) for one
    patient and accept it; otherwise close it with 1008 and return None."""
    store: Store = ws.app.state.store
    token = bearer_token(ws.headers.get("authorization")) or ws.query_params.get("token")
    p = await verify(store, token)
    if p is None or p.kind != "user":
        await ws.close(code=1008, reason="unauthorized" if p is None else "forbidden")
        return None
    if not await asyncio.to_thread(store.can_read_patient, p, patient_id):
        await ws.close(code=1008, reason="forbidden")
        return None
    await ws.accept()
    return p


class TokenBucket:
    """Message-rate limit: ``burst`` messages at once, refilled at ``rate`` per second."""

    def __init__(self, rate: float, burst: int, clock=time.monotonic) -> None:
        self.rate = float(rate)
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.clock = clock
        self.t = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.t) * self.rate)
        self.t = now
        if self.tokens >= 1.0 or math.isclose(self.tokens, 1.0):
            self.tokens -= 1.0
            return True
        return False

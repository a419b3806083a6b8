"""Errors raised by the store (all :class:`~cardiostream.errors.CardiostreamError`, i.e.
:class:`ValueError` subclasses, like every input problem in cardiostream)."""

from __future__ import annotations

from ..errors import CardiostreamError

__all__ = ["ConflictError", "NotFoundError", "StoreError"]


class StoreError(CardiostreamError):
    """A request the database state does not allow."""


class NotFoundError(StoreError, LookupError):
    """A referenced patient, device, user, session, beat, event or alert does not exist
    (an HTTP layer maps it to 404)."""


class ConflictError(StoreError):
    """A unique name is taken, or an entity is in the wrong state (HTTP 409)."""

"""Persistence of the monitoring service: SQLAlchemy 2 schema, Alembic migrations, repository API.

>>> from cardiostream.store import Store
>>> store = Store("sqlite:///monitor.db")      # or "postgresql+psycopg://user@host/db"
>>> store.migrate()                            # alembic upgrade head
>>> p = store.add_patient("mitdb:100")

Reads return the frozen records of :mod:`cardiostream.store.records`; bulk writes
(:meth:`Store.add_beats`, :meth:`Store.append_chunks`) are idempotent.
"""

from __future__ import annotations

from .codec import decode_samples, encode_samples
from .errors import ConflictError, NotFoundError, StoreError
from .records import (
    ALERT_SEVERITIES,
    BEAT_LABELS,
    INCONCLUSIVE,
    MAX_CHUNK_SAMPLES,
    MAX_CHUNK_SECONDS,
    USER_ROLES,
    Alert,
    AuditEntry,
    Beat,
    Device,
    Event,
    HrTrend,
    IssuedToken,
    NewAlert,
    NewBeat,
    NewChunk,
    NewEvent,
    Patient,
    Principal,
    RawSegment,
    RawStrip,
    Session,
    TokenInfo,
    User,
)
from .store import DEFAULT_URL, Store

__all__ = [
    "ALERT_SEVERITIES",
    "BEAT_LABELS",
    "DEFAULT_URL",
    "INCONCLUSIVE",
    "MAX_CHUNK_SAMPLES",
    "MAX_CHUNK_SECONDS",
    "USER_ROLES",
    "Alert",
    "AuditEntry",
    "Beat",
    "ConflictError",
    "Device",
    "Event",
    "HrTrend",
    "IssuedToken",
    "NewAlert",
    "NewBeat",
    "NewChunk",
    "NewEvent",
    "NotFoundError",
    "Patient",
    "Principal",
    "RawSegment",
    "RawStrip",
    "Session",
    "Store",
    "StoreError",
    "TokenInfo",
    "User",
    "decode_samples",
    "encode_samples",
]

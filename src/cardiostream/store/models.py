"""Database schema of the monitoring service (SQLAlchemy 2 typed declarative models).

These classes define the tables (and the Alembic migrations are checked against them); the
:class:`~cardiostream.store.Store` talks to the tables through SQLAlchemy Core and returns the
frozen records of :mod:`cardiostream.store.records`, so no ORM object leaves the package.

Design notes
------------
* Times are BIGINT nanoseconds since the epoch (device clock for signal/beat/event times).
* The two high-volume tables have natural composite primary keys and no surrogate id: ``beats``
  ``(session_id, sample_index)`` and ``chunks`` ``(session_id, first_sample)``; idempotent
  ``INSERT ... ON CONFLICT DO NOTHING`` on them is what makes a restarted service never store a
  beat or chunk twice. ``patient_id`` is repeated in both so that time-range reads by patient use
  one index ``(patient_id, time)``.
* Enumerations are strings with CHECK constraints (portable, migration friendly) rather than
  PostgreSQL ENUM types.
* Surrogate ids are BIGINT on PostgreSQL and INTEGER (the rowid alias) on SQLite.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    REAL,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .records import ALERT_SEVERITIES, BEAT_LABELS, USER_ROLES

__all__ = [
    "AlertRow",
    "AssignmentRow",
    "AuditRow",
    "Base",
    "BeatRow",
    "ChunkRow",
    "DeviceRow",
    "EventRow",
    "PatientRow",
    "SessionRow",
    "TokenRow",
    "UserRow",
]

#: Deterministic constraint names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Id = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        int: BigInteger(),
        float: Float(),
        bool: Boolean(),
        bytes: LargeBinary(),
    }


class PatientRow(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(256))
    settings: Mapped[dict[str, Any]] = mapped_column(Json)
    created_at_ns: Mapped[int]


class DeviceRow(Base):
    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    serial: Mapped[str] = mapped_column(String(128), unique=True)
    model: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool]
    created_at_ns: Mapped[int]


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", USER_ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool]
    created_at_ns: Mapped[int]


class AssignmentRow(Base):
    """A clinician may read the patients assigned to them."""

    __tablename__ = "assignments"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), primary_key=True, index=True)
    created_at_ns: Mapped[int]


class TokenRow(Base):
    """Bearer tokens, stored as SHA-256 digests (see :mod:`cardiostream.store.tokens`)."""

    __tablename__ = "tokens"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'device' AND device_id IS NOT NULL AND patient_id IS NOT NULL "
            "AND user_id IS NULL) OR "
            "(kind = 'user' AND user_id IS NOT NULL AND device_id IS NULL AND patient_id IS NULL)",
            name="binding",
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"), index=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"))
    label: Mapped[str] = mapped_column(String(128))
    created_at_ns: Mapped[int]
    expires_at_ns: Mapped[int | None]
    revoked_at_ns: Mapped[int | None]


class SessionRow(Base):
    """A device streaming session and its progress (updated with every chunk batch)."""

    __tablename__ = "sessions"
    __table_args__ = (CheckConstraint("fs > 0", name="fs_positive"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    fs: Mapped[float]
    started_ns: Mapped[int]
    ended_ns: Mapped[int | None]
    created_at_ns: Mapped[int]
    last_seq: Mapped[int | None]
    next_sample: Mapped[int]
    last_device_ns: Mapped[int | None]


class ChunkRow(Base):
    """One row per chunk of raw samples (never per sample), compressed by
    :mod:`cardiostream.store.codec`."""

    __tablename__ = "chunks"
    __table_args__ = (Index(None, "patient_id", "start_ns"),)

    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), primary_key=True)
    first_sample: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    start_ns: Mapped[int]
    end_ns: Mapped[int]
    fs: Mapped[float]
    n_samples: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int | None]
    codec: Mapped[int] = mapped_column(SmallInteger)
    payload: Mapped[bytes]


class BeatRow(Base):
    __tablename__ = "beats"
    __table_args__ = (
        Index(None, "patient_id", "time_ns"),
        CheckConstraint(_in("label", BEAT_LABELS), name="label"),
        CheckConstraint(f"relabel IS NULL OR {_in('relabel', BEAT_LABELS)}", name="relabel"),
    )

    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), primary_key=True)
    sample_index: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    time_ns: Mapped[int]
    label: Mapped[str] = mapped_column(String(12))
    p_n: Mapped[float | None] = mapped_column(REAL)
    p_s: Mapped[float | None] = mapped_column(REAL)
    p_v: Mapped[float | None] = mapped_column(REAL)
    p_f: Mapped[float | None] = mapped_column(REAL)
    p_q: Mapped[float | None] = mapped_column(REAL)
    usable: Mapped[bool]
    relabel: Mapped[str | None] = mapped_column(String(12))
    relabeled_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    relabeled_at_ns: Mapped[int | None]


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("patient_id", "kind", "start_ns"),
        Index(None, "patient_id", "start_ns"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"))
    kind: Mapped[str] = mapped_column(String(32))
    start_ns: Mapped[int]
    end_ns: Mapped[int | None]
    evidence: Mapped[list[int]] = mapped_column(Json)
    details: Mapped[dict[str, Any]] = mapped_column(Json)
    created_at_ns: Mapped[int]
    updated_at_ns: Mapped[int]


class AlertRow(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("event_id", "severity"),
        Index(None, "patient_id", "raised_at_ns"),
        CheckConstraint(_in("severity", ALERT_SEVERITIES), name="severity"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(String(512))
    raised_at_ns: Mapped[int]
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at_ns: Mapped[int | None]


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "entity", "entity_key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at_ns: Mapped[int] = mapped_column(index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_key: Mapped[str] = mapped_column(String(128))
    old: Mapped[Any | None] = mapped_column(Json)
    new: Mapped[Any | None] = mapped_column(Json)

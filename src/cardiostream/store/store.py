"""The repository API of the monitoring service: :class:`Store`.

One object per process, built from a database URL (a SQLite file by default, PostgreSQL via
``postgresql+psycopg://``). Methods are synchronous and thread-safe (each opens its own
connection from the engine's pool and commits before returning); the service calls them from a
worker thread. Writes are batch-oriented: :meth:`Store.add_beats` and :meth:`Store.append_chunks`
take many patients' rows in one transaction and are idempotent (``INSERT ... ON CONFLICT DO
NOTHING``), so a restarted service that resends or recomputes data never duplicates it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

import numpy as np
from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Row,
    bindparam,
    case,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError

from ..errors import InvalidParameterError, InvalidSignalError, check_param
from . import migrate as _migrate
from ._engine import connect, dialect_insert, insert_ignore, parse_url, write_transaction
from .codec import CODEC_ZDELTA, decode_samples, encode_samples
from .errors import ConflictError, NotFoundError
from .models import (
    AlertRow,
    AssignmentRow,
    AuditRow,
    BeatRow,
    ChunkRow,
    DeviceRow,
    EventRow,
    PatientRow,
    SessionRow,
    TokenRow,
    UserRow,
)
from .records import (
    BEAT_LABELS,
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
    _int,
    _json_mapping,
    _opt_int,
    _plain,
    _text,
)
from .tokens import MAX_TOKEN_LENGTH, hash_token, new_token, same_digest

__all__ = ["DEFAULT_URL", "Store"]

#: Database used when no URL is given: a SQLite file in the working directory.
DEFAULT_URL = "sqlite:///cardiostream.db"
#: Accepted nominal sampling rates of a session, in Hz.
FS_RANGE: tuple[float, float] = (1.0, 20_000.0)

P = PatientRow.__table__
D = DeviceRow.__table__
U = UserRow.__table__
A = AssignmentRow.__table__
T = TokenRow.__table__
S = SessionRow.__table__
C = ChunkRow.__table__
B = BeatRow.__table__
E = EventRow.__table__
AL = AlertRow.__table__
AU = AuditRow.__table__

_LAST_BEAT = (
    select(func.max(B.c.sample_index))
    .where(B.c.session_id == S.c.id)
    .scalar_subquery()
    .label("last_beat_sample")
)


def _range(t0_ns: object, t1_ns: object) -> tuple[int, int]:
    t0 = _int("t0_ns", t0_ns)
    t1 = _int("t1_ns", t1_ns)
    check_param("t1_ns", t1, t1 >= t0, f"≥ t0_ns ({t0})")
    return t0, t1


def _patient(r: Row[Any]) -> Patient:
    return Patient(**{**r._asdict(), "settings": MappingProxyType(dict(r.settings or {}))})


def _device(r: Row[Any]) -> Device:
    return Device(**r._asdict())


def _user(r: Row[Any]) -> User:
    return User(**r._asdict())


def _session(r: Row[Any]) -> Session:
    return Session(**{**r._asdict(), "fs": float(r.fs)})


def _beat(r: Row[Any]) -> Beat:
    return Beat(**r._asdict())


def _event(r: Row[Any]) -> Event:
    return Event(
        **{
            **r._asdict(),
            "evidence": tuple(int(i) for i in r.evidence or ()),
            "details": MappingProxyType(dict(r.details or {})),
        }
    )


def _alert(r: Row[Any]) -> Alert:
    return Alert(**r._asdict())


def _ids(name: str, value: int | Collection[int]) -> list[int]:
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return [_int(name, value, 1)]
    check_param(name, value, isinstance(value, Collection), "an id or a collection of ids")
    return [_int(name, v, 1) for v in value]


def _advance_sessions(conn: Connection, progress: Mapping[int, list[Any]]) -> None:
    """Move each session's ``last_seq``, ``next_sample``, ``last_device_ns`` forward (to the
    maximum of stored and new; None never overwrites a value), one statement for the batch."""
    ids = sorted(progress)
    if conn.dialect.name == "postgresql":  # GREATEST ignores NULLs
        conn.execute(
            text(
                "UPDATE sessions SET last_seq = GREATEST(sessions.last_seq, v.seq), "
                "next_sample = GREATEST(sessions.next_sample, v.nxt), "
                "last_device_ns = GREATEST(sessions.last_device_ns, v.last) "
                "FROM unnest(CAST(:ids AS BIGINT[]), CAST(:seqs AS BIGINT[]), "
                "CAST(:nxts AS BIGINT[]), CAST(:lasts AS BIGINT[])) AS v(id, seq, nxt, last) "
                "WHERE sessions.id = v.id"
            ),
            {
                "ids": ids,
                "seqs": [progress[i][0] for i in ids],
                "nxts": [progress[i][1] for i in ids],
                "lasts": [progress[i][2] for i in ids],
            },
        )
        return
    b_seq = bindparam("b_seq", type_=BigInteger())
    b_next = bindparam("b_next", type_=BigInteger())
    b_last = bindparam("b_last", type_=BigInteger())
    stmt = (
        update(S)
        .where(S.c.id == bindparam("b_id", type_=BigInteger()))
        .values(
            last_seq=case(
                (b_seq.is_(None), S.c.last_seq),
                (or_(S.c.last_seq.is_(None), S.c.last_seq < b_seq), b_seq),
                else_=S.c.last_seq,
            ),
            next_sample=case((S.c.next_sample < b_next, b_next), else_=S.c.next_sample),
            last_device_ns=case(
                (or_(S.c.last_device_ns.is_(None), S.c.last_device_ns < b_last), b_last),
                else_=S.c.last_device_ns,
            ),
        )
    )
    params = [
        {"b_id": i, "b_seq": p[0], "b_next": p[1], "b_last": p[2]}
        for i, p in sorted(progress.items())
    ]
    conn.execute(stmt, params)


class Store:
    """Persistence of the monitoring service (patients, devices, users, tokens, sessions, raw
    chunks, beats, events, alerts, audit log).

    Parameters
    ----------
    url : str or sqlalchemy URL
        ``sqlite:///path.db`` (default :data:`DEFAULT_URL`) or
        ``postgresql+psycopg://user@host:port/db`` (``postgresql://`` gets the psycopg 3
        driver). ``sqlite://`` is an in-memory database on one shared connection: for tests,
        not for concurrent threads.
    clock : callable
        Server wall clock in epoch ns (injectable for tests).
    engine_kwargs : mapping, optional
        Extra :func:`sqlalchemy.create_engine` arguments (pool size, ``connect_args`` ...).

    Notes
    -----
    Call :meth:`migrate` once at start-up (it is a no-op on an up-to-date database).
    """

    def __init__(
        self,
        url: str | URL = DEFAULT_URL,
        *,
        clock: Callable[[], int] = time.time_ns,
        engine_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self.url = parse_url(url)
        self.backend: str = self.url.get_backend_name()
        self._clock = clock
        self._engine: Engine = connect(self.url, engine_kwargs)

    def __repr__(self) -> str:
        return f"Store({self.url.render_as_string(hide_password=True)!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for maintenance and tests)."""
        return self._engine

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def _now(self) -> int:
        return int(self._clock())

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        try:
            with write_transaction(self._engine) as conn:
                yield conn
        except IntegrityError as e:  # a concurrent writer won a uniqueness race
            raise ConflictError(f"The database refused the change ({e.orig}).") from e

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            yield conn

    # ----------------------------------------------------------------------------- schema

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` (``alembic upgrade head`` by default)."""
        with self._engine.begin() as conn:
            _migrate.upgrade(conn, revision)

    def downgrade(self, revision: str) -> None:
        """``alembic downgrade <revision>`` (``"base"`` drops every table)."""
        with self._engine.begin() as conn:
            _migrate.downgrade(conn, revision)

    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at (None: never migrated)."""
        with self._read() as conn:
            return _migrate.current_revision(conn)

    def schema_diff(self) -> list[Any]:
        """Differences between the database schema and the models; empty when they match."""
        with self._read() as conn:
            return _migrate.schema_diff(conn)

    # ----------------------------------------------------------------------------- audit

    def _audit(
        self,
        conn: Connection,
        actor_user_id: int | None,
        action: str,
        entity: str,
        entity_key: object,
        old: Any = None,
        new: Any = None,
        actor: str | None = None,
    ) -> None:
        conn.execute(
            AU.insert().values(
                at_ns=self._now(),
                actor_user_id=actor_user_id,
                actor=actor or (f"user:{actor_user_id}" if actor_user_id is not None else "system"),
                action=action,
                entity=entity,
                entity_key=str(entity_key),
                old=_plain(old),
                new=_plain(new),
            )
        )

    def audit(
        self,
        action: str,
        entity: str,
        entity_key: object,
        *,
        actor_user_id: int | None = None,
        actor: str | None = None,
        old: Any = None,
        new: Any = None,
    ) -> None:
        """Record an action the service performed itself (e.g. a rejected login, an export).

        ``actor`` defaults to ``"user:<actor_user_id>"`` or ``"system"``; ``old``/``new`` are
        JSON values.
        """
        _text("action", action, 64)
        _text("entity", entity, 32)
        _opt_int("actor_user_id", actor_user_id, 1)
        if actor is not None:
            _text("actor", actor, 64)
        with self._write() as conn:
            self._audit(conn, actor_user_id, action, entity, entity_key, old, new, actor)

    def audit_log(
        self,
        entity: str | None = None,
        entity_key: object = None,
        *,
        t0_ns: int | None = None,
        t1_ns: int | None = None,
        limit: int = 1000,
    ) -> tuple[AuditEntry, ...]:
        """Audit entries, newest first, optionally for one entity (and key) and time range."""
        q = select(AU)
        if entity is not None:
            q = q.where(AU.c.entity == entity)
        if entity_key is not None:
            q = q.where(AU.c.entity_key == str(entity_key))
        if t0_ns is not None:
            q = q.where(AU.c.at_ns >= _int("t0_ns", t0_ns))
        if t1_ns is not None:
            q = q.where(AU.c.at_ns < _int("t1_ns", t1_ns))
        q = q.order_by(AU.c.at_ns.desc(), AU.c.id.desc()).limit(_int("limit", limit, 1))
        with self._read() as conn:
            return tuple(AuditEntry(**r._asdict()) for r in conn.execute(q))

    # ----------------------------------------------------------------------------- helpers

    @staticmethod
    def _one(conn: Connection, query: Any, what: str, key: object) -> Row[Any]:
        row = conn.execute(query).first()
        if row is None:
            raise NotFoundError(f"No {what} {key!r}.")
        return row

    # ----------------------------------------------------------------------------- patients

    def add_patient(
        self,
        external_id: str,
        name: str = "",
        settings: Mapping[str, Any] | None = None,
        *,
        actor_user_id: int | None = None,
    ) -> Patient:
        """Register a patient. ``external_id`` (e.g. an MRN) must be unique."""
        _text("external_id", external_id, 128)
        _text("name", name, 256, empty=True)
        cfg = _plain(_json_mapping("settings", settings if settings is not None else {}))
        with self._write() as conn:
            if conn.execute(select(P.c.id).where(P.c.external_id == external_id)).first():
                raise ConflictError(f"A patient with external_id {external_id!r} exists.")
            pid = conn.execute(
                P.insert()
                .values(external_id=external_id, name=name, settings=cfg, created_at_ns=self._now())
                .returning(P.c.id)
            ).scalar_one()
            self._audit(
                conn,
                actor_user_id,
                "create",
                "patient",
                pid,
                None,
                {"external_id": external_id, "name": name, "settings": cfg},
            )
            return _patient(conn.execute(select(P).where(P.c.id == pid)).one())

    def get_patient(self, patient_id: int) -> Patient:
        """The patient ``patient_id`` (:class:`NotFoundError` when absent)."""
        with self._read() as conn:
            return _patient(
                self._one(conn, select(P).where(P.c.id == patient_id), "patient", patient_id)
            )

    def find_patient(self, external_id: str) -> Patient | None:
        """The patient with this external id, or None."""
        with self._read() as conn:
            r = conn.execute(select(P).where(P.c.external_id == external_id)).first()
        return None if r is None else _patient(r)

    def list_patients(self, patient_ids: Collection[int] | None = None) -> tuple[Patient, ...]:
        """All patients (or those in ``patient_ids``), by id."""
        q = select(P).order_by(P.c.id)
        if patient_ids is not None:
            q = q.where(P.c.id.in_(_ids("patient_ids", patient_ids)))
        with self._read() as conn:
            return tuple(_patient(r) for r in conn.execute(q))

    def update_patient_settings(
        self, patient_id: int, settings: Mapping[str, Any], *, actor_user_id: int | None = None
    ) -> Patient:
        """Replace a patient's settings (e.g. event thresholds); audited with old and new."""
        cfg = _plain(_json_mapping("settings", settings))
        with self._write() as conn:
            old = self._one(
                conn, select(P).where(P.c.id == patient_id).with_for_update(), "patient", patient_id
            )
            conn.execute(update(P).where(P.c.id == patient_id).values(settings=cfg))
            self._audit(
                conn, actor_user_id, "update_settings", "patient", patient_id, old.settings, cfg
            )
            return _patient(conn.execute(select(P).where(P.c.id == patient_id)).one())

    # ----------------------------------------------------------------------------- devices

    def add_device(
        self, patient_id: int, serial: str, model: str = "", *, actor_user_id: int | None = None
    ) -> Device:
        """Register a device worn by ``patient_id``; ``serial`` must be unique."""
        _int("patient_id", patient_id, 1)
        _text("serial", serial, 128)
        _text("model", model, 64, empty=True)
        with self._write() as conn:
            self._one(conn, select(P.c.id).where(P.c.id == patient_id), "patient", patient_id)
            if conn.execute(select(D.c.id).where(D.c.serial == serial)).first():
                raise ConflictError(f"A device with serial {serial!r} exists.")
            did = conn.execute(
                D.insert()
                .values(
                    patient_id=patient_id,
                    serial=serial,
                    model=model,
                    active=True,
                    created_at_ns=self._now(),
                )
                .returning(D.c.id)
            ).scalar_one()
            self._audit(
                conn,
                actor_user_id,
                "create",
                "device",
                did,
                None,
                {"patient_id": patient_id, "serial": serial, "model": model},
            )
            return _device(conn.execute(select(D).where(D.c.id == did)).one())

    def get_device(self, device_id: int) -> Device:
        """The device ``device_id`` (:class:`NotFoundError` when absent)."""
        with self._read() as conn:
            return _device(
                self._one(conn, select(D).where(D.c.id == device_id), "device", device_id)
            )

    def list_devices(self, patient_id: int | None = None) -> tuple[Device, ...]:
        """All devices, or a patient's, by id."""
        q = select(D).order_by(D.c.id)
        if patient_id is not None:
            q = q.where(D.c.patient_id == patient_id)
        with self._read() as conn:
            return tuple(_device(r) for r in conn.execute(q))

    def set_device_active(
        self, device_id: int, active: bool, *, actor_user_id: int | None = None
    ) -> Device:
        """Enable or disable a device (a disabled device's tokens stop verifying)."""
        with self._write() as conn:
            old = self._one(conn, select(D).where(D.c.id == device_id), "device", device_id)
            conn.execute(update(D).where(D.c.id == device_id).values(active=bool(active)))
            self._audit(
                conn,
                actor_user_id,
                "set_active",
                "device",
                device_id,
                {"active": bool(old.active)},
                {"active": bool(active)},
            )
            return _device(conn.execute(select(D).where(D.c.id == device_id)).one())

    def move_device(
        self, device_id: int, patient_id: int, *, actor_user_id: int | None = None
    ) -> Device:
        """Give a device to another patient (audited). Its existing tokens stop verifying, since
        they were bound to the previous patient: issue a new one."""
        with self._write() as conn:
            old = self._one(conn, select(D).where(D.c.id == device_id), "device", device_id)
            self._one(conn, select(P.c.id).where(P.c.id == patient_id), "patient", patient_id)
            conn.execute(update(D).where(D.c.id == device_id).values(patient_id=patient_id))
            self._audit(
                conn,
                actor_user_id,
                "move",
                "device",
                device_id,
                {"patient_id": old.patient_id},
                {"patient_id": patient_id},
            )
            return _device(conn.execute(select(D).where(D.c.id == device_id)).one())

    # ----------------------------------------------------------------------------- users

    def add_user(
        self,
        username: str,
        role: str,
        display_name: str = "",
        *,
        actor_user_id: int | None = None,
    ) -> User:
        """Create a clinician or admin user; ``username`` must be unique."""
        _text("username", username, 128)
        check_param("role", role, role in USER_ROLES, f"one of {USER_ROLES}")
        _text("display_name", display_name, 256, empty=True)
        with self._write() as conn:
            if conn.execute(select(U.c.id).where(U.c.username == username)).first():
                raise ConflictError(f"A user named {username!r} exists.")
            uid = conn.execute(
                U.insert()
                .values(
                    username=username,
                    role=role,
                    display_name=display_name,
                    active=True,
                    created_at_ns=self._now(),
                )
                .returning(U.c.id)
            ).scalar_one()
            self._audit(
                conn,
                actor_user_id,
                "create",
                "user",
                uid,
                None,
                {"username": username, "role": role},
            )
            return _user(conn.execute(select(U).where(U.c.id == uid)).one())

    def get_user(self, user_id: int) -> User:
        """The user ``user_id`` (:class:`NotFoundError` when absent)."""
        with self._read() as conn:
            return _user(self._one(conn, select(U).where(U.c.id == user_id), "user", user_id))

    def list_users(self) -> tuple[User, ...]:
        """All users, by id."""
        with self._read() as conn:
            return tuple(_user(r) for r in conn.execute(select(U).order_by(U.c.id)))

    def set_user_active(
        self, user_id: int, active: bool, *, actor_user_id: int | None = None
    ) -> User:
        """Enable or disable a user (a disabled user's tokens stop verifying)."""
        with self._write() as conn:
            old = self._one(conn, select(U).where(U.c.id == user_id), "user", user_id)
            conn.execute(update(U).where(U.c.id == user_id).values(active=bool(active)))
            self._audit(
                conn,
                actor_user_id,
                "set_active",
                "user",
                user_id,
                {"active": bool(old.active)},
                {"active": bool(active)},
            )
            return _user(conn.execute(select(U).where(U.c.id == user_id)).one())

    # ----------------------------------------------------------------------------- assignments

    def assign(self, user_id: int, patient_id: int, *, actor_user_id: int | None = None) -> bool:
        """Let clinician ``user_id`` read ``patient_id``; False when already assigned."""
        with self._write() as conn:
            self._one(conn, select(U.c.id).where(U.c.id == user_id), "user", user_id)
            self._one(conn, select(P.c.id).where(P.c.id == patient_id), "patient", patient_id)
            row = {"user_id": user_id, "patient_id": patient_id, "created_at_ns": self._now()}
            added = insert_ignore(conn, A, [row], ("user_id", "patient_id")) == 1
            if added:
                self._audit(
                    conn,
                    actor_user_id,
                    "assign",
                    "assignment",
                    f"{user_id}:{patient_id}",
                    None,
                    row,
                )
            return added

    def unassign(self, user_id: int, patient_id: int, *, actor_user_id: int | None = None) -> bool:
        """Remove an assignment; False when there was none."""
        with self._write() as conn:
            n = conn.execute(
                A.delete().where(A.c.user_id == user_id, A.c.patient_id == patient_id)
            ).rowcount
            if n:
                self._audit(
                    conn,
                    actor_user_id,
                    "unassign",
                    "assignment",
                    f"{user_id}:{patient_id}",
                    {"user_id": user_id, "patient_id": patient_id},
                    None,
                )
            return bool(n)

    def assigned_patient_ids(self, user_id: int) -> frozenset[int]:
        """Patients assigned to ``user_id``."""
        with self._read() as conn:
            rows = conn.execute(select(A.c.patient_id).where(A.c.user_id == user_id))
            return frozenset(int(r[0]) for r in rows)

    # ----------------------------------------------------------------------------- tokens

    def _issue(
        self,
        conn: Connection,
        kind: str,
        label: str,
        expires_at_ns: int | None,
        actor_user_id: int | None,
        **binding: int | None,
    ) -> IssuedToken:
        plaintext = new_token(kind)
        tid = conn.execute(
            T.insert()
            .values(
                token_hash=hash_token(plaintext),
                kind=kind,
                label=label,
                created_at_ns=self._now(),
                expires_at_ns=expires_at_ns,
                **binding,
            )
            .returning(T.c.id)
        ).scalar_one()
        self._audit(
            conn,
            actor_user_id,
            "create",
            "token",
            tid,
            None,
            {"kind": kind, "label": label, **binding},
        )
        return IssuedToken(
            token_id=tid,
            plaintext=plaintext,
            kind=kind,  # type: ignore[arg-type]
            user_id=binding.get("user_id"),
            device_id=binding.get("device_id"),
            patient_id=binding.get("patient_id"),
            expires_at_ns=expires_at_ns,
        )

    def create_device_token(
        self,
        device_id: int,
        *,
        label: str = "",
        expires_at_ns: int | None = None,
        actor_user_id: int | None = None,
    ) -> IssuedToken:
        """A token letting ``device_id`` ingest for the patient it is registered to now.

        The plaintext is in the returned record only; moving the device to another patient
        invalidates the token.
        """
        _text("label", label, 128, empty=True)
        _opt_int("expires_at_ns", expires_at_ns)
        with self._write() as conn:
            dev = self._one(conn, select(D).where(D.c.id == device_id), "device", device_id)
            return self._issue(
                conn,
                "device",
                label,
                expires_at_ns,
                actor_user_id,
                device_id=dev.id,
                patient_id=dev.patient_id,
            )

    def create_user_token(
        self,
        user_id: int,
        *,
        label: str = "",
        expires_at_ns: int | None = None,
        actor_user_id: int | None = None,
    ) -> IssuedToken:
        """A token for a clinician or admin user (its rights follow the user's current role)."""
        _text("label", label, 128, empty=True)
        _opt_int("expires_at_ns", expires_at_ns)
        with self._write() as conn:
            self._one(conn, select(U.c.id).where(U.c.id == user_id), "user", user_id)
            return self._issue(conn, "user", label, expires_at_ns, actor_user_id, user_id=user_id)

    def revoke_token(self, token_id: int, *, actor_user_id: int | None = None) -> bool:
        """Revoke a token; False when it was already revoked."""
        now = self._now()
        with self._write() as conn:
            self._one(conn, select(T.c.id).where(T.c.id == token_id), "token", token_id)
            n = conn.execute(
                update(T)
                .where(T.c.id == token_id, T.c.revoked_at_ns.is_(None))
                .values(revoked_at_ns=now)
            ).rowcount
            if n:
                self._audit(
                    conn, actor_user_id, "revoke", "token", token_id, None, {"revoked_at_ns": now}
                )
            return bool(n)

    def list_tokens(
        self, *, user_id: int | None = None, device_id: int | None = None
    ) -> tuple[TokenInfo, ...]:
        """Tokens (all, a user's or a device's), by id, without secrets."""
        q = select(*(c for c in T.c if c.name != "token_hash")).order_by(T.c.id)
        if user_id is not None:
            q = q.where(T.c.user_id == user_id)
        if device_id is not None:
            q = q.where(T.c.device_id == device_id)
        with self._read() as conn:
            return tuple(TokenInfo(**r._asdict()) for r in conn.execute(q))

    def verify_token(self, token: object, *, now_ns: int | None = None) -> Principal | None:
        """The principal a presented token speaks for, or None when it is unknown, revoked,
        expired, or its user/device is disabled (or the device moved to another patient).

        The reason is deliberately not returned (no oracle for an attacker); the service should
        log failures with :meth:`audit` if it wants them recorded.
        """
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_LENGTH:
            return None
        digest = hash_token(token)
        q = (
            select(
                T.c.id,
                T.c.token_hash,
                T.c.kind,
                T.c.user_id,
                T.c.device_id,
                T.c.patient_id,
                T.c.expires_at_ns,
                T.c.revoked_at_ns,
                U.c.role,
                U.c.active.label("user_active"),
                D.c.patient_id.label("device_patient_id"),
                D.c.active.label("device_active"),
            )
            .select_from(
                T.outerjoin(U, T.c.user_id == U.c.id).outerjoin(D, T.c.device_id == D.c.id)
            )
            .where(T.c.token_hash == digest)
        )
        with self._read() as conn:
            r = conn.execute(q).first()
        if r is None or not same_digest(bytes(r.token_hash), digest):
            return None
        now = self._now() if now_ns is None else now_ns
        if r.revoked_at_ns is not None or (r.expires_at_ns is not None and now >= r.expires_at_ns):
            return None
        if r.kind == "user":
            if not r.user_active:
                return None
            return Principal(r.id, "user", r.role, r.user_id, None, None)
        if not r.device_active or r.device_patient_id != r.patient_id:
            return None
        return Principal(r.id, "device", "device", None, r.device_id, r.patient_id)

    # ----------------------------------------------------------------------------- access

    def readable_patient_ids(self, principal: Principal) -> frozenset[int] | None:
        """Patients ``principal`` may read: None means all (admin); devices read none."""
        if principal.kind == "user" and principal.role == "admin":
            return None
        if principal.kind == "user" and principal.user_id is not None:
            return self.assigned_patient_ids(principal.user_id)
        return frozenset()

    def can_read_patient(self, principal: Principal, patient_id: int) -> bool:
        """Admins read every patient, clinicians their assigned ones, devices none."""
        ids = self.readable_patient_ids(principal)
        return ids is None or patient_id in ids

    @staticmethod
    def can_ingest(principal: Principal, patient_id: int, device_id: int) -> bool:
        """Only a device token, and only for its own device and patient."""
        return (
            principal.kind == "device"
            and principal.patient_id == patient_id
            and principal.device_id == device_id
        )

    # ----------------------------------------------------------------------------- sessions

    def start_session(
        self, device_id: int, fs: float, started_ns: int, *, patient_id: int | None = None
    ) -> Session:
        """Open a streaming session of ``device_id`` (for its patient) at ``fs`` Hz.

        ``started_ns`` is the device time of the first sample; ``patient_id``, when given,
        must be the device's patient.
        """
        ok = isinstance(fs, int | float) and math.isfinite(fs) and FS_RANGE[0] <= fs <= FS_RANGE[1]
        check_param("fs", fs, ok, f"a sampling rate in [{FS_RANGE[0]:g}, {FS_RANGE[1]:g}] Hz")
        _int("started_ns", started_ns)
        with self._write() as conn:
            dev = self._one(conn, select(D).where(D.c.id == device_id), "device", device_id)
            if patient_id is not None and patient_id != dev.patient_id:
                raise InvalidParameterError(
                    f"The 'patient_id' parameter must be device {device_id}'s patient "
                    f"{dev.patient_id}, got {patient_id!r} instead."
                )
            sid = conn.execute(
                S.insert()
                .values(
                    patient_id=dev.patient_id,
                    device_id=device_id,
                    fs=float(fs),
                    started_ns=started_ns,
                    created_at_ns=self._now(),
                    next_sample=0,
                )
                .returning(S.c.id)
            ).scalar_one()
            return _session(conn.execute(select(S, _LAST_BEAT).where(S.c.id == sid)).one())

    def end_session(self, session_id: int, ended_ns: int) -> Session:
        """Close a session (device time of its end); ending it again keeps the first end."""
        _int("ended_ns", ended_ns)
        with self._write() as conn:
            self._one(conn, select(S.c.id).where(S.c.id == session_id), "session", session_id)
            conn.execute(
                update(S)
                .where(S.c.id == session_id, S.c.ended_ns.is_(None))
                .values(ended_ns=ended_ns)
            )
            return _session(conn.execute(select(S, _LAST_BEAT).where(S.c.id == session_id)).one())

    def get_session(self, session_id: int) -> Session:
        """A session with its progress (:class:`NotFoundError` when absent)."""
        with self._read() as conn:
            q = select(S, _LAST_BEAT).where(S.c.id == session_id)
            return _session(self._one(conn, q, "session", session_id))

    def open_sessions(
        self, *, device_id: int | None = None, patient_id: int | None = None
    ) -> tuple[Session, ...]:
        """Sessions not ended (optionally of one device or patient), by id: what a restarted
        service resumes, each with its ``last_seq``, ``next_sample`` and ``last_beat_sample``."""
        q = select(S, _LAST_BEAT).where(S.c.ended_ns.is_(None)).order_by(S.c.id)
        if device_id is not None:
            q = q.where(S.c.device_id == device_id)
        if patient_id is not None:
            q = q.where(S.c.patient_id == patient_id)
        with self._read() as conn:
            return tuple(_session(r) for r in conn.execute(q))

    def list_sessions(
        self, patient_id: int, t0_ns: int | None = None, t1_ns: int | None = None
    ) -> tuple[Session, ...]:
        """A patient's sessions overlapping ``[t0_ns, t1_ns)`` (all when omitted), by start."""
        q = select(S, _LAST_BEAT).where(S.c.patient_id == patient_id)
        if t1_ns is not None:
            q = q.where(S.c.started_ns < t1_ns)
        if t0_ns is not None:
            q = q.where(or_(S.c.ended_ns.is_(None), S.c.ended_ns >= t0_ns))
        with self._read() as conn:
            return tuple(_session(r) for r in conn.execute(q.order_by(S.c.started_ns, S.c.id)))

    def _sessions_of(self, conn: Connection, session_ids: set[int]) -> dict[int, Row[Any]]:
        rows = conn.execute(
            select(S.c.id, S.c.patient_id, S.c.fs).where(S.c.id.in_(sorted(session_ids)))
        )
        found = {r.id: r for r in rows}
        missing = sorted(session_ids - found.keys())
        if missing:
            raise NotFoundError(f"No session {missing[0]!r} (of {len(missing)} unknown).")
        return found

    # ----------------------------------------------------------------------------- raw chunks

    def append_chunks(self, chunks: Sequence[NewChunk]) -> int:
        """Store raw chunks (any sessions) in one transaction; returns how many were new.

        A chunk whose ``(session_id, first_sample)`` is already stored is skipped. Each touched
        session's progress (``last_seq``, ``next_sample``, ``last_device_ns``) moves forward to
        cover the batch, never backward, in the same transaction.
        """
        if not chunks:
            return 0
        for c in chunks:
            check_param("chunks", c, isinstance(c, NewChunk), "a sequence of NewChunk")
        rows: list[dict[str, Any]] = []
        progress: dict[int, list[Any]] = {}
        with self._write() as conn:
            sess = self._sessions_of(conn, {c.session_id for c in chunks})
            for c in chunks:
                s = sess[c.session_id]
                n = int(c.samples.size)
                fs = float(s.fs)
                if n / fs > MAX_CHUNK_SECONDS:
                    raise InvalidParameterError(
                        f"The 'samples' parameter must span at most {MAX_CHUNK_SECONDS:g} s, "
                        f"got {n} samples at {fs:g} Hz instead."
                    )
                rows.append(
                    {
                        "session_id": c.session_id,
                        "first_sample": c.first_sample,
                        "patient_id": s.patient_id,
                        "start_ns": c.start_ns,
                        "end_ns": c.start_ns + round(n * 1e9 / fs),
                        "fs": fs,
                        "n_samples": n,
                        "seq": c.seq,
                        "codec": CODEC_ZDELTA,
                        "payload": encode_samples(c.samples),
                    }
                )
                last_ns = c.start_ns + round((n - 1) * 1e9 / fs)
                p = progress.setdefault(c.session_id, [None, 0, None])
                if c.seq is not None and (p[0] is None or c.seq > p[0]):
                    p[0] = c.seq
                p[1] = max(p[1], c.first_sample + n)
                p[2] = last_ns if p[2] is None else max(p[2], last_ns)
            inserted = insert_ignore(conn, C, rows, ("session_id", "first_sample"))
            _advance_sessions(conn, progress)
        return inserted

    def advance_session(
        self,
        session_id: int,
        *,
        seq: int | None = None,
        next_sample: int | None = None,
        device_ns: int | None = None,
    ) -> Session:
        """Move a session's progress forward without storing samples — e.g. when frames up to
        ``seq`` were settled as a gap and acknowledged. Values only ever increase."""
        _opt_int("seq", seq, 0)
        _opt_int("next_sample", next_sample, 0)
        _opt_int("device_ns", device_ns)
        with self._write() as conn:
            self._sessions_of(conn, {session_id})
            _advance_sessions(conn, {session_id: [seq, next_sample or 0, device_ns]})
            return _session(conn.execute(select(S, _LAST_BEAT).where(S.c.id == session_id)).one())

    def raw_strip(
        self, patient_id: int, t0_ns: int, t1_ns: int, *, max_samples: int = 20_000_000
    ) -> RawStrip:
        """Raw samples of a patient with device times in ``[t0_ns, t1_ns)``.

        Chunks are decompressed, trimmed to the range and concatenated into
        :class:`RawSegment` runs; a missing chunk or another session starts a new segment (use
        :meth:`RawStrip.to_array` for a NaN-filled uniform grid). Raises
        :class:`InvalidParameterError` when the range holds more than ``max_samples``.
        """
        t0, t1 = _range(t0_ns, t1_ns)
        lookback = round(MAX_CHUNK_SECONDS * 1e9)
        q = (
            select(
                C.c.session_id,
                C.c.first_sample,
                C.c.start_ns,
                C.c.fs,
                C.c.n_samples,
                C.c.codec,
                C.c.payload,
            )
            .where(
                C.c.patient_id == patient_id,
                C.c.start_ns >= t0 - lookback,
                C.c.start_ns < t1,
                C.c.end_ns > t0,
            )
            .order_by(C.c.session_id, C.c.first_sample)
        )
        with self._read() as conn:
            rows = conn.execute(q).all()
        total = sum(r.n_samples for r in rows)
        if total > max_samples:
            raise InvalidParameterError(
                f"The range [{t0}, {t1}) holds {total} samples, more than max_samples="
                f"{max_samples}; ask for a shorter range."
            )
        segments: list[RawSegment] = []
        parts: list[np.ndarray] = []
        cur: tuple[int, int, int, float] | None = None  # session, first sample, start ns, fs
        cur_next = -1
        for r in rows:
            fs = float(r.fs)
            times = r.start_ns + np.round(np.arange(r.n_samples) * (1e9 / fs)).astype(np.int64)
            k0, k1 = np.searchsorted(times, [t0, t1], side="left")
            if k1 <= k0:
                continue
            if r.codec != CODEC_ZDELTA:
                raise InvalidSignalError(f"Chunk codec {r.codec} is unknown to this version.")
            x = decode_samples(r.payload, r.n_samples)[k0:k1]
            first = int(r.first_sample + k0)
            if cur is None or cur[0] != r.session_id or cur_next != first or cur[3] != fs:
                if cur is not None:
                    segments.append(RawSegment(*cur, samples=np.concatenate(parts)))
                cur, parts = (r.session_id, first, int(times[k0]), fs), []
            parts.append(x)
            cur_next = first + x.size
        if cur is not None:
            segments.append(RawSegment(*cur, samples=np.concatenate(parts)))
        segments.sort(key=lambda s: (s.start_ns, s.session_id))
        return RawStrip(patient_id, t0, t1, tuple(segments))

    # ----------------------------------------------------------------------------- beats

    def add_beats(self, beats: Sequence[NewBeat]) -> int:
        """Store labelled beats (any sessions) in one transaction; returns how many were new.

        A beat whose ``(session_id, sample_index)`` is already stored is skipped (its stored
        label, probabilities and any relabel are kept).
        """
        if not beats:
            return 0
        for b in beats:
            check_param("beats", b, isinstance(b, NewBeat), "a sequence of NewBeat")
        rows = [
            {
                "session_id": b.session_id,
                "sample_index": b.sample_index,
                "patient_id": b.patient_id,
                "time_ns": b.time_ns,
                "label": b.label,
                "p_n": b.p_n,
                "p_s": b.p_s,
                "p_v": b.p_v,
                "p_f": b.p_f,
                "p_q": b.p_q,
                "usable": b.usable,
            }
            for b in beats
        ]
        with self._write() as conn:
            sess = self._sessions_of(conn, {b.session_id for b in beats})
            for b in beats:
                if sess[b.session_id].patient_id != b.patient_id:
                    raise InvalidParameterError(
                        f"The 'patient_id' parameter must be session {b.session_id}'s patient "
                        f"{sess[b.session_id].patient_id}, got {b.patient_id} instead."
                    )
            return insert_ignore(conn, B, rows, ("session_id", "sample_index"))

    def beats(
        self,
        patient_id: int,
        t0_ns: int,
        t1_ns: int,
        *,
        usable_only: bool = False,
        limit: int | None = None,
    ) -> tuple[Beat, ...]:
        """A patient's beats with device times in ``[t0_ns, t1_ns)``, in time order (the first
        ``limit`` when given)."""
        t0, t1 = _range(t0_ns, t1_ns)
        q = (
            select(B)
            .where(B.c.patient_id == patient_id, B.c.time_ns >= t0, B.c.time_ns < t1)
            .order_by(B.c.time_ns, B.c.session_id, B.c.sample_index)
        )
        if usable_only:
            q = q.where(B.c.usable.is_(True))
        if limit is not None:
            q = q.limit(_int("limit", limit, 1))
        with self._read() as conn:
            return tuple(_beat(r) for r in conn.execute(q))

    def relabel_beat(
        self, session_id: int, sample_index: int, label: str | None, *, user_id: int
    ) -> Beat:
        """Record a clinician's label for a beat (None clears it); audited with old and new."""
        check_param(
            "label", label, label is None or label in BEAT_LABELS, f"None or one of {BEAT_LABELS}"
        )
        now = self._now()
        key = f"{session_id}:{sample_index}"
        where = (B.c.session_id == session_id, B.c.sample_index == sample_index)
        with self._write() as conn:
            self._one(conn, select(U.c.id).where(U.c.id == user_id), "user", user_id)
            old = self._one(conn, select(B).where(*where).with_for_update(), "beat", key)
            values = {
                "relabel": label,
                "relabeled_by": user_id if label is not None else None,
                "relabeled_at_ns": now if label is not None else None,
            }
            conn.execute(update(B).where(*where).values(**values))
            self._audit(
                conn,
                user_id,
                "relabel",
                "beat",
                key,
                {"label": old.label, "relabel": old.relabel},
                {"relabel": label},
            )
            return _beat(conn.execute(select(B).where(*where)).one())

    def hr_trend(
        self,
        patient_id: int,
        t0_ns: int,
        t1_ns: int,
        *,
        bucket_s: float = 60.0,
        usable_only: bool = True,
        rr_min_s: float = 0.2,
        rr_max_s: float = 3.0,
    ) -> HrTrend:
        """Heart-rate trend: 60 / mean RR per bucket (per minute by default).

        RR intervals are taken between consecutive stored beats of the same session (never
        across sessions), assigned to the bucket of their ending beat, and kept when both beats
        are ``usable`` (if ``usable_only``) and ``rr_min_s ≤ RR ≤ rr_max_s`` — the upper bound
        drops intervals that span a recording gap. 60 / mean(RR) equals beats per minute over
        the covered time (the averaged heart rate of ANSI/AAMI EC13 §4.1.2.1 is also an RR
        average).
        """
        t0, t1 = _range(t0_ns, t1_ns)
        ok_b = isinstance(bucket_s, int | float) and math.isfinite(bucket_s) and bucket_s >= 1
        check_param("bucket_s", bucket_s, ok_b, "a number of seconds ≥ 1")
        check_param("rr_min_s", rr_min_s, 0 <= rr_min_s < rr_max_s, f"in [0, rr_max_s={rr_max_s})")
        bucket_ns = round(bucket_s * 1e9)
        n_buckets = -(-(t1 - t0) // bucket_ns)
        check_param("t1_ns", t1, n_buckets <= 1_000_000, "at most 1e6 buckets after t0_ns")
        q = (
            select(B.c.session_id, B.c.time_ns, B.c.usable)
            .where(
                B.c.patient_id == patient_id,
                B.c.time_ns >= t0 - round(rr_max_s * 1e9),
                B.c.time_ns < t1,
            )
            .order_by(B.c.session_id, B.c.time_ns)
        )
        with self._read() as conn:
            rows = conn.execute(q).all()
        counts = np.zeros(n_buckets, dtype=np.int64)
        sums = np.zeros(n_buckets)
        if len(rows) > 1:
            sid = np.fromiter((r[0] for r in rows), np.int64, len(rows))
            t = np.fromiter((r[1] for r in rows), np.int64, len(rows))
            usable = np.fromiter((bool(r[2]) for r in rows), bool, len(rows))
            rr = np.diff(t) / 1e9
            keep = (sid[1:] == sid[:-1]) & (rr >= rr_min_s) & (rr <= rr_max_s) & (t[1:] >= t0)
            if usable_only:
                keep &= usable[1:] & usable[:-1]
            k = (t[1:][keep] - t0) // bucket_ns
            counts = np.bincount(k, minlength=n_buckets)
            sums = np.bincount(k, weights=rr[keep], minlength=n_buckets)
        hr = np.full(n_buckets, np.nan)
        np.divide(60.0 * counts, sums, out=hr, where=counts > 0)
        starts = t0 + np.arange(n_buckets, dtype=np.int64) * bucket_ns
        return HrTrend(patient_id, bucket_ns, starts, hr, counts.astype(np.int64))

    # ----------------------------------------------------------------------------- events

    def add_events(self, events: Sequence[NewEvent]) -> tuple[int, ...]:
        """Store (or update) events; returns their ids in input order.

        An event with the same ``(patient_id, kind, start_ns)`` as a stored one updates it
        (``end_ns``, ``evidence``, ``details``, ``session_id``): the detector may store an open
        event and store it again when it ends, and a replay after a restart is harmless.
        """
        if not events:
            return ()
        for e in events:
            check_param("events", e, isinstance(e, NewEvent), "a sequence of NewEvent")
        now = self._now()
        ids: list[int] = []
        with self._write() as conn:
            known = conn.execute(
                select(P.c.id).where(P.c.id.in_(sorted({e.patient_id for e in events})))
            )
            missing = {e.patient_id for e in events} - {r[0] for r in known}
            if missing:
                raise NotFoundError(f"No patient {min(missing)!r}.")
            base = dialect_insert(conn, E)
            stmt = base.on_conflict_do_update(
                index_elements=["patient_id", "kind", "start_ns"],
                set_={
                    "end_ns": base.excluded.end_ns,
                    "evidence": base.excluded.evidence,
                    "details": base.excluded.details,
                    "session_id": base.excluded.session_id,
                    "updated_at_ns": base.excluded.updated_at_ns,
                },
            ).returning(E.c.id)
            for e in events:
                ids.append(
                    conn.execute(
                        stmt,
                        {
                            "patient_id": e.patient_id,
                            "session_id": e.session_id,
                            "kind": e.kind,
                            "start_ns": e.start_ns,
                            "end_ns": e.end_ns,
                            "evidence": list(e.evidence),
                            "details": _plain(e.details),
                            "created_at_ns": now,
                            "updated_at_ns": now,
                        },
                    ).scalar_one()
                )
        return tuple(ids)

    def get_event(self, event_id: int) -> Event:
        """The event ``event_id`` (:class:`NotFoundError` when absent)."""
        with self._read() as conn:
            return _event(self._one(conn, select(E).where(E.c.id == event_id), "event", event_id))

    def events(
        self, patient_id: int, t0_ns: int, t1_ns: int, *, kinds: Collection[str] | None = None
    ) -> tuple[Event, ...]:
        """A patient's events overlapping ``[t0_ns, t1_ns)`` (an open event overlaps
        everything after its start), by start time."""
        t0, t1 = _range(t0_ns, t1_ns)
        q = (
            select(E)
            .where(
                E.c.patient_id == patient_id,
                E.c.start_ns < t1,
                or_(E.c.end_ns.is_(None), E.c.end_ns >= t0),
            )
            .order_by(E.c.start_ns, E.c.id)
        )
        if kinds is not None:
            q = q.where(E.c.kind.in_(list(kinds)))
        with self._read() as conn:
            return tuple(_event(r) for r in conn.execute(q))

    def event_beats(self, event_id: int) -> tuple[Beat, ...]:
        """The stored beats of an event's session from its first to its last evidence beat.

        Evidence beats are consecutive, so a detector may store only the first and last sample
        index as ``evidence``; this returns every beat in between.
        """
        with self._read() as conn:
            ev = self._one(conn, select(E).where(E.c.id == event_id), "event", event_id)
            if ev.session_id is None or not ev.evidence:
                return ()
            q = (
                select(B)
                .where(
                    B.c.session_id == ev.session_id,
                    B.c.sample_index >= min(ev.evidence),
                    B.c.sample_index <= max(ev.evidence),
                )
                .order_by(B.c.sample_index)
            )
            return tuple(_beat(r) for r in conn.execute(q))

    # ----------------------------------------------------------------------------- alerts

    def add_alerts(self, alerts: Sequence[NewAlert]) -> tuple[int, ...]:
        """Raise alerts; returns their ids in input order. An alert with the same
        ``(event_id, severity)`` as a stored one is not raised again (its id is returned)."""
        if not alerts:
            return ()
        for a in alerts:
            check_param("alerts", a, isinstance(a, NewAlert), "a sequence of NewAlert")
        ids: list[int] = []
        with self._write() as conn:
            ev_ids = sorted({a.event_id for a in alerts})
            q = select(E.c.id, E.c.patient_id).where(E.c.id.in_(ev_ids))
            owner = {r.id: r.patient_id for r in conn.execute(q)}
            missing = set(ev_ids) - owner.keys()
            if missing:
                raise NotFoundError(f"No event {min(missing)!r}.")
            rows = [
                {
                    "event_id": a.event_id,
                    "patient_id": owner[a.event_id],
                    "severity": a.severity,
                    "message": a.message,
                    "raised_at_ns": a.raised_at_ns,
                }
                for a in alerts
            ]
            insert_ignore(conn, AL, rows, ("event_id", "severity"))
            for a in alerts:
                ids.append(
                    conn.execute(
                        select(AL.c.id).where(
                            AL.c.event_id == a.event_id, AL.c.severity == a.severity
                        )
                    ).scalar_one()
                )
        return tuple(ids)

    def get_alert(self, alert_id: int) -> Alert:
        """The alert ``alert_id`` (:class:`NotFoundError` when absent)."""
        with self._read() as conn:
            q = select(AL).where(AL.c.id == alert_id)
            return _alert(self._one(conn, q, "alert", alert_id))

    def alerts(
        self,
        patient_id: int | Collection[int] | None = None,
        t0_ns: int | None = None,
        t1_ns: int | None = None,
        *,
        unacknowledged_only: bool = False,
        limit: int | None = None,
    ) -> tuple[Alert, ...]:
        """Alerts raised in ``[t0_ns, t1_ns)`` for one patient, several (a clinician's) or all
        (None), newest first."""
        q = select(AL).order_by(AL.c.raised_at_ns.desc(), AL.c.id.desc())
        if patient_id is not None:
            q = q.where(AL.c.patient_id.in_(_ids("patient_id", patient_id)))
        if t0_ns is not None:
            q = q.where(AL.c.raised_at_ns >= _int("t0_ns", t0_ns))
        if t1_ns is not None:
            q = q.where(AL.c.raised_at_ns < _int("t1_ns", t1_ns))
        if unacknowledged_only:
            q = q.where(AL.c.acknowledged_at_ns.is_(None))
        if limit is not None:
            q = q.limit(_int("limit", limit, 1))
        with self._read() as conn:
            return tuple(_alert(r) for r in conn.execute(q))

    def acknowledge_alert(self, alert_id: int, *, user_id: int) -> Alert:
        """Acknowledge an alert as ``user_id`` (audited). Acknowledging an acknowledged alert
        changes nothing and returns it as it is (first acknowledgement wins)."""
        now = self._now()
        with self._write() as conn:
            self._one(conn, select(U.c.id).where(U.c.id == user_id), "user", user_id)
            self._one(conn, select(AL.c.id).where(AL.c.id == alert_id), "alert", alert_id)
            n = conn.execute(
                update(AL)
                .where(AL.c.id == alert_id, AL.c.acknowledged_at_ns.is_(None))
                .values(acknowledged_by=user_id, acknowledged_at_ns=now)
            ).rowcount
            if n:
                self._audit(
                    conn,
                    user_id,
                    "acknowledge",
                    "alert",
                    alert_id,
                    {"acknowledged_at_ns": None},
                    {"acknowledged_by": user_id, "acknowledged_at_ns": now},
                )
            return _alert(conn.execute(select(AL).where(AL.c.id == alert_id)).one())

"""Typed, frozen records going into and coming out of :class:`~cardiostream.store.Store`.

Every read returns these (never ORM objects). Times are integers in nanoseconds: ``*_ns`` fields
named after the device clock (``start_ns``, ``time_ns``) are device timestamps, the others
(``created_at_ns``, ``at_ns``, ``acknowledged_at_ns`` ...) the server's wall clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from ..errors import InvalidParameterError, check_param
from ..types import BEAT_LABELS, INCONCLUSIVE, _frozen
from .codec import _as_int32

__all__ = [
    "ALERT_SEVERITIES",
    "BEAT_LABELS",
    "INCONCLUSIVE",
    "MAX_CHUNK_SAMPLES",
    "MAX_CHUNK_SECONDS",
    "USER_ROLES",
    "Alert",
    "AuditEntry",
    "Beat",
    "Device",
    "Event",
    "HrTrend",
    "IssuedToken",
    "NewAlert",
    "NewBeat",
    "NewChunk",
    "NewEvent",
    "Patient",
    "Principal",
    "RawSegment",
    "RawStrip",
    "Session",
    "TokenInfo",
    "User",
]

#: Roles of a (human) user.
USER_ROLES: tuple[str, ...] = ("clinician", "admin")
#: Alert severities, least to most severe.
ALERT_SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")
#: Longest chunk accepted, in samples and in seconds (bounds the raw-strip range query).
MAX_CHUNK_SAMPLES = 1 << 18
MAX_CHUNK_SECONDS = 600.0

_INT64 = (-(2**63), 2**63 - 1)


def _int(name: str, value: object, lo: int = _INT64[0], hi: int = _INT64[1]) -> int:
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool)
    check_param(name, value, ok and lo <= int(value) <= hi, f"an integer in [{lo}, {hi}]")
    return int(value)  # type: ignore[arg-type]


def _opt_int(name: str, value: object, lo: int = _INT64[0]) -> int | None:
    return None if value is None else _int(name, value, lo)


def _text(name: str, value: object, max_len: int, *, empty: bool = False) -> str:
    ok = isinstance(value, str) and (empty or value != "") and len(value) <= max_len
    check_param(name, value, ok, f"a{'' if empty else ' non-empty'} string of ≤ {max_len} chars")
    return value  # type: ignore[return-value]


def _prob(name: str, value: object) -> float | None:
    if value is None:
        return None
    ok = isinstance(value, int | float | np.floating) and not isinstance(value, bool)
    v = float(value) if ok else math.nan  # type: ignore[arg-type]
    if ok and math.isnan(v):
        return None  # NaN probabilities (inconclusive beats) are stored as NULL
    check_param(name, value, ok and 0.0 <= v <= 1.0, "a probability in [0, 1], None or NaN")
    return v


def _json_mapping(name: str, value: object) -> Mapping[str, Any]:
    check_param(name, value, isinstance(value, Mapping), "a mapping (JSON object)")
    return MappingProxyType(dict(value))  # type: ignore[call-overload]


def _plain(value: object) -> Any:
    """A JSON-serialisable deep copy of mappings/sequences (MappingProxyType → dict)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


# --------------------------------------------------------------------------- entities


@dataclass(frozen=True)
class Patient:
    """A monitored patient. ``settings`` holds per-patient options (e.g. event thresholds)."""

    id: int
    external_id: str
    name: str
    settings: Mapping[str, Any]
    created_at_ns: int


@dataclass(frozen=True)
class Device:
    """A recording device (e.g. a Polar H10 strap) worn by one patient."""

    id: int
    patient_id: int
    serial: str
    model: str
    active: bool
    created_at_ns: int


@dataclass(frozen=True)
class User:
    """A human user: ``role`` is ``"clinician"`` or ``"admin"``."""

    id: int
    username: str
    role: str
    display_name: str
    active: bool
    created_at_ns: int


@dataclass(frozen=True)
class IssuedToken:
    """A freshly created token. ``plaintext`` exists only here: the database keeps its hash."""

    token_id: int
    plaintext: str = field(repr=False)
    kind: Literal["device", "user"]
    user_id: int | None
    device_id: int | None
    patient_id: int | None
    expires_at_ns: int | None


@dataclass(frozen=True)
class TokenInfo:
    """What the database knows of a token (never its plaintext, which is not stored)."""

    id: int
    kind: Literal["device", "user"]
    user_id: int | None
    device_id: int | None
    patient_id: int | None
    label: str
    created_at_ns: int
    expires_at_ns: int | None
    revoked_at_ns: int | None


@dataclass(frozen=True)
class Principal:
    """Who a verified token speaks for.

    ``role`` is ``"device"`` for device tokens (which may ingest only for ``patient_id`` with
    ``device_id``) or the user's role (``"clinician"``, ``"admin"``) for user tokens.
    """

    token_id: int
    kind: Literal["device", "user"]
    role: str
    user_id: int | None
    device_id: int | None
    patient_id: int | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class Session:
    """A device streaming session and how far it got (what a restarted service resumes from).

    Attributes
    ----------
    fs : float
        Nominal sampling rate in Hz.
    started_ns, ended_ns : int, int or None
        Device time of the first sample; of the end (None while open).
    last_seq : int or None
        Highest frame sequence number stored with a chunk.
    next_sample : int
        Sample index following the last stored chunk (``max(first_sample + n_samples)``).
    last_device_ns : int or None
        Device time of the last stored sample.
    last_beat_sample : int or None
        Highest stored beat sample index.
    """

    id: int
    patient_id: int
    device_id: int
    fs: float
    started_ns: int
    ended_ns: int | None
    created_at_ns: int
    last_seq: int | None
    next_sample: int
    last_device_ns: int | None
    last_beat_sample: int | None

    @property
    def is_open(self) -> bool:
        return self.ended_ns is None


# --------------------------------------------------------------------------- writes


@dataclass(frozen=True, eq=False)
class NewChunk:
    """Raw samples to append to a session.

    Attributes
    ----------
    session_id : int
    first_sample : int
        Session sample index of ``samples[0]`` (≥ 0); with ``session_id`` the chunk's identity
        (a chunk already stored is skipped, not duplicated).
    start_ns : int
        Device time of ``samples[0]``.
    samples : ndarray of int32, 1-D
        µV values, at most :data:`MAX_CHUNK_SAMPLES` and :data:`MAX_CHUNK_SECONDS` long.
    seq : int, optional
        Sequence number of the (last) device frame in the chunk.
    """

    session_id: int
    first_sample: int
    start_ns: int
    samples: np.ndarray
    seq: int | None = None

    def __post_init__(self) -> None:
        _int("session_id", self.session_id, 1)
        _int("first_sample", self.first_sample, 0)
        _int("start_ns", self.start_ns)
        _opt_int("seq", self.seq, 0)
        x = _as_int32(self.samples)
        check_param(
            "samples",
            f"{x.size} samples",
            x.size <= MAX_CHUNK_SAMPLES,
            f"at most {MAX_CHUNK_SAMPLES} samples",
        )
        object.__setattr__(self, "samples", _frozen(x))


@dataclass(frozen=True)
class NewBeat:
    """A labelled beat to store. ``(session_id, sample_index)`` is its identity.

    ``label`` is one of :data:`BEAT_LABELS`; ``p_*`` are class probabilities (None or NaN when
    the model gave none, e.g. inconclusive beats; ``p_f``/``p_q`` for 5-class models);
    ``usable`` is the signal-quality verdict for the beat's window.
    """

    session_id: int
    patient_id: int
    sample_index: int
    time_ns: int
    label: str
    p_n: float | None = None
    p_s: float | None = None
    p_v: float | None = None
    p_f: float | None = None
    p_q: float | None = None
    usable: bool = True

    def __post_init__(self) -> None:
        _int("session_id", self.session_id, 1)
        _int("patient_id", self.patient_id, 1)
        _int("sample_index", self.sample_index, 0)
        _int("time_ns", self.time_ns)
        check_param("label", self.label, self.label in BEAT_LABELS, f"one of {BEAT_LABELS}")
        for name in ("p_n", "p_s", "p_v", "p_f", "p_q"):
            object.__setattr__(self, name, _prob(name, getattr(self, name)))
        check_param("usable", self.usable, isinstance(self.usable, bool | np.bool_), "a bool")
        object.__setattr__(self, "usable", bool(self.usable))


@dataclass(frozen=True)
class NewEvent:
    """A rhythm event. ``(patient_id, kind, start_ns)`` is its identity: storing it again
    updates ``end_ns``, ``evidence`` and ``details`` (an open event growing, or a replay).

    ``evidence`` lists session sample indices of the beats supporting it — all of them, or
    (since they are consecutive) just the first and last: :meth:`Store.event_beats` returns
    every stored beat in between. ``details`` is a JSON object (rate, threshold, cycles ...).
    """

    patient_id: int
    kind: str
    start_ns: int
    end_ns: int | None = None
    session_id: int | None = None
    evidence: tuple[int, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _int("patient_id", self.patient_id, 1)
        _text("kind", self.kind, 32)
        _int("start_ns", self.start_ns)
        if self.end_ns is not None:
            _int("end_ns", self.end_ns, self.start_ns)
        _opt_int("session_id", self.session_id, 1)
        ev = tuple(_int("evidence", i, 0) for i in self.evidence)
        object.__setattr__(self, "evidence", ev)
        object.__setattr__(self, "details", _json_mapping("details", self.details))


@dataclass(frozen=True)
class NewAlert:
    """An alert raised for an event; ``(event_id, severity)`` is its identity."""

    event_id: int
    severity: str
    raised_at_ns: int
    message: str = ""

    def __post_init__(self) -> None:
        _int("event_id", self.event_id, 1)
        check_param(
            "severity",
            self.severity,
            self.severity in ALERT_SEVERITIES,
            f"one of {ALERT_SEVERITIES}",
        )
        _int("raised_at_ns", self.raised_at_ns)
        _text("message", self.message, 512, empty=True)


# --------------------------------------------------------------------------- reads


@dataclass(frozen=True)
class Beat:
    """A stored beat. ``relabel`` (by ``relabeled_by`` at ``relabeled_at_ns``) is a clinician's
    correction of the model's ``label``; :attr:`final_label` is the one to show."""

    session_id: int
    patient_id: int
    sample_index: int
    time_ns: int
    label: str
    p_n: float | None
    p_s: float | None
    p_v: float | None
    p_f: float | None
    p_q: float | None
    usable: bool
    relabel: str | None
    relabeled_by: int | None
    relabeled_at_ns: int | None

    @property
    def final_label(self) -> str:
        return self.relabel if self.relabel is not None else self.label


@dataclass(frozen=True)
class Event:
    """A stored rhythm event (see :class:`NewEvent`)."""

    id: int
    patient_id: int
    session_id: int | None
    kind: str
    start_ns: int
    end_ns: int | None
    evidence: tuple[int, ...]
    details: Mapping[str, Any]
    created_at_ns: int
    updated_at_ns: int


@dataclass(frozen=True)
class Alert:
    """A stored alert; unacknowledged while ``acknowledged_at_ns`` is None."""

    id: int
    event_id: int
    patient_id: int
    severity: str
    message: str
    raised_at_ns: int
    acknowledged_by: int | None
    acknowledged_at_ns: int | None

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at_ns is not None


@dataclass(frozen=True)
class AuditEntry:
    """Who (``actor``: ``"user:<id>"``, ``"system"`` ...) did ``action`` to ``entity``
    ``entity_key`` at ``at_ns``, with the values before (``old``) and after (``new``)."""

    id: int
    at_ns: int
    actor_user_id: int | None
    actor: str
    action: str
    entity: str
    entity_key: str
    old: Any
    new: Any


@dataclass(frozen=True, eq=False)
class RawSegment:
    """Contiguous raw samples of one session (no missing sample inside).

    Sample ``k`` was taken at ``start_ns + k * 1e9 / fs`` (device clock, nominal rate).
    """

    session_id: int
    first_sample: int
    start_ns: int
    fs: float
    samples: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "samples", _frozen(np.asarray(self.samples, dtype=np.int32)))

    def __len__(self) -> int:
        return int(self.samples.size)

    @property
    def end_ns(self) -> int:
        """Device time just after the last sample."""
        return self.start_ns + round(self.samples.size * 1e9 / self.fs)

    def times_ns(self) -> np.ndarray:
        """Device time of every sample (int64 ns)."""
        return self.start_ns + np.round(np.arange(self.samples.size) * (1e9 / self.fs)).astype(
            np.int64
        )


@dataclass(frozen=True, eq=False)
class RawStrip:
    """Raw signal of a patient in ``[t0_ns, t1_ns)``: one :class:`RawSegment` per run of
    contiguous chunks, ordered by start time. A gap (a missing chunk, or a new session) starts a
    new segment; :meth:`to_array` renders gaps as NaN instead."""

    patient_id: int
    t0_ns: int
    t1_ns: int
    segments: tuple[RawSegment, ...]

    def __len__(self) -> int:
        return sum(len(s) for s in self.segments)

    def to_array(self, fs: float | None = None) -> tuple[np.ndarray, float]:
        """The strip on one uniform grid starting at ``t0_ns``, gaps as NaN.

        Parameters
        ----------
        fs : float, optional
            Grid rate; default the segments' rate (an error when they differ).

        Returns
        -------
        values : ndarray of float64
            µV; sample ``k`` at ``t0_ns + k * 1e9 / fs``. Segments are placed at their nearest
            grid index (no resampling); where two overlap, the later one wins.
        fs : float
        """
        rates = {s.fs for s in self.segments}
        if fs is None:
            if len(rates) > 1:
                raise InvalidParameterError(
                    f"The strip mixes sampling rates {sorted(rates)}; pass fs= to choose one."
                )
            fs = rates.pop() if rates else 1.0
        check_param("fs", fs, isinstance(fs, int | float) and fs > 0, "a positive rate in Hz")
        if any(r != fs for r in rates):
            raise InvalidParameterError(
                f"The 'fs' parameter must equal the segments' rate {sorted(rates)}, got {fs!r}."
            )
        n = max(0, math.ceil((self.t1_ns - self.t0_ns) * fs / 1e9 - 1e-9))
        out = np.full(n, np.nan)
        for s in self.segments:
            i0 = round((s.start_ns - self.t0_ns) * fs / 1e9)
            lo, hi = max(i0, 0), min(i0 + s.samples.size, n)
            if hi > lo:
                out[lo:hi] = s.samples[lo - i0 : hi - i0]
        return out, float(fs)


@dataclass(frozen=True, eq=False)
class HrTrend:
    """Heart rate per time bucket.

    ``hr_bpm[k]`` = 60 / mean(RR) over the RR intervals ending in bucket ``k``
    (``[bucket_start_ns[k], bucket_start_ns[k] + bucket_ns)``), NaN where there is none;
    ``n_intervals[k]`` is how many there were.
    """

    patient_id: int
    bucket_ns: int
    bucket_start_ns: np.ndarray
    hr_bpm: np.ndarray
    n_intervals: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "bucket_start_ns", _frozen(self.bucket_start_ns))
        object.__setattr__(self, "hr_bpm", _frozen(self.hr_bpm))
        object.__setattr__(self, "n_intervals", _frozen(self.n_intervals))

    def __len__(self) -> int:
        return int(self.bucket_start_ns.size)

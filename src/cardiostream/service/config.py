"""Settings of the monitoring service (:class:`ServiceSettings`): database, model, limits."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import check_param
from ..store import DEFAULT_URL
from .protocol import DEFAULT_LIMITS, FrameLimits

__all__ = ["BACKENDS", "ServiceSettings"]

#: Accepted values of ``ServiceSettings.inference`` (:mod:`cardiostream.service.inference`).
BACKENDS = ("auto", "onnx", "torch")


def _positive(name: str, value: object, *, integer: bool = False, zero: bool = False) -> None:
    kind = int if integer else (int, float)
    ok = isinstance(value, kind) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value >= 0 if zero else value > 0)  # type: ignore[operator]
    what = "a non-negative" if zero else "a positive"
    check_param(name, value, ok, f"{what} {'integer' if integer else 'number'}")


@dataclass(frozen=True)
class ServiceSettings:
    """Everything ``cardiostream serve`` can configure.

    Attributes
    ----------
    db_url : str
        SQLAlchemy URL: a SQLite file by default, ``postgresql+psycopg://...`` for PostgreSQL.
    model : str
        ``"default"`` (the shipped model) or a run directory written by ``cardiostream train``.
    host, port : str, int
        Where uvicorn listens.
    limits : FrameLimits
        Per-frame limits of the wire protocol (docs/protocol.md).
    rate_per_s, rate_burst : float, int
        Per-connection token bucket on ingest messages: refilled at ``rate_per_s`` messages/s,
        holding ``rate_burst`` (room for a device's resend buffer after a reconnect).
    reorder_window, max_hold_s : int, float
        :class:`~cardiostream.service.protocol.SequenceTracker` settings.
    gap_tolerance_s : float
        A frame is contiguous with the previous one when its time stamp is within
        ``max(3 sample periods, gap_tolerance_s)`` of the previous frame's end.
    max_batch, max_wait_ms : int, float
        Micro-batching of beat classification across patients.
    chunk_s : float
        Raw frames are merged into chunks of about this duration before storage (a chunk is
        also written once its first frame is this old in wall time, so acks lag ≤ ~chunk_s).
    flush_interval_s : float
        How often the writer stores pending chunks, beats, events and alerts.
    idle_timeout_s : float
        A stream silent this long is finalised and dropped from memory (its session stays
        open in the store and resumes when the device returns).
    replay_s : float
        On resuming a stored session, this much stored signal is replayed through a fresh
        pipeline so that beats not yet stored before a restart are still found.
    subscriber_queue, subscriber_max_drops : int
        Per-subscriber message queue; a subscriber dropping more than ``subscriber_max_drops``
        messages in a row is disconnected.
    max_pending_chunks : int
        Chunks waiting for the database beyond which ingest answers ``overloaded``.
    max_upload_bytes : int
        Largest accepted recording upload.
    torch_threads : int or None
        ``torch.set_num_threads`` for inference (None: leave torch's default); also ONNX
        Runtime's intra-op threads (1 when None).
    inference : {"auto", "onnx", "torch"}
        How the beat model runs (:mod:`cardiostream.service.inference`): ``auto`` uses ONNX
        Runtime when the export and its parity check succeed, torch otherwise.
    """

    db_url: str = DEFAULT_URL
    model: str = "default"
    host: str = "127.0.0.1"
    port: int = 8000
    limits: FrameLimits = field(default_factory=lambda: DEFAULT_LIMITS)
    rate_per_s: float = 50.0
    rate_burst: int = 4096
    reorder_window: int = 16
    max_hold_s: float = 1.0
    gap_tolerance_s: float = 0.02
    max_batch: int = 256
    max_wait_ms: float = 5.0
    chunk_s: float = 1.0
    flush_interval_s: float = 0.1
    idle_timeout_s: float = 120.0
    replay_s: float = 30.0
    subscriber_queue: int = 1024
    subscriber_max_drops: int = 4096
    max_pending_chunks: int = 100_000
    max_upload_bytes: int = 64 * 1024 * 1024
    torch_threads: int | None = None
    inference: str = "auto"

    def __post_init__(self) -> None:
        check_param("db_url", self.db_url, isinstance(self.db_url, str) and self.db_url != "",
                    "a database URL")
        check_param("model", self.model, isinstance(self.model, str) and self.model != "",
                    "'default' or a run directory")
        check_param("limits", self.limits, isinstance(self.limits, FrameLimits), "FrameLimits")
        check_param("port", self.port, isinstance(self.port, int) and 0 <= self.port < 65536,
                    "a TCP port")
        for name in ("rate_per_s", "max_hold_s", "gap_tolerance_s", "chunk_s",
                     "flush_interval_s", "idle_timeout_s"):
            _positive(name, getattr(self, name))
        for name in ("max_wait_ms", "replay_s"):
            _positive(name, getattr(self, name), zero=True)
        for name in ("rate_burst", "max_batch", "subscriber_queue", "subscriber_max_drops",
                     "max_pending_chunks", "max_upload_bytes"):
            _positive(name, getattr(self, name), integer=True)
        _positive("reorder_window", self.reorder_window, integer=True, zero=True)
        if self.torch_threads is not None:
            _positive("torch_threads", self.torch_threads, integer=True)
        check_param("inference", self.inference, self.inference in BACKENDS,
                    f"one of {BACKENDS}")

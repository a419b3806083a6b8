"""A simulated device: framing a recording, network impairments and the resend buffer.

:func:`device_frames` cuts a :class:`~cardiostream.simulate.sources.SourceSignal` into frames of
(by default) 73 samples, the payload of one Polar H10 PMD ECG notification at 130 Hz, each with
its sequence number and the device-clock time of its first sample. :func:`impair` turns that
stream into the *events* a device produces in stream time: frames to send (some lost in flight
just before a disconnect), frames dropped before they reach the sender (never sent: the server
must record a gap), and disconnects. :class:`ResendBuffer` keeps every frame until it is
acknowledged; after a reconnect the device re-sends all of it, as a buffering gateway does.

Everything is deterministic given the seeds; the network side lives in
:mod:`cardiostream.simulate.client`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import numpy as np

from ..errors import check_param
from ..service.protocol import MAX_SEQ, MAX_T0_NS, Frame, FrameFlags, fs_to_mhz
from .sources import SourceSignal

__all__ = [
    "POLAR_H10_SAMPLES_PER_FRAME",
    "Disconnect",
    "Dropped",
    "Impairments",
    "ResendBuffer",
    "Send",
    "TimedFrame",
    "device_frames",
    "impair",
]

#: Samples in one Polar H10 PMD ECG notification at 130 Hz (3-byte samples in a 232-byte MTU).
POLAR_H10_SAMPLES_PER_FRAME = 73


@dataclass(frozen=True)
class TimedFrame:
    """A frame and the stream time (s from the first sample) at which the device has it."""

    frame: Frame
    due_s: float


@dataclass(frozen=True)
class Send:
    """Send ``frame`` at stream time ``due_s``; ``lost``: the network loses it (the device does
    not know and keeps it for resending)."""

    frame: Frame
    due_s: float
    lost: bool = False


@dataclass(frozen=True)
class Dropped:
    """Frame ``seq`` was produced at ``due_s`` but never reaches the sender (e.g. a Bluetooth
    packet lost between strap and gateway): it is never sent, so the server records a gap."""

    seq: int
    due_s: float


@dataclass(frozen=True)
class Disconnect:
    """The connection drops at ``due_s`` and the network is unreachable for ``offline_s``
    (stream time); frames produced meanwhile wait in the resend buffer."""

    due_s: float
    offline_s: float


Event = Send | Dropped | Disconnect


def device_frames(
    source: SourceSignal,
    patient_id: str,
    device_id: str,
    *,
    samples_per_frame: int = POLAR_H10_SAMPLES_PER_FRAME,
    stream_id: int = 0,
    t_start_ns: int = 0,
    first_seq: int = 0,
) -> Iterator[TimedFrame]:
    """Cut ``source`` into consecutive frames, lazily.

    Parameters
    ----------
    source : SourceSignal
    patient_id, device_id : str
        Ids written into every frame.
    samples_per_frame : int
        Samples per frame (the last frame may be shorter).
    stream_id, first_seq : int
        Stream id and the sequence number of the first frame (+1 per frame).
    t_start_ns : int
        Device-clock time of the first sample. Sources with their own time stamps (Polar)
        keep their intervals, shifted so that the first one is ``t_start_ns``; others get
        ``t_start_ns + i / fs``.

    Yields
    ------
    TimedFrame
        ``due_s`` is when the frame's last sample has been recorded, in seconds after the
        first sample.
    """
    check_param(
        "samples_per_frame",
        samples_per_frame,
        isinstance(samples_per_frame, int) and 1 <= samples_per_frame <= 65535,
        "an int between 1 and 65535",
    )
    n = source.n_samples
    n_frames = -(-n // samples_per_frame)
    check_param(
        "first_seq",
        first_seq,
        isinstance(first_seq, int) and first_seq >= 0 and first_seq + n_frames - 1 <= MAX_SEQ,
        "a non-negative int leaving room for every frame below 2**32",
    )
    fs_mhz = fs_to_mhz(source.fs)
    period_ns = 1e9 / source.fs
    ts = source.timestamps_ns
    rel = ts.astype(np.int64) - ts[0] if ts is not None else None
    check_param(
        "t_start_ns",
        t_start_ns,
        isinstance(t_start_ns, int)
        and t_start_ns >= 0
        and t_start_ns + (int(rel[-1]) if rel is not None else n * period_ns) <= MAX_T0_NS,
        "a non-negative int (device clock, ns) leaving room for the recording before 2**62",
    )
    for k in range(n_frames):
        i0 = k * samples_per_frame
        i1 = min(n, i0 + samples_per_frame)
        if rel is not None:
            t0 = t_start_ns + int(rel[i0])
            due = (int(rel[i1 - 1]) + period_ns) / 1e9
        else:
            t0 = t_start_ns + round(i0 * period_ns)
            due = i1 / source.fs
        frame = Frame(
            patient_id=patient_id,
            device_id=device_id,
            seq=first_seq + k,
            t0_ns=t0,
            fs_mhz=fs_mhz,
            samples_uv=source.samples_uv[i0:i1],
            stream_id=stream_id,
        )
        yield TimedFrame(frame, due)


@dataclass(frozen=True)
class Impairments:
    """What goes wrong between a device and the server (all off by default).

    Attributes
    ----------
    jitter_ms : float
        Standard deviation of Gaussian noise added to each frame's ``t0_ns`` (clipped at
        3 sigma): device time-stamping jitter, as in real BLE gateways.
    drop_rate : float
        Probability that a frame never reaches the sender (never sent, never buffered).
    reorder_rate : float
        Probability that a frame is sent after its successor.
    disconnect_every_s : float or None
        Mean stream time between disconnects (exponentially distributed), ``None``: never.
    offline_s : float
        How long each disconnect lasts, in stream time.
    lost_in_flight : int
        Frames sent just before each disconnect that the network loses; the device re-sends
        them from its buffer after reconnecting.
    seed : int
        Seed of the impairment random generator.
    """

    jitter_ms: float = 0.0
    drop_rate: float = 0.0
    reorder_rate: float = 0.0
    disconnect_every_s: float | None = None
    offline_s: float = 2.0
    lost_in_flight: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        check_param(
            "jitter_ms",
            self.jitter_ms,
            math.isfinite(self.jitter_ms) and 0 <= self.jitter_ms <= 1000,
            "between 0 and 1000 ms",
        )
        for name in ("drop_rate", "reorder_rate"):
            v = getattr(self, name)
            check_param(name, v, math.isfinite(v) and 0 <= v < 1, "a probability in [0, 1)")
        check_param(
            "disconnect_every_s",
            self.disconnect_every_s,
            self.disconnect_every_s is None
            or (math.isfinite(self.disconnect_every_s) and self.disconnect_every_s > 0),
            "None or a positive number of seconds",
        )
        check_param(
            "offline_s",
            self.offline_s,
            math.isfinite(self.offline_s) and self.offline_s >= 0,
            "a non-negative number of seconds",
        )
        check_param(
            "lost_in_flight",
            self.lost_in_flight,
            isinstance(self.lost_in_flight, int) and 0 <= self.lost_in_flight <= 1000,
            "an int between 0 and 1000",
        )

    @property
    def active(self) -> bool:
        """Whether any impairment is on."""
        return bool(
            self.jitter_ms
            or self.drop_rate
            or self.reorder_rate
            or self.disconnect_every_s is not None
        )


def impair(frames: Iterable[TimedFrame], imp: Impairments | None = None) -> Iterator[Event]:
    """Turn frames into device events in stream-time order, applying ``imp``.

    Disconnects happen between frames at exponentially distributed stream times; the last
    ``imp.lost_in_flight`` frames sent before each are marked ``lost``. A reordered pair is
    sent together when the later frame is due.
    """
    imp = imp or Impairments()
    rng = np.random.default_rng(imp.seed)
    mean_gap = imp.disconnect_every_s

    def next_disconnect(after: float) -> float:
        return math.inf if mean_gap is None else after + float(rng.exponential(mean_gap))

    t_disc = next_disconnect(0.0)
    pending: list[Event] = []  # events held back: lost-in-flight look-behind
    held_back: Send | None = None  # a frame waiting to go after its successor
    keep = imp.lost_in_flight

    def n_sends() -> int:
        return sum(isinstance(e, Send) for e in pending)

    def emit(limit: int) -> Iterator[Event]:
        while pending and (isinstance(pending[0], Dropped) or n_sends() > limit):
            yield pending.pop(0)

    for tf in frames:
        frame, due = tf.frame, tf.due_s
        while due >= t_disc:  # a disconnect before this frame
            if held_back is not None:
                pending.append(held_back)
                held_back = None
            sends = [i for i, e in enumerate(pending) if isinstance(e, Send)]
            for i in sends[len(sends) - keep :] if keep else ():
                pending[i] = replace(pending[i], lost=True)  # type: ignore[type-var]
            yield from emit(0)
            yield Disconnect(t_disc, imp.offline_s)
            t_disc = next_disconnect(t_disc + imp.offline_s)
        if imp.drop_rate and rng.uniform() < imp.drop_rate:
            pending.append(Dropped(frame.seq, due))
            yield from emit(keep)
            continue
        if imp.jitter_ms:
            jitter = float(np.clip(rng.standard_normal(), -3, 3)) * imp.jitter_ms * 1e6
            frame = replace(frame, t0_ns=max(0, frame.t0_ns + round(jitter)))
        send = Send(frame, due)
        if held_back is not None:
            pending.extend((send, replace(held_back, due_s=due)))
            held_back = None
        elif imp.reorder_rate and rng.uniform() < imp.reorder_rate:
            held_back = send
        else:
            pending.append(send)
        yield from emit(keep)
    if held_back is not None:
        pending.append(held_back)
    yield from emit(0)


@dataclass
class _Entry:
    frame: Frame
    attempts: int = 0


class ResendBuffer:
    """Frames kept until acknowledged, re-sent in sequence order after a reconnect.

    Parameters
    ----------
    capacity : int
        Most frames kept (4096 ≈ 38 min at 130 Hz, 73 samples per frame); when full, the
        oldest frame is evicted and will become a gap at the server.
    """

    def __init__(self, capacity: int = 4096) -> None:
        check_param(
            "capacity",
            capacity,
            isinstance(capacity, int) and capacity >= 1,
            "a positive int",
        )
        self.capacity = capacity
        self._entries: dict[int, _Entry] = {}
        self.acked = -1
        self.n_evicted = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, seq: object) -> bool:
        return seq in self._entries

    def add(self, frame: Frame) -> Frame | None:
        """Keep ``frame``; return the frame evicted to make room, if any."""
        if frame.seq <= self.acked:
            return None
        evicted = None
        if frame.seq not in self._entries and len(self._entries) >= self.capacity:
            oldest = min(self._entries)
            evicted = self._entries.pop(oldest).frame
            self.n_evicted += 1
        self._entries[frame.seq] = _Entry(frame)
        return evicted

    def ack(self, seq: int) -> int:
        """Forget every frame with ``seq`` at or below the cumulative ack; return how many."""
        if seq <= self.acked:
            return 0
        self.acked = seq
        gone = [s for s in self._entries if s <= seq]
        for s in gone:
            del self._entries[s]
        return len(gone)

    def mark_sent(self, seq: int) -> int:
        """Count a transmission attempt of ``seq``; return how many attempts came before."""
        e = self._entries.get(seq)
        if e is None:
            return 0
        e.attempts += 1
        return e.attempts - 1

    def frame_to_send(self, seq: int) -> Frame | None:
        """The frame as it should go on the wire now: flagged RETRANSMIT if sent before."""
        e = self._entries.get(seq)
        if e is None:
            return None
        if e.attempts:
            return replace(e.frame, flags=e.frame.flags | FrameFlags.RETRANSMIT)
        return e.frame

    def unacked(self) -> list[int]:
        """Sequence numbers still held, increasing."""
        return sorted(self._entries)

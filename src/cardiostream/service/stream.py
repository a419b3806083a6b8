"""One device stream inside the service: sequence tracking, segments, chunks, ordered beats.

A :class:`StreamState` belongs to one ``(patient, device, stream_id)`` and one stored session.
It is plain synchronous code (the engine calls it on the event loop):

* frames released by the :class:`~cardiostream.service.protocol.SequenceTracker` are cut into
  *segments* of contiguous samples. A segment ends at a sequence gap (missing or rejected frames)
  or a time-stamp jump larger than ``max(3 sample periods, tolerance)`` (docs/protocol.md): its
  :class:`~cardiostream.live.LiveBeatPipeline` is flushed and a new one starts, so no beat is
  ever built across a gap and the filters restart cleanly;
* within a segment the device clock is the time of its first sample and positions come from
  counting samples (``time = t0 + k / fs``); session sample indices skip the estimated number of
  missing samples at a gap (at least one), so stored chunks on two sides of a gap never touch;
  a pipeline that restarts on continuous signal (a stream resumed without a stored tail to
  replay) keeps the samples where they are and restarts the event detector;
* frames are merged into raw chunks of about ``chunk_s`` for storage; a frame is acknowledged
  once its chunk is stored (or its slot settled as a gap);
* ready beats wait in an ordered queue with the gap markers, so that the rhythm-event detector
  sees beats and gaps in stream order whatever order the classifier batches finish in.
"""

from __future__ import annotations

import contextlib
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from ..classify import INCONCLUSIVE
from ..events import Event, EventConfig, StreamingEventDetector
from ..live import LiveBeatPipeline
from ..store import NewChunk, Session
from .protocol import Frame, SequenceTracker

__all__ = ["GapMark", "PendingBeat", "PendingChunk", "ResetMark", "StreamKey", "StreamState"]

#: (patient id, device id, stream id) in the database's ids.
StreamKey = tuple[int, int, int]
#: Beats whose stream index → session sample mapping is remembered (for event evidence).
BEAT_MEMORY = 8192


@dataclass(eq=False)
class PendingBeat:
    """A beat between the pipeline and the subscribers (mutable: the batcher fills it in)."""

    stream: StreamState
    sample: int  # session sample index
    time_ns: int  # device time
    x: np.ndarray | None
    usable: bool
    ready_t: float  # server monotonic time its input became ready
    label: str | None = None
    probs: np.ndarray | None = None

    @property
    def needs_model(self) -> bool:
        return self.x is not None and self.usable


@dataclass(frozen=True)
class GapMark:
    """No data from ``start_ns`` to ``end_ns`` (device time)."""

    start_ns: int
    end_ns: int


@dataclass(frozen=True)
class ResetMark:
    """The device clock went backwards: the event detector starts over."""


@dataclass(eq=False)
class PendingChunk:
    """Raw samples of consecutive frames of one segment, waiting to be stored."""

    stream: StreamState
    first_sample: int
    start_ns: int
    first_seq: int
    last_seq: int
    opened_t: float
    parts: list[np.ndarray] = field(default_factory=list)
    n: int = 0

    def to_new_chunk(self) -> NewChunk:
        return NewChunk(
            session_id=self.stream.session.id,
            first_sample=self.first_sample,
            start_ns=self.start_ns,
            samples=np.concatenate(self.parts),
            seq=self.last_seq,
        )


@dataclass(eq=False)
class _Segment:
    pipeline: LiveBeatPipeline
    base: int  # session sample index of pipeline sample 0
    t0_ns: int  # device time of pipeline sample 0
    skip_through: int = -1  # replayed beats at or before this session sample are dropped


class StreamState:
    """State of one device stream (see the module docstring).

    Parameters
    ----------
    key : StreamKey
    session : Session
        The stored session (a resumed one carries its progress).
    fs_mhz : int
        Sampling rate of the stream's frames (a change starts a new session).
    preprocessing : Preprocessing
        The classifier's, for the live pipeline.
    tracker : SequenceTracker
    event_config : EventConfig, optional
    gap_tolerance_s : float
    chunk_s : float
    """

    def __init__(
        self,
        key: StreamKey,
        session: Session,
        fs_mhz: int,
        preprocessing,
        tracker: SequenceTracker,
        *,
        event_config: EventConfig | None = None,
        gap_tolerance_s: float = 0.02,
        chunk_s: float = 1.0,
    ) -> None:
        self.key = key
        self.patient_id, self.device_id, self.stream_id = key
        self.session = session
        self.fs_mhz = int(fs_mhz)
        self.fs = self.fs_mhz / 1000.0
        self.prep = preprocessing
        self.tracker = tracker
        self.event_config = event_config
        self.tolerance_ns = round(max(3.0 / self.fs, gap_tolerance_s) * 1e9)
        self.chunk_samples = max(1, round(chunk_s * self.fs))
        self.next_sample = int(session.next_sample)
        self.last_end_ns: int | None = None
        self.pending_gap = False
        self._seg: _Segment | None = None
        self.chunk: PendingChunk | None = None
        self.uncommitted: deque[PendingChunk] = deque()
        self.released_ack = tracker.ack
        self.acked = -1
        self.sink = None  # the connection acks go to (the latest one that sent a frame)
        self.order: deque[PendingBeat | GapMark | ResetMark] = deque()
        self.detector = StreamingEventDetector(event_config)
        self._beat_samples: deque[int] = deque(maxlen=BEAT_MEMORY)
        self.open_events: dict[tuple[str, float], tuple[int | None, Event]] = {}
        self._det_t = -math.inf  # detector time of the last beat or gap end
        self.last_frame_t = 0.0
        self.n_frames = 0
        self.n_beats = 0
        self.n_gaps = 0
        self.closing = False  # idle: finalised once its beats and chunks are stored

    # ------------------------------------------------------------------ time and samples

    def time_of(self, seg: _Segment, k: int) -> int:
        """Device time of pipeline sample ``k`` of ``seg``."""
        return seg.t0_ns + round(k * 1e9 / self.fs)

    def rel_s(self, time_ns: int) -> float:
        """Seconds since the session started (the event detector's clock)."""
        return (time_ns - self.session.started_ns) / 1e9

    # ------------------------------------------------------------------ segments

    def _new_segment(self, t0_ns: int, base: int, now: float) -> None:
        self._seg = _Segment(LiveBeatPipeline(self.fs, self.prep), base, t0_ns)

    def end_segment(self, now: float) -> list[PendingBeat]:
        """Flush the current pipeline (end of stream or a gap); returns its last beats."""
        seg, self._seg = self._seg, None
        if seg is None:
            return []
        return self._beats(seg, seg.pipeline.flush(), now)

    def resume(self, replay: np.ndarray | None, replay_first: int, replay_t0: int,
               last_end_ns: int | None, now: float) -> list[PendingBeat]:
        """Continue a stored session: replay its stored tail (µV) through a fresh pipeline.

        Beats at or before the session's last stored beat are not emitted again.
        """
        self.last_end_ns = last_end_ns
        if replay is None or replay.size == 0:
            return []
        self._new_segment(replay_t0, replay_first, now)
        assert self._seg is not None
        last = self.session.last_beat_sample
        self._seg.skip_through = -1 if last is None else int(last)
        return self._beats(self._seg, self._seg.pipeline.push(replay / 1000.0), now)

    def _beats(self, seg: _Segment, ready, now: float) -> list[PendingBeat]:
        out = []
        for b in ready:
            sample = seg.base + b.sample
            if sample <= seg.skip_through:
                continue
            pb = PendingBeat(self, sample, self.time_of(seg, b.sample), b.x, bool(b.usable), now)
            if not pb.needs_model:
                pb.label = INCONCLUSIVE
            self.order.append(pb)
            out.append(pb)
        self.n_beats += len(out)
        return out

    # ------------------------------------------------------------------ frames and gaps

    def mark_gap(self) -> PendingChunk | None:
        """Frames were declared missing or rejected: the next delivered frame starts a new
        segment. Returns the chunk closed by the gap, if any."""
        self.pending_gap = True
        self.n_gaps += 1
        return self.close_chunk()

    def deliver(self, frame: Frame, now: float) -> tuple[list[PendingBeat], list[PendingChunk]]:
        """Process the next in-order frame; returns ready beats and chunks to store."""
        beats: list[PendingBeat] = []
        chunks: list[PendingChunk] = []
        n = frame.n_samples
        contiguous = (
            self._seg is not None
            and not self.pending_gap
            and self.last_end_ns is not None
            and abs(frame.t0_ns - self.last_end_ns) <= self.tolerance_ns
        )
        if not contiguous:
            if self._seg is not None:
                beats += self.end_segment(now)
            c = self.close_chunk()
            if c is not None:
                chunks.append(c)
            if self.last_end_ns is not None:
                if frame.t0_ns < self.last_end_ns - self.tolerance_ns:
                    self.order.append(ResetMark())
                    self.next_sample += 1
                else:
                    missing = round((frame.t0_ns - self.last_end_ns) * self.fs / 1e9)
                    if self.pending_gap or missing > 0:
                        self.order.append(GapMark(self.last_end_ns, frame.t0_ns))
                        # a gap skips at least one session sample (its chunks never touch)
                        self.next_sample += max(1, missing)
                    else:
                        # nothing missing, only no pipeline (a stream resumed without a replay,
                        # or a frame for a stream being finalised): the samples go on where they
                        # were and the event detector starts over, so the restarted pipeline's
                        # first silent seconds are not read as a pause
                        self.order.append(ResetMark())
            self._new_segment(frame.t0_ns, self.next_sample, now)
            self.pending_gap = False
        seg = self._seg
        assert seg is not None
        # chunking
        if self.chunk is None:
            k = self.next_sample - seg.base
            self.chunk = PendingChunk(self, self.next_sample, self.time_of(seg, k),
                                      frame.seq, frame.seq, now)
        ch = self.chunk
        ch.parts.append(frame.samples_uv)
        ch.n += n
        ch.last_seq = frame.seq
        if ch.n >= self.chunk_samples:
            chunks.append(self.close_chunk())  # type: ignore[arg-type]
        self.next_sample += n
        self.last_end_ns = frame.t_end_ns
        self.n_frames += 1
        self.last_frame_t = now
        beats += self._beats(seg, seg.pipeline.push(frame.samples_uv / 1000.0), now)
        return beats, chunks

    def close_chunk(self) -> PendingChunk | None:
        ch, self.chunk = self.chunk, None
        if ch is not None:
            self.uncommitted.append(ch)
        return ch

    def ackable(self) -> int:
        """Highest seq whose frame is stored or settled as a gap (all below it too)."""
        if self.chunk is not None:
            return min(self.released_ack, self.chunk.first_seq - 1)
        if self.uncommitted:
            return min(self.released_ack, self.uncommitted[0].first_seq - 1)
        return self.released_ack

    def committed(self, chunk: PendingChunk) -> None:
        with contextlib.suppress(ValueError):  # committed twice: nothing to do
            self.uncommitted.remove(chunk)

    # ------------------------------------------------------------------ beats → events

    def drain(self) -> tuple[list[PendingBeat], list[tuple[Event, bool, int | None]]]:
        """Beats whose labels are known, in order, with the events they cause.

        Returns
        -------
        beats : list of PendingBeat
            Ready to publish and store.
        events : list of (Event, final, first evidence sample)
            Final events, and open ones seen for the first time (``final`` False).
        """
        done: list[PendingBeat] = []
        events: list[tuple[Event, bool, int | None]] = []
        run: list[PendingBeat] = []

        def push_run() -> None:
            if not run:
                return
            times = [self.rel_s(b.time_ns) for b in run]
            self._beat_samples.extend(b.sample for b in run)
            finals = self.detector.push(
                np.array(times), [b.label for b in run], np.array([b.usable for b in run])
            )
            self._det_t = times[-1]
            events.extend(self._finals(finals))
            run.clear()

        while self.order:
            head = self.order[0]
            if isinstance(head, PendingBeat):
                if head.label is None:
                    break
                self.order.popleft()
                done.append(head)
                run.append(head)
                continue
            push_run()
            self.order.popleft()
            if isinstance(head, GapMark):
                a = max(self.rel_s(head.start_ns), self._det_t)
                b = max(a, self.rel_s(head.end_ns))
                events.extend(self._finals(self.detector.gap(a, b)))
                self._det_t = b
            else:
                events.extend(self.finish_events())
                self.detector = StreamingEventDetector(self.event_config)
                self._beat_samples.clear()
                self._det_t = -math.inf
        push_run()
        events.extend(self._opened())
        return done, events

    def finish_events(self) -> list[tuple[Event, bool, int | None]]:
        """End of the stream: close every open episode."""
        out = self._finals(self.detector.flush())
        self._close_stale(set(), out)
        return out

    def sample_of(self, index: int) -> int | None:
        """Session sample of the detector's beat ``index`` (None when forgotten)."""
        k = index - (self.detector.n_beats - len(self._beat_samples))
        if 0 <= k < len(self._beat_samples):
            return self._beat_samples[k]
        return None

    def _finals(self, finals: list[Event]) -> list[tuple[Event, bool, int | None]]:
        out = []
        for ev in finals:
            seen = self.open_events.pop((ev.kind.value, ev.start_s), None)
            first = seen[0] if seen is not None else None
            if first is None and len(ev.beats):
                first = self.sample_of(ev.beats.start)
            out.append((ev, True, first))
        return out

    def _opened(self) -> list[tuple[Event, bool, int | None]]:
        out: list[tuple[Event, bool, int | None]] = []
        now_open = self.detector.ongoing()
        keys = {(e.kind.value, e.start_s) for e in now_open}
        self._close_stale(keys, out)
        for ev in now_open:
            key = (ev.kind.value, ev.start_s)
            seen = self.open_events.get(key)
            if seen is None:
                first = self.sample_of(ev.beats.start) if len(ev.beats) else None
                self.open_events[key] = (first, ev)
                out.append((ev, False, first))
            else:
                self.open_events[key] = (seen[0], ev)
        return out

    def _close_stale(self, keep: set[tuple[str, float]],
                     out: list[tuple[Event, bool, int | None]]) -> None:
        """Open episodes that vanished without a final event (e.g. VT re-classified as a slow
        ventricular run, or a stream reset) are closed where they were last seen."""
        for key in [k for k in self.open_events if k not in keep]:
            first, last = self.open_events.pop(key)
            out.append((last, True, first))

"""The monitoring engine: many device streams in, labelled beats, events and alerts out.

:class:`MonitorEngine` is asyncio code without any web framework. The ingest endpoint hands it
decoded frames (:meth:`MonitorEngine.ingest`); it keeps one
:class:`~cardiostream.service.stream.StreamState` per ``(patient, device, stream_id)`` and runs
three background tasks:

* the **batcher** classifies ready beats of all patients in micro-batches (up to ``max_batch``
  beats, or whatever arrived ``max_wait_ms`` after the first) with
  :meth:`BeatClassifier.predict_inputs` in a worker thread, so the event loop stays responsive;
  beats whose input is undefined or whose signal quality is poor are ``inconclusive`` without
  inference (never guessed). Labels are published to subscribers as soon as they are known, in
  stream order, and fed to the rhythm-event detector;
* the **writer** stores raw chunks, beats, events and alerts in batches (store calls in a worker
  thread) and acknowledges frames to devices once their samples are stored;
* **housekeeping** gives up on sequence holes held too long (``SequenceTracker.expire``), writes
  chunks whose first frame is ``chunk_s`` old, and finalises streams idle for
  ``idle_timeout_s``.

Restart continuity: a stream's session, its last stored frame and beat come from the store;
frames are acknowledged only once stored, so a device re-sends whatever a crash lost; the tail of
the stored signal (``replay_s``) is replayed through a fresh pipeline so beats not yet stored
are still found, and beats at or before the last stored one are never emitted twice (beats are
also unique per ``(session, sample)`` in the store).

Latency: every beat records the server time its input became ready; the time its label became
available to subscribers minus that is kept in a ring (:meth:`MonitorEngine.latencies`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..classify import INCONCLUSIVE, BeatClassifier
from ..events import Event, EventKind
from ..store import NewAlert, NewBeat, NewEvent, Session, Store
from .alerts import alert_for
from .config import ServiceSettings
from .hub import Hub
from .inference import BeatRunner, TorchRunner, describe, make_runner
from .protocol import (
    Delivery,
    ErrorCode,
    ErrorMessage,
    Frame,
    ProtocolError,
    SeqStatus,
    SequenceTracker,
)
from .stream import PendingBeat, PendingChunk, StreamKey, StreamState

__all__ = ["AckSink", "MonitorEngine"]

log = logging.getLogger("cardiostream.service")

#: Audit action recording which device stream a session belongs to.
STREAM_AUDIT_ACTION = "stream"


class AckSink(Protocol):
    """Where a stream's acks and errors go (the device's current connection)."""

    def send_ack(self, stream_id: int, seq: int) -> None: ...

    def send_error(self, message: ErrorMessage) -> None: ...


@dataclass
class _Opened:
    session: Session
    replay: np.ndarray | None
    replay_first: int
    replay_t0: int
    last_end_ns: int | None


@dataclass
class _EventOut:
    stream: StreamState
    new: NewEvent
    event: Event
    final: bool
    alert: tuple[str, str] | None


class MonitorEngine:
    """Per-stream state, micro-batched classification, persistence and fan-out.

    Parameters
    ----------
    store : Store
        Migrated store.
    classifier : BeatClassifier
        Must use ``beat_ctx`` inputs (the live pipeline's).
    settings : ServiceSettings
    clock : callable
        Monotonic server clock in seconds (injectable for tests).
    """

    def __init__(
        self,
        store: Store,
        classifier: BeatClassifier,
        settings: ServiceSettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.classifier = classifier
        self.settings = settings or ServiceSettings()
        #: Runs the model (ONNX Runtime or torch); chosen by :meth:`start` from the settings.
        self.runner: BeatRunner = TorchRunner(classifier)
        self.clock = clock
        self.hub = Hub(self.settings.subscriber_queue, self.settings.subscriber_max_drops)
        self.streams: dict[StreamKey, StreamState] = {}
        self._opening: dict[StreamKey, asyncio.Future[StreamState]] = {}
        self._classes = tuple(classifier.classes)
        self._ready: deque[PendingBeat] = deque()
        self._ready_evt: asyncio.Event | None = None
        self._stop_evt: asyncio.Event | None = None
        self._stopping = False
        self._chunks_out: list[PendingChunk] = []
        self._beats_out: list[NewBeat] = []
        self._events_out: list[_EventOut] = []
        self._advances: dict[int, int] = {}
        self._ends: dict[int, int] = {}  # sessions to end: id -> device time of the end
        self._tasks: list[asyncio.Task[None]] = []
        self._write_lock: asyncio.Lock | None = None
        self._latency: deque[float] = deque(maxlen=100_000)
        self.counters: dict[str, int] = {
            "frames": 0, "duplicates": 0, "too_old": 0, "rejected": 0, "gaps": 0,
            "beats": 0, "classified": 0, "batches": 0, "beats_stored": 0, "chunks_stored": 0,
            "events": 0, "alerts": 0, "write_errors": 0, "streams_opened": 0,
            "streams_resumed": 0, "streams_closed": 0,
        }
        self.running = False

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start the batcher, writer and housekeeping tasks."""
        if self.running:
            return
        if self.settings.torch_threads is not None:
            import torch

            torch.set_num_threads(self.settings.torch_threads)
        self.runner = await asyncio.to_thread(
            make_runner, self.classifier, self.settings.inference,
            threads=self.settings.torch_threads or 1,
        )
        log.info("beat model: %s", describe(self.runner))
        self._ready_evt = asyncio.Event()
        self._stop_evt = asyncio.Event()
        self._stopping = False
        self._write_lock = asyncio.Lock()
        self.running = True
        self._tasks = [
            asyncio.create_task(self._batcher(), name="cardiostream-batcher"),
            asyncio.create_task(self._writer(), name="cardiostream-writer"),
            asyncio.create_task(self._housekeeping(), name="cardiostream-housekeeping"),
        ]

    async def stop(self, *, finalize: bool = False) -> None:
        """Stop: classify what is ready, store everything pending, then end the tasks.

        With ``finalize`` every stream is also ended (pipelines flushed, open episodes closed);
        without it the streams stay resumable (a restarted engine replays their stored tail).
        """
        if not self.running:
            return
        # the batcher and the writer finish what they are doing (a cancelled classification
        # would leave beats without labels); housekeeping only sleeps between ticks
        self._stopping = True
        assert self._ready_evt is not None and self._stop_evt is not None
        self._ready_evt.set()
        self._stop_evt.set()
        self._tasks[-1].cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._tasks = []
        if finalize:
            now = self.clock()
            for st in list(self.streams.values()):
                self._release(st, st.tracker.flush(), now)
                self._enqueue(st.end_segment(now))
                self._queue_chunk(st.close_chunk())
                self._drain(st)
        await self._classify_all()
        if finalize:
            for st in list(self.streams.values()):
                self._drain(st)
                self._queue_events(st, st.finish_events())
        for st in self.streams.values():
            self._queue_chunk(st.close_chunk())
        await self.flush()
        self.hub.close_all()
        self.running = False

    # ------------------------------------------------------------------ accessors

    def latencies(self) -> np.ndarray:
        """Recent beat latencies (s): input ready at the server → label available to
        subscribers (most recent 100 000 beats)."""
        return np.fromiter(self._latency, dtype=np.float64, count=len(self._latency))

    def latency_summary(self) -> dict[str, float | int]:
        lat = self.latencies()
        if lat.size == 0:
            return {"n": 0}
        p50, p99 = np.percentile(lat, [50, 99])
        return {"n": int(lat.size), "p50_ms": 1000 * float(p50), "p99_ms": 1000 * float(p99),
                "max_ms": 1000 * float(lat.max())}

    def stats(self) -> dict[str, Any]:
        """Counters, queue sizes and latency percentiles (for ``/healthz``)."""
        return {
            **self.counters,
            "streams": len(self.streams),
            "ready_queue": len(self._ready),
            "pending_chunks": len(self._chunks_out),
            "subscribers": self.hub.n_subscribers(),
            "latency": self.latency_summary(),
            "inference": describe(self.runner),
        }

    @property
    def overloaded(self) -> bool:
        return len(self._chunks_out) > self.settings.max_pending_chunks

    # ------------------------------------------------------------------ ingest

    async def ingest(self, sink: AckSink, patient_id: int, device_id: int, frame: Frame) -> None:
        """Process one decoded frame of a device authorised for ``patient_id``/``device_id``.

        Raises
        ------
        ProtocolError
            ``overloaded`` when the database lags too far behind.
        """
        if self.overloaded:
            raise ProtocolError(ErrorCode.OVERLOADED, "the service is storing a backlog",
                                seq=frame.seq, stream_id=frame.stream_id)
        key = (patient_id, device_id, frame.stream_id)
        st = self.streams.get(key)
        if st is None or st.fs_mhz != frame.fs_mhz:
            st = await self._stream(key, frame)
        st.sink = sink
        st.closing = False
        now = self.clock()
        self.counters["frames"] += 1
        res = st.tracker.push(frame.seq, frame, now)
        if res.status is SeqStatus.DUPLICATE:
            self.counters["duplicates"] += 1
        elif res.status is SeqStatus.TOO_OLD:
            self.counters["too_old"] += 1
            sink.send_error(ErrorMessage(ErrorCode.SEQ_TOO_OLD,
                                         f"frame {frame.seq} was already declared a gap",
                                         frame.seq, frame.stream_id))
        self._release(st, res.released, now)
        self._ack(st, force=res.status in (SeqStatus.DUPLICATE, SeqStatus.TOO_OLD))

    def reject(self, sink: AckSink, patient_id: int, device_id: int, err: ProtocolError) -> None:
        """A well-formed frame with invalid content (``value_out_of_range``): its slot becomes a
        one-frame gap so the ack moves past it (the stream must already be known)."""
        self.counters["rejected"] += 1
        if err.seq is None or err.stream_id is None:
            return
        st = self.streams.get((patient_id, device_id, err.stream_id))
        if st is None:
            return
        now = self.clock()
        res = st.tracker.reject(err.seq, now)
        self._release(st, res.released, now)
        self._ack(st, force=True)

    async def _stream(self, key: StreamKey, frame: Frame) -> StreamState:
        fut = self._opening.get(key)
        if fut is not None:
            return await asyncio.shield(fut)
        fut = asyncio.get_running_loop().create_future()
        self._opening[key] = fut
        try:
            old = self.streams.get(key)
            # another stream of the same device (a reboot) or a rate change ends the old one
            for k, st in list(self.streams.items()):
                if k[1] == key[1] and (k != key or st.fs_mhz != frame.fs_mhz):
                    self._finalize(st)
            if old is not None:
                await self._persist_stream(old)
            opened = await asyncio.to_thread(self._open_sync, key, frame, old is not None)
            st = self._make_stream(key, frame, opened)
            self.streams[key] = st
            fut.set_result(st)
            return st
        except BaseException as e:
            fut.set_exception(e)
            fut.exception()  # retrieved: no "never retrieved" warning when nobody else waits
            raise
        finally:
            del self._opening[key]

    async def _persist_stream(self, st: StreamState) -> None:
        """Store everything of a stream about to be replaced (rate change)."""
        self._finalize(st)
        await self._classify_all()
        self._queue_events(st, st.finish_events())
        await self.flush()
        self.streams.pop(st.key, None)

    def _open_sync(self, key: StreamKey, frame: Frame, force_new: bool) -> _Opened:
        """Find the stored session of this stream (resume) or start one (worker thread)."""
        patient_id, device_id, stream_id = key
        store = self.store
        resume: Session | None = None
        for s in store.open_sessions(device_id=device_id):
            sid_stream = self._session_stream(s.id)
            same = sid_stream == stream_id and round(s.fs * 1000) == frame.fs_mhz
            if same and not force_new and resume is None and s.patient_id == patient_id:
                resume = s
            elif (s.patient_id, s.device_id, sid_stream) not in self.streams:
                store.end_session(s.id, s.last_device_ns if s.last_device_ns is not None
                                  else s.started_ns)
        if resume is None:
            s = store.start_session(device_id, frame.fs, frame.t0_ns, patient_id=patient_id)
            store.audit(STREAM_AUDIT_ACTION, "session", s.id, actor=f"device:{device_id}",
                        new={"stream_id": stream_id, "fs_mhz": frame.fs_mhz})
            return _Opened(s, None, 0, 0, None)
        last_end = None
        replay, first, t0 = None, 0, 0
        if resume.last_device_ns is not None:
            last_end = resume.last_device_ns + round(1e9 / resume.fs)
            t_from = resume.last_device_ns - round(self.settings.replay_s * 1e9)
            if self.settings.replay_s > 0:
                strip = store.raw_strip(patient_id, t_from, resume.last_device_ns + 1)
                segs = [g for g in strip.segments if g.session_id == resume.id]
                if segs and segs[-1].first_sample + len(segs[-1]) == resume.next_sample:
                    g = segs[-1]
                    replay, first, t0 = np.asarray(g.samples), g.first_sample, g.start_ns
        return _Opened(resume, replay, first, t0, last_end)

    def _session_stream(self, session_id: int) -> int | None:
        for entry in self.store.audit_log("session", session_id, limit=20):
            if entry.action == STREAM_AUDIT_ACTION and isinstance(entry.new, dict):
                v = entry.new.get("stream_id")
                return int(v) if isinstance(v, int) else None
        return None

    def _make_stream(self, key: StreamKey, frame: Frame, opened: _Opened) -> StreamState:
        s = opened.session
        cfg = self.settings
        next_seq = 0 if s.last_seq is None else s.last_seq + 1
        tracker: SequenceTracker[Frame] = SequenceTracker(
            cfg.reorder_window, cfg.max_hold_s, next_seq=next_seq
        )
        st = StreamState(key, s, frame.fs_mhz, self.classifier.preprocessing, tracker,
                         gap_tolerance_s=cfg.gap_tolerance_s, chunk_s=cfg.chunk_s)
        if opened.last_end_ns is not None:
            self.counters["streams_resumed"] += 1
        else:
            self.counters["streams_opened"] += 1
        now = self.clock()
        beats = st.resume(opened.replay, opened.replay_first, opened.replay_t0,
                          opened.last_end_ns, now)
        self._enqueue(beats)
        self._drain(st)
        return st

    def _release(self, st: StreamState, released, now: float) -> None:
        for item in released:
            if isinstance(item, Delivery):
                beats, chunks = st.deliver(item.item, now)
                self._enqueue(beats)
                for c in chunks:
                    self._queue_chunk(c)
            else:
                self.counters["gaps"] += 1
                self._queue_chunk(st.mark_gap())
        if released:
            before = st.released_ack
            st.released_ack = st.tracker.ack
            if st.released_ack > before and st.chunk is None and not st.uncommitted:
                self._advances[st.session.id] = st.released_ack
            self._drain(st)

    def _queue_chunk(self, chunk: PendingChunk | None) -> None:
        if chunk is not None:
            self._chunks_out.append(chunk)

    def _enqueue(self, beats: list[PendingBeat]) -> None:
        self.counters["beats"] += len(beats)
        woke = False
        for b in beats:
            if b.label is None:
                self._ready.append(b)
                woke = True
        if woke and self._ready_evt is not None:
            self._ready_evt.set()

    def _ack(self, st: StreamState, force: bool = False) -> None:
        a = st.ackable()
        if a < 0 or st.sink is None:
            return
        if a > st.acked or force:
            st.acked = max(st.acked, a)
            st.sink.send_ack(st.stream_id, st.acked)

    def _finalize(self, st: StreamState) -> None:
        """End a stream: release held frames, flush its pipeline and chunk."""
        now = self.clock()
        self._release(st, st.tracker.flush(), now)
        self._enqueue(st.end_segment(now))
        self._queue_chunk(st.close_chunk())
        st.closing = True
        self._drain(st)  # beats labelled without the model (inconclusive) are not batched

    # ------------------------------------------------------------------ subscribers

    def subscribe(self, patient_id: int):
        """A :class:`~cardiostream.service.hub.Subscription` to a patient's live messages."""
        return self.hub.subscribe(patient_id)

    def unsubscribe(self, sub) -> None:
        self.hub.unsubscribe(sub)

    # ------------------------------------------------------------------ classification

    async def _batcher(self) -> None:
        assert self._ready_evt is not None
        wait = self.settings.max_wait_ms / 1000.0
        while not self._stopping:
            await self._ready_evt.wait()
            if self._stopping:
                return
            if len(self._ready) < self.settings.max_batch and wait > 0:
                await asyncio.sleep(wait)
            await self._classify_batch()

    async def _classify_all(self) -> None:
        while self._ready:
            await self._classify_batch()

    async def _classify_batch(self) -> None:
        n = min(len(self._ready), self.settings.max_batch)
        batch = [self._ready.popleft() for _ in range(n)]
        if not self._ready and self._ready_evt is not None:
            self._ready_evt.clear()
        if not batch:
            return
        x = np.stack([b.x for b in batch])  # type: ignore[misc]
        try:
            probs = await asyncio.to_thread(self.runner.predict_inputs, x)
        except Exception:  # a model failure must not stop the service: abstain
            log.exception("beat classification failed for %d beats", len(batch))
            probs = None
        self.counters["batches"] += 1
        self.counters["classified"] += len(batch)
        if probs is None or not np.all(np.isfinite(probs)):
            for b in batch:
                b.label = INCONCLUSIVE
        else:
            idx = np.argmax(probs, axis=1)
            for b, p, k in zip(batch, probs, idx.tolist(), strict=True):
                b.probs = p
                b.label = self._classes[k]
        seen: dict[StreamKey, StreamState] = {}
        for b in batch:
            seen.setdefault(b.stream.key, b.stream)
        for st in seen.values():
            self._drain(st)

    # ------------------------------------------------------------------ beats → out

    def _prob(self, probs: np.ndarray | None, name: str) -> float | None:
        if probs is None or name not in self._classes:
            return None
        return float(probs[self._classes.index(name)])

    def _drain(self, st: StreamState) -> None:
        beats, events = st.drain()
        if beats:
            now = self.clock()
            sid, pid = st.session.id, st.patient_id
            publish = self.hub.has_subscribers(pid)
            for b in beats:
                self._latency.append(now - b.ready_t)
                nb = NewBeat(
                    session_id=sid, patient_id=pid, sample_index=b.sample, time_ns=b.time_ns,
                    label=b.label or INCONCLUSIVE, p_n=self._prob(b.probs, "N"),
                    p_s=self._prob(b.probs, "S"), p_v=self._prob(b.probs, "V"),
                    p_f=self._prob(b.probs, "F"), p_q=self._prob(b.probs, "Q"),
                    usable=b.usable,
                )
                self._beats_out.append(nb)
                if publish:
                    self.hub.publish(pid, beat_message(nb, self._classes, b.probs))
        self._queue_events(st, events)

    def _queue_events(self, st: StreamState, events) -> None:
        base = st.session.started_ns
        for ev, final, first in events:
            start_ns = base + round(ev.start_s * 1e9)
            end_ns = max(start_ns, base + round(ev.end_s * 1e9)) if final else None
            evidence: tuple[int, ...] = ()
            if first is not None:
                last = st.sample_of(ev.beats[-1]) if final and len(ev.beats) else None
                evidence = (first,) if last is None or last < first else (first, last)
            details: dict[str, Any] = {k: float(v) for k, v in ev.details}
            details["n_beats"] = len(ev.beats)
            if ev.rate_bpm is not None:
                details["rate_bpm"] = float(ev.rate_bpm)
            new = NewEvent(patient_id=st.patient_id, kind=ev.kind.value, start_ns=start_ns,
                           end_ns=end_ns, session_id=st.session.id, evidence=evidence,
                           details=details)
            alert = alert_for(ev) if ev.kind is not EventKind.SIGNAL_LOSS else None
            self._events_out.append(_EventOut(st, new, ev, final, alert))

    # ------------------------------------------------------------------ persistence

    async def _writer(self) -> None:
        assert self._stop_evt is not None
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_evt.wait(), self.settings.flush_interval_s)
            if self._stopping:
                return
            try:
                await self.flush()
            except Exception:  # keep going: the data stays queued for the next try
                log.exception("storing a batch failed")

    async def flush(self) -> None:
        """Store everything pending now (chunks, beats, events, alerts) and send acks."""
        assert self._write_lock is not None
        async with self._write_lock:
            chunks, self._chunks_out = self._chunks_out, []
            beats, self._beats_out = self._beats_out, []
            events, self._events_out = self._events_out, []
            advances, self._advances = self._advances, {}
            ends, self._ends = self._ends, {}
            if not (chunks or beats or events or advances or ends):
                return
            try:
                ev_ids, al_ids = await asyncio.to_thread(
                    self._persist_sync, chunks, beats, events, advances, ends
                )
            except Exception:
                self.counters["write_errors"] += 1
                self._chunks_out[:0] = chunks
                self._beats_out[:0] = beats
                self._events_out[:0] = events
                for k, v in advances.items():
                    self._advances[k] = max(v, self._advances.get(k, -1))
                self._ends.update(ends)
                raise
            touched: dict[StreamKey, StreamState] = {}
            for c in chunks:
                c.stream.committed(c)
                touched[c.stream.key] = c.stream
            for st in touched.values():
                self._ack(st)
            self.counters["chunks_stored"] += len(chunks)
            self.counters["beats_stored"] += len(beats)
            self.counters["events"] += len(events)
            for eo, eid in zip(events, ev_ids, strict=True):
                if self.hub.has_subscribers(eo.new.patient_id):
                    self.hub.publish(eo.new.patient_id, event_message(eid, eo.new, eo.final))
            for eo, (aid, sev, msg, at) in al_ids:
                self.counters["alerts"] += 1
                if self.hub.has_subscribers(eo.new.patient_id):
                    self.hub.publish(eo.new.patient_id, {
                        "type": "alert", "id": aid, "patient_id": eo.new.patient_id,
                        "event_kind": eo.new.kind, "severity": sev, "message": msg,
                        "raised_at_ns": at,
                    })

    def _persist_sync(self, chunks, beats, events, advances, ends):
        store = self.store
        if chunks:
            store.append_chunks([c.to_new_chunk() for c in chunks])
        if beats:
            store.add_beats(beats)
        for sid, seq in advances.items():
            store.advance_session(sid, seq=seq)
        ev_ids: tuple[int, ...] = ()
        alerts: list[tuple[_EventOut, tuple[int, str, str, int]]] = []
        if events:
            ev_ids = store.add_events([e.new for e in events])
            todo = [(eo, eid) for eo, eid in zip(events, ev_ids, strict=True) if eo.alert]
            if todo:
                at = time.time_ns()
                new = [NewAlert(eid, eo.alert[0], at, eo.alert[1])  # type: ignore[index]
                       for eo, eid in todo]
                ids = store.add_alerts(new)
                alerts = [(eo, (aid, a.severity, a.message, at))
                          for (eo, _), aid, a in zip(todo, ids, new, strict=True)]
        for sid, end_ns in ends.items():
            store.end_session(sid, end_ns)
        return ev_ids, alerts

    # ------------------------------------------------------------------ housekeeping

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            try:
                self.tick()
            except Exception:  # pragma: no cover - never let housekeeping die
                log.exception("housekeeping failed")

    def tick(self) -> None:
        """Expire held frames, close old chunks, finalise idle streams (every 100 ms)."""
        now = self.clock()
        cfg = self.settings
        for key, st in list(self.streams.items()):
            if st.tracker.held:
                self._release(st, st.tracker.expire(now), now)
                self._ack(st)
            if st.chunk is not None and now - st.chunk.opened_t >= cfg.chunk_s:
                self._queue_chunk(st.close_chunk())
            if not st.closing and now - st.last_frame_t >= cfg.idle_timeout_s:
                self._finalize(st)
            if st.closing and not st.order and st.chunk is None and not st.uncommitted:
                self._queue_events(st, st.finish_events())
                del self.streams[key]
                if any(k[1] == key[1] for k in self.streams):  # replaced by a newer stream
                    end = st.last_end_ns if st.last_end_ns is not None else st.session.started_ns
                    self._ends[st.session.id] = end
                self.counters["streams_closed"] += 1


def beat_message(b: NewBeat, classes: tuple[str, ...], probs: np.ndarray | None
                 ) -> dict[str, Any]:
    """The JSON a subscriber gets for a labelled beat."""
    return {
        "type": "beat",
        "patient_id": b.patient_id,
        "session_id": b.session_id,
        "sample": b.sample_index,
        "time_ns": b.time_ns,
        "label": b.label,
        "usable": b.usable,
        "probabilities": None if probs is None else {
            c: round(float(p), 6) for c, p in zip(classes, probs, strict=True)
        },
    }


def event_message(event_id: int, e: NewEvent, final: bool) -> dict[str, Any]:
    """The JSON a subscriber gets for a stored event (open ones have ``end_ns`` null)."""
    return {
        "type": "event",
        "id": event_id,
        "patient_id": e.patient_id,
        "session_id": e.session_id,
        "kind": e.kind,
        "start_ns": e.start_ns,
        "end_ns": e.end_ns,
        "ongoing": not final,
        "details": dict(e.details),
    }

"""The clinician dashboard: its pages and the endpoints only the pages need (``/dashboard``).

The pages are a single-page application built from ``web/`` (npm + esbuild, ``make web``) into
``service/static/``; this router serves them and adds, on top of the read API
(:mod:`cardiostream.service.api`):

* ``GET /dashboard/api/me`` — who the token belongs to;
* ``GET /dashboard/api/ward`` — one tile per readable patient (live heart rate, signal state,
  beat-class counts over the last hour of device time, latest unacknowledged alert), sorted by
  urgency (IEC 60601-2-27 alarm priorities: critical > warning > info);
* ``GET /dashboard/api/patients/{id}/latest`` — the patient's latest device time;
* ``GET /dashboard/api/patients/{id}/events`` — events with their dismissal state;
* ``GET /dashboard/api/events/{id}`` — one event, its evidence beats and dismissal state;
* ``POST /dashboard/api/events/{id}/dismiss`` — dismiss (or restore) an event, audited, and
  acknowledge the alerts it raised;
* ``POST /dashboard/api/beats/relabel`` — a clinician's label for a beat (audited by the store);
* ``GET /dashboard/api/patients/{id}/audit`` — the audit trail of the patient's beats, events
  and alerts (who, when, old, new);
* ``WS /dashboard/api/patients/{id}/live?token=`` — the live view: every ``tick_s`` one JSON
  ``{"type": "batch", "messages": [...], "samples": [...]}`` with the hub's beat/event/alert
  messages and the raw samples received since the last batch (read from the engine's memory,
  so the strip does not wait for storage; samples stored in between are read back from the
  store, so none is skipped).

Access rules are the read API's: clinician or admin tokens; a clinician only sees assigned
patients (403 otherwise).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Request, WebSocket
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from ..store import Principal, Store
from ..store.models import BeatRow
from .api import _call, _plain
from .auth import accept_reader, check_read, require_user

__all__ = ["STATIC_DIR", "router"]

#: Where ``make web`` writes the built pages (not in git: built from ``web/`` by the Makefile).
STATIC_DIR = Path(__file__).with_name("static")
#: Files of the built bundle that may be served.
ASSETS = {"app.js": "text/javascript", "app.css": "text/css", "app.js.map": "application/json",
          "app.css.map": "application/json"}
#: Signal states, most urgent first.
STATES = ("gap", "poor_quality", "streaming", "offline")
SEVERITY_RANK = {"critical": 3, "warning": 2, "info": 1}
#: A stream silent for longer than this (server seconds) shows as a gap.
GAP_AFTER_S = 3.0
HOUR_NS = 3600 * 10**9
#: Seconds between two live batches.
TICK_S = 0.1
#: A live view reads back from the store at most this much signal it missed (seconds).
MAX_CATCH_UP_S = 120.0
#: Heart rate is the mean of the RR intervals over this much device time.
HR_WINDOW_NS = 10 * 10**9

router = APIRouter(prefix="/dashboard")
User = Annotated[Principal, Depends(require_user)]
_BEATS = BeatRow.__table__


def _store(request: Request) -> Store:
    return request.app.state.store


# --------------------------------------------------------------------------- pages


@router.get("", include_in_schema=False)
async def root() -> RedirectResponse:
    return RedirectResponse("/dashboard/")


@router.get("/", include_in_schema=False)
async def index() -> HTMLResponse:
    """The single page (it asks for a clinician token before showing anything)."""
    page = STATIC_DIR / "index.html"
    if not page.is_file():
        raise HTTPException(503, "the dashboard is not built: run `make web`")
    return HTMLResponse(page.read_text(encoding="utf-8"),
                        headers={"Cache-Control": "no-store"})


@router.get("/assets/{name}", include_in_schema=False)
async def asset(name: str) -> FileResponse:
    path = STATIC_DIR / name
    if name not in ASSETS or not path.is_file():
        raise HTTPException(404, "no such asset")
    return FileResponse(path, media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})


# --------------------------------------------------------------------------- helpers


def _streams(engine: Any, patient_id: int) -> list[Any]:
    if engine is None:
        return []
    return [st for st in engine.streams.values() if st.patient_id == patient_id]


def _latest_ns(store: Store, engine: Any, patient_id: int) -> int | None:
    """The patient's latest device time: live streams first, else the stored sessions."""
    live = [st.last_end_ns for st in _streams(engine, patient_id) if st.last_end_ns is not None]
    if live:
        return max(live)
    sessions = store.list_sessions(patient_id)
    times = [s.last_device_ns for s in sessions if s.last_device_ns is not None]
    times += [s.ended_ns for s in sessions if s.ended_ns is not None]
    return max(times) if times else None


def _dismissals(store: Store) -> dict[int, dict[str, Any]]:
    """Event id → its latest dismiss/restore audit entry's ``new`` value."""
    out: dict[int, dict[str, Any]] = {}
    for a in store.audit_log("event", limit=100_000):  # newest first: keep the first seen
        if a.action in ("dismiss", "restore"):
            with contextlib.suppress(ValueError):
                out.setdefault(int(a.entity_key), dict(a.new or {}))
    return out


def _class_counts(store: Store, patient_id: int, t0: int, t1: int) -> dict[str, int]:
    label = func.coalesce(_BEATS.c.relabel, _BEATS.c.label)
    q = (select(label, func.count())
         .where(_BEATS.c.patient_id == patient_id, _BEATS.c.time_ns >= t0, _BEATS.c.time_ns < t1)
         .group_by(label))
    with store.engine.connect() as conn:
        return {str(k): int(n) for k, n in conn.execute(q)}


def _heart_rate(store: Store, patient_id: int, now_ns: int) -> float | None:
    beats = store.beats(patient_id, now_ns - HR_WINDOW_NS, now_ns + 1)
    by_session: dict[int, list[int]] = {}
    for b in beats:
        by_session.setdefault(b.session_id, []).append(b.time_ns)
    rr = np.concatenate([np.diff(np.asarray(t, dtype=np.int64)) for t in by_session.values()
                         if len(t) > 1] or [np.zeros(0, np.int64)])
    rr = rr[(rr > 0.2e9) & (rr < 3e9)]
    return None if rr.size == 0 else round(60e9 / float(rr.mean()), 1)


def _signal_state(engine: Any, store_events: tuple[Any, ...], patient_id: int) -> str:
    streams = [st for st in _streams(engine, patient_id) if not st.closing]
    if not streams:
        return "offline"
    now = engine.clock()
    if all(now - st.last_frame_t > GAP_AFTER_S or st.pending_gap for st in streams):
        return "gap"
    if any(e.kind == "poor_signal" and e.end_ns is None for e in store_events):
        return "poor_quality"
    return "streaming"


def _tile(store: Store, engine: Any, patient: Any, dismissed: dict[int, dict[str, Any]]
          ) -> dict[str, Any]:
    pid = patient.id
    latest = _latest_ns(store, engine, pid)
    counts: dict[str, int] = {}
    hr = None
    events: tuple[Any, ...] = ()
    if latest is not None:
        counts = _class_counts(store, pid, latest - HOUR_NS, latest + 1)
        hr = _heart_rate(store, pid, latest)
        events = store.events(pid, latest - 60 * 10**9, latest + 1)
    state = _signal_state(engine, events, pid)
    alerts = [a for a in store.alerts(pid, 0, 2**62, unacknowledged_only=True)
              if not dismissed.get(a.event_id, {}).get("dismissed")]
    alerts.sort(key=lambda a: (SEVERITY_RANK.get(a.severity, 0), a.raised_at_ns), reverse=True)
    top = alerts[0] if alerts else None
    urgency = (SEVERITY_RANK.get(top.severity, 0) if top else 0) * 10 + {
        "gap": 3, "poor_quality": 2, "streaming": 1, "offline": 0}[state]
    return {
        "patient": _plain(patient), "latest_ns": latest, "hr_bpm": hr, "state": state,
        "counts_last_hour": counts, "n_unacknowledged": len(alerts),
        "alert": None if top is None else _plain(top), "urgency": urgency,
    }


def _ward(store: Store, engine: Any, principal: Principal) -> list[dict[str, Any]]:
    ids = store.readable_patient_ids(principal)
    patients = store.list_patients(None if ids is None else sorted(ids))
    dismissed = _dismissals(store)
    tiles = [_tile(store, engine, p, dismissed) for p in patients]
    tiles.sort(key=lambda t: (-t["urgency"], t["patient"]["external_id"]))
    return tiles


# --------------------------------------------------------------------------- API


@router.get("/api/me", summary="The caller")
async def me(request: Request, p: User) -> dict[str, Any]:
    store = _store(request)
    user = await _call(store.get_user, p.user_id)
    return {"user_id": user.id, "username": user.username, "role": user.role,
            "display_name": user.display_name or user.username}


@router.get("/api/ward", summary="Ward view: one tile per readable patient, by urgency")
async def ward(request: Request, p: User) -> list[dict[str, Any]]:
    engine = getattr(request.app.state, "engine", None)
    return await _call(_ward, _store(request), engine, p)


@router.get("/api/patients/{patient_id}/latest", summary="Latest device time of a patient")
async def latest(request: Request, patient_id: int, p: User) -> dict[str, Any]:
    store = _store(request)
    await check_read(store, p, patient_id)
    engine = getattr(request.app.state, "engine", None)
    t = await _call(_latest_ns, store, engine, patient_id)
    live = [{"session_id": st.session.id, "fs": st.fs} for st in _streams(engine, patient_id)]
    return {"patient_id": patient_id, "latest_ns": t, "live": live}


@router.get("/api/patients/{patient_id}/events", summary="Events with their dismissal state")
async def patient_events(request: Request, patient_id: int, p: User,
                         t0: int = 0, t1: int = 2**62) -> list[dict[str, Any]]:
    store = _store(request)
    await check_read(store, p, patient_id)
    evs = await _call(store.events, patient_id, t0, t1)
    dis = await _call(_dismissals, store)
    return [{**_plain(e), "dismissed": bool(dis.get(e.id, {}).get("dismissed")),
             "dismiss_reason": dis.get(e.id, {}).get("reason")} for e in evs]


@router.get("/api/events/{event_id}", summary="One event with its evidence beats")
async def event(request: Request, event_id: int, p: User) -> dict[str, Any]:
    store = _store(request)
    ev = await _call(store.get_event, event_id)
    await check_read(store, p, ev.patient_id)
    beats = await _call(store.event_beats, event_id)
    dis = (await _call(_dismissals, store)).get(event_id, {})
    return {**_plain(ev), "dismissed": bool(dis.get("dismissed")),
            "dismiss_reason": dis.get("reason"),
            "evidence_beats": [{**_plain(dataclasses.asdict(b)), "final_label": b.final_label}
                               for b in beats]}


class DismissIn(BaseModel):
    dismissed: bool = True
    reason: str = Field("", max_length=500)


@router.post("/api/events/{event_id}/dismiss", summary="Dismiss or restore an event (audited)")
async def dismiss(request: Request, event_id: int, body: DismissIn, p: User) -> dict[str, Any]:
    store = _store(request)
    ev = await _call(store.get_event, event_id)
    await check_read(store, p, ev.patient_id)
    old = (await _call(_dismissals, store)).get(event_id, {"dismissed": False})
    new = {"dismissed": body.dismissed, "reason": body.reason}
    await _call(store.audit, "dismiss" if body.dismissed else "restore", "event", event_id,
                actor_user_id=p.user_id, old=old, new=new)
    acked = []
    if body.dismissed:
        for a in await _call(store.alerts, ev.patient_id, 0, 2**62, unacknowledged_only=True):
            if a.event_id == event_id:
                await _call(store.acknowledge_alert, a.id, user_id=p.user_id)
                acked.append(a.id)
    return {"event_id": event_id, **new, "acknowledged_alerts": acked}


class RelabelIn(BaseModel):
    session_id: int
    sample_index: int
    label: Literal["N", "S", "V", "F", "Q", "inconclusive"] | None = None


@router.post("/api/beats/relabel", summary="A clinician's label for a beat (audited)")
async def relabel(request: Request, body: RelabelIn, p: User) -> dict[str, Any]:
    store = _store(request)
    session = await _call(store.get_session, body.session_id)
    await check_read(store, p, session.patient_id)
    b = await _call(store.relabel_beat, body.session_id, body.sample_index, body.label,
                    user_id=p.user_id)
    return {**_plain(dataclasses.asdict(b)), "final_label": b.final_label}


def _audit_of(store: Store, patient_id: int, limit: int) -> list[dict[str, Any]]:
    sessions = {str(s.id) for s in store.list_sessions(patient_id)}
    events = {str(e.id) for e in store.events(patient_id, 0, 2**62)}
    alerts = {str(a.id) for a in store.alerts(patient_id, 0, 2**62)}
    rows = [a for a in store.audit_log("beat", limit=limit)
            if a.entity_key.partition(":")[0] in sessions]
    rows += [a for a in store.audit_log("event", limit=limit) if a.entity_key in events]
    rows += [a for a in store.audit_log("alert", limit=limit) if a.entity_key in alerts]
    rows.sort(key=lambda a: (a.at_ns, a.id), reverse=True)
    names: dict[int, str] = {}
    out = []
    for a in rows[:limit]:
        who = a.actor
        if a.actor_user_id is not None:
            if a.actor_user_id not in names:
                try:
                    names[a.actor_user_id] = store.get_user(a.actor_user_id).username
                except Exception:
                    names[a.actor_user_id] = a.actor
            who = names[a.actor_user_id]
        out.append({**_plain(a), "who": who})
    return out


@router.get("/api/patients/{patient_id}/audit", summary="Audit trail of a patient's data")
async def audit(request: Request, patient_id: int, p: User, limit: int = 200
                ) -> list[dict[str, Any]]:
    store = _store(request)
    await check_read(store, p, patient_id)
    return await _call(_audit_of, store, patient_id, max(1, min(limit, 10_000)))


# --------------------------------------------------------------------------- live


class _SampleCursor:
    """Hands out the raw samples of a patient's live streams not sent yet.

    Samples come from the engine's memory (chunks not stored yet), so the strip does not wait
    for storage. A chunk stored between two takes has left that memory by the next take; its
    samples are then read back from the store, so that the live view never skips any.
    """

    def __init__(self, engine: Any, store: Store, patient_id: int) -> None:
        self.engine = engine
        self.store = store
        self.patient_id = patient_id
        self.next: dict[int, int] = {}  # session id -> next session sample to send
        self.next_ns: dict[int, int] = {}  # session id -> device time of that sample
        self.n_from_store = 0  # samples read back from the store

    @staticmethod
    def _in_memory(st: Any) -> list[Any]:
        chunks = [*st.uncommitted, *([st.chunk] if st.chunk is not None else [])]
        return sorted((c for c in chunks if c.n > 0), key=lambda c: c.first_sample)

    def _sent(self, sid: int, end: int, end_ns: int) -> None:
        self.next[sid] = end
        self.next_ns[sid] = end_ns

    async def _stored(self, st: Any, start: int, held: int, held_ns: int) -> list[dict[str, Any]]:
        """Samples ``[start, held)`` of the stream's session, from the store."""
        sid, period = st.session.id, round(1e9 / st.fs)
        t0 = max(self.next_ns[sid], held_ns - round(MAX_CATCH_UP_S * 1e9)) - period
        strip = await asyncio.to_thread(self.store.raw_strip, self.patient_id, t0,
                                        held_ns + period)
        out = []
        for g in strip.segments:
            a = max(start, g.first_sample) - g.first_sample
            b = min(held, g.first_sample + len(g)) - g.first_sample
            if g.session_id != sid or b <= a:
                continue
            out.append({"session_id": sid, "first_sample": g.first_sample + a,
                        "start_ns": g.start_ns + round(a * 1e9 / g.fs), "fs": g.fs,
                        "samples_uv": g.samples[a:b].tolist()})
            self.n_from_store += b - a
        return out

    async def take(self) -> list[dict[str, Any]]:
        out = []
        for st in _streams(self.engine, self.patient_id):
            sid = st.session.id
            for _ in range(3):  # more chunks may be stored while the store is read
                chunks = self._in_memory(st)
                start = self.next.get(sid)
                held = chunks[0].first_sample if chunks else st.next_sample
                if start is None or held <= start or st.last_end_ns is None:
                    break
                # stored since the last take (or a recorded gap, which the store skips)
                held_ns = chunks[0].start_ns if chunks else st.last_end_ns
                out += await self._stored(st, start, held, held_ns)
                self._sent(sid, held, held_ns)
            for ch in chunks:
                start = self.next.get(sid, ch.first_sample)
                end = ch.first_sample + ch.n
                if end <= start:
                    continue
                k = max(0, start - ch.first_sample)
                x = np.concatenate(ch.parts)[k:]
                out.append({"session_id": sid, "first_sample": ch.first_sample + k,
                            "start_ns": ch.start_ns + round(k * 1e9 / st.fs), "fs": st.fs,
                            "samples_uv": x.tolist()})
                self._sent(sid, end, ch.start_ns + round(ch.n * 1e9 / st.fs))
        return out


@router.websocket("/api/patients/{patient_id}/live")
async def live(ws: WebSocket, patient_id: int) -> None:
    """Live view of one patient: batches of hub messages and raw samples every ``TICK_S``."""
    engine = ws.app.state.engine
    if await accept_reader(ws, patient_id) is None:
        return
    sub = engine.subscribe(patient_id)
    cursor = _SampleCursor(engine, ws.app.state.store, patient_id)

    async def watch_client() -> None:
        while (await ws.receive())["type"] != "websocket.disconnect":
            pass

    watcher = asyncio.create_task(watch_client())
    try:
        while not watcher.done():
            texts: list[str] = []
            kicked = False
            while not sub.queue.empty():
                t = sub.queue.get_nowait()
                if t is None:
                    kicked = True
                    break
                texts.append(t)
            if kicked or sub.kicked:
                with contextlib.suppress(Exception):
                    await ws.close(code=1013, reason="subscriber too slow")
                break
            samples = await cursor.take()
            if texts or samples:
                body = (f'{{"type":"batch","server_ns":{time.time_ns()},'
                        f'"messages":[{",".join(texts)}],"samples":{json.dumps(samples)}}}')
                await ws.send_text(body)
            await asyncio.wait({watcher}, timeout=TICK_S)
    except Exception:  # the client went away mid-send
        pass
    finally:
        engine.unsubscribe(sub)
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await watcher

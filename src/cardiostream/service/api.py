"""HTTP read/admin API and the clinician live WebSocket (``/api/v1``).

Times are device-clock nanoseconds (``t0``/``t1`` query parameters, half-open ``[t0, t1)``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Query, Request, WebSocket
from pydantic import BaseModel, Field

from ..errors import CardiostreamError
from ..store import ConflictError, NotFoundError, Principal, Store
from .auth import accept_reader, check_read, require_admin, require_user
from .upload import UploadError, analyze_upload, parse_form

__all__ = ["router"]

router = APIRouter(prefix="/api/v1")

User = Annotated[Principal, Depends(require_user)]
Admin = Annotated[Principal, Depends(require_admin)]
T0 = Annotated[int, Query(ge=0, le=2**62, description="start, device time (ns), inclusive")]
T1 = Annotated[int, Query(ge=0, le=2**62, description="end, device time (ns), exclusive")]


def _store(request: Request) -> Store:
    return request.app.state.store


def _plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict) or hasattr(obj, "items"):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, np.generic):
        return _plain(obj.item())
    return obj


async def _call(fn, *args, **kw):
    """Run a store call in a worker thread, mapping store errors to HTTP errors."""
    try:
        return await asyncio.to_thread(fn, *args, **kw)
    except NotFoundError as e:
        raise HTTPException(404, str(e)) from None
    except ConflictError as e:
        raise HTTPException(409, str(e)) from None
    except CardiostreamError as e:
        raise HTTPException(422, str(e)) from None


# --------------------------------------------------------------------------- reads


@router.get("/patients", summary="Patients the caller may read")
async def list_patients(request: Request, p: User) -> list[dict[str, Any]]:
    store = _store(request)
    ids = await _call(store.readable_patient_ids, p)
    rows = await _call(store.list_patients, None if ids is None else sorted(ids))
    return _plain(list(rows))


@router.get("/patients/{patient_id}", summary="One patient")
async def get_patient(request: Request, patient_id: int, p: User) -> dict[str, Any]:
    store = _store(request)
    await check_read(store, p, patient_id)
    return _plain(await _call(store.get_patient, patient_id))


@router.get("/patients/{patient_id}/beats", summary="Labelled beats in [t0, t1)")
async def beats(request: Request, patient_id: int, p: User, t0: T0 = 0, t1: T1 = 2**62,
                limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000) -> list[dict[str, Any]]:
    store = _store(request)
    await check_read(store, p, patient_id)
    rows = await _call(store.beats, patient_id, t0, t1, limit=limit)
    return _plain([{**dataclasses.asdict(b), "final_label": b.final_label} for b in rows])


@router.get("/patients/{patient_id}/events", summary="Rhythm events overlapping [t0, t1)")
async def events(request: Request, patient_id: int, p: User, t0: T0 = 0,
                 t1: T1 = 2**62) -> list[dict[str, Any]]:
    store = _store(request)
    await check_read(store, p, patient_id)
    return _plain(list(await _call(store.events, patient_id, t0, t1)))


@router.get("/patients/{patient_id}/alerts", summary="Alerts raised in [t0, t1) (server time)")
async def alerts(request: Request, patient_id: int, p: User, t0: T0 = 0, t1: T1 = 2**62,
                 unacknowledged: bool = False) -> list[dict[str, Any]]:
    store = _store(request)
    await check_read(store, p, patient_id)
    rows = await _call(store.alerts, patient_id, t0, t1, unacknowledged_only=unacknowledged)
    return _plain(list(rows))


@router.get("/patients/{patient_id}/strip", summary="Raw ECG (µV) in [t0, t1), by segment")
async def strip(request: Request, patient_id: int, p: User, t0: T0, t1: T1) -> dict[str, Any]:
    store = _store(request)
    await check_read(store, p, patient_id)
    if t1 - t0 > 3600 * 10**9:
        raise HTTPException(422, "a strip spans at most one hour")
    s = await _call(store.raw_strip, patient_id, t0, t1)
    return {
        "patient_id": patient_id, "t0_ns": t0, "t1_ns": t1,
        "segments": [{"session_id": g.session_id, "first_sample": g.first_sample,
                      "start_ns": g.start_ns, "fs": g.fs, "samples_uv": g.samples.tolist()}
                     for g in s.segments],
    }


@router.get("/patients/{patient_id}/hr", summary="Heart-rate trend (bpm per bucket)")
async def hr(request: Request, patient_id: int, p: User, t0: T0, t1: T1,
             bucket_s: Annotated[float, Query(ge=1, le=86_400)] = 60.0) -> dict[str, Any]:
    store = _store(request)
    await check_read(store, p, patient_id)
    trend = await _call(store.hr_trend, patient_id, t0, t1, bucket_s=bucket_s)
    return _plain({"patient_id": patient_id, "bucket_ns": trend.bucket_ns,
                   "bucket_start_ns": trend.bucket_start_ns, "hr_bpm": trend.hr_bpm,
                   "n_intervals": trend.n_intervals})


@router.post("/alerts/{alert_id}/acknowledge", summary="Acknowledge an alert")
async def acknowledge(request: Request, alert_id: int, p: User) -> dict[str, Any]:
    store = _store(request)
    alert = await _call(store.get_alert, alert_id)
    await check_read(store, p, alert.patient_id)
    return _plain(await _call(store.acknowledge_alert, alert_id, user_id=p.user_id))


# --------------------------------------------------------------------------- uploads


@router.post(
    "/records",
    summary="Analyse a whole recording (WFDB .hea+.dat[+.atr] or CSV) with the offline path",
    openapi_extra={"requestBody": {"content": {
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
            "fs": {"type": "number"}}}},
        "text/csv": {"schema": {"type": "string"}},
    }, "required": True}},
)
async def upload_record(request: Request, p: User,
                        fs: Annotated[float | None, Query(gt=0, le=20_000)] = None
                        ) -> dict[str, Any]:
    settings = request.app.state.settings
    ctype = request.headers.get("content-type", "")
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > settings.max_upload_bytes:
            raise HTTPException(413, f"uploads are limited to {settings.max_upload_bytes} bytes")
    try:
        if ctype.startswith("multipart/form-data"):
            files, fields = parse_form(ctype, bytes(body))
            if fs is None and fields.get("fs"):
                try:
                    fs = float(fields["fs"])
                except ValueError:
                    raise UploadError(f"fs {fields['fs']!r} is not a number") from None
        elif ctype.startswith(("text/csv", "text/plain")):
            files = {"upload.csv": bytes(body)}
        else:
            raise HTTPException(415, "send multipart/form-data or text/csv")
        clf = request.app.state.classifier
        return _plain(await asyncio.to_thread(analyze_upload, files, fs, clf))
    except CardiostreamError as e:
        raise HTTPException(400, str(e)) from None


# --------------------------------------------------------------------------- admin


class PatientIn(BaseModel):
    external_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:@-]+$",
                             description="the patient id devices put in their frames")
    name: str = ""
    settings: dict[str, Any] = Field(default_factory=dict)


class DeviceIn(BaseModel):
    patient_id: int
    serial: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:@-]+$",
                        description="the device id devices put in their frames")
    model: str = ""


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=128)
    role: Literal["clinician", "admin"]
    display_name: str = ""


class TokenIn(BaseModel):
    kind: Literal["device", "user"]
    device_id: int | None = None
    user_id: int | None = None
    label: str = ""
    expires_at_ns: int | None = None


class AssignmentIn(BaseModel):
    user_id: int
    patient_id: int


@router.post("/admin/patients", status_code=201, summary="Create a patient (admin)")
async def create_patient(request: Request, body: PatientIn, p: Admin) -> dict[str, Any]:
    r = await _call(_store(request).add_patient, body.external_id, body.name, body.settings,
                    actor_user_id=p.user_id)
    return _plain(r)


@router.post("/admin/devices", status_code=201, summary="Register a device (admin)")
async def create_device(request: Request, body: DeviceIn, p: Admin) -> dict[str, Any]:
    r = await _call(_store(request).add_device, body.patient_id, body.serial, body.model,
                    actor_user_id=p.user_id)
    return _plain(r)


@router.get("/admin/devices", summary="All devices (admin)")
async def list_devices(request: Request, p: Admin) -> list[dict[str, Any]]:
    return _plain(list(await _call(_store(request).list_devices)))


@router.post("/admin/users", status_code=201, summary="Create a clinician or admin (admin)")
async def create_user(request: Request, body: UserIn, p: Admin) -> dict[str, Any]:
    r = await _call(_store(request).add_user, body.username, body.role, body.display_name,
                    actor_user_id=p.user_id)
    return _plain(r)


@router.get("/admin/users", summary="All users (admin)")
async def list_users(request: Request, p: Admin) -> list[dict[str, Any]]:
    return _plain(list(await _call(_store(request).list_users)))


@router.post("/admin/tokens", status_code=201,
             summary="Issue a device or user token (admin); the plaintext is shown only here")
async def create_token(request: Request, body: TokenIn, p: Admin) -> dict[str, Any]:
    store = _store(request)
    if body.kind == "device":
        if body.device_id is None:
            raise HTTPException(422, "device_id is required for a device token")
        t = await _call(store.create_device_token, body.device_id, label=body.label,
                        expires_at_ns=body.expires_at_ns, actor_user_id=p.user_id)
    else:
        if body.user_id is None:
            raise HTTPException(422, "user_id is required for a user token")
        t = await _call(store.create_user_token, body.user_id, label=body.label,
                        expires_at_ns=body.expires_at_ns, actor_user_id=p.user_id)
    return {**_plain(t), "token": t.plaintext}


@router.delete("/admin/tokens/{token_id}", summary="Revoke a token (admin)")
async def revoke_token(request: Request, token_id: int, p: Admin) -> dict[str, Any]:
    return {"revoked": await _call(_store(request).revoke_token, token_id,
                                   actor_user_id=p.user_id)}


@router.post("/admin/assignments", status_code=201,
             summary="Let a clinician read a patient (admin)")
async def assign(request: Request, body: AssignmentIn, p: Admin) -> dict[str, Any]:
    added = await _call(_store(request).assign, body.user_id, body.patient_id,
                        actor_user_id=p.user_id)
    return {"assigned": True, "new": added}


@router.delete("/admin/assignments", summary="Remove an assignment (admin)")
async def unassign(request: Request, body: AssignmentIn, p: Admin) -> dict[str, Any]:
    return {"removed": await _call(_store(request).unassign, body.user_id, body.patient_id,
                                   actor_user_id=p.user_id)}


# --------------------------------------------------------------------------- live


@router.websocket("/patients/{patient_id}/live")
async def live(ws: WebSocket, patient_id: int) -> None:
    """Labelled beats, events and alerts of one patient as JSON text messages.

    Authenticate with ``Authorization: Bearer`` or, for browsers, ``?token=``. A subscriber
    that cannot keep up loses the oldest messages and is closed (1013) if it keeps falling
    behind.
    """
    engine = ws.app.state.engine
    if await accept_reader(ws, patient_id) is None:
        return
    sub = engine.subscribe(patient_id)

    async def watch_client() -> None:
        while (await ws.receive())["type"] != "websocket.disconnect":
            pass

    watcher = asyncio.create_task(watch_client())
    try:
        while True:
            getter = asyncio.create_task(sub.get())
            done, _ = await asyncio.wait({getter, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if watcher in done:
                getter.cancel()
                break
            text = getter.result()
            if text is None:
                with contextlib.suppress(Exception):
                    await ws.close(code=1013, reason="subscriber too slow")
                break
            await ws.send_text(text)
    except Exception:  # the client went away mid-send
        pass
    finally:
        engine.unsubscribe(sub)
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await watcher

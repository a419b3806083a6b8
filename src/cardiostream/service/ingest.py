"""The device WebSocket ``/ingest`` (docs/protocol.md): handshake auth, frames, acks, errors.

Each connection is independent: its own rate limit, its own outbound queue (acks are
cumulative, so only the latest per stream is kept; a device that does not read its acks slows
nobody else), and any malformed input closes only that connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from fastapi import WebSocket
from starlette.responses import Response
from starlette.websockets import WebSocketDisconnect, WebSocketState

from .auth import TokenBucket, bearer_token, verify
from .engine import MonitorEngine
from .protocol import Ack, ErrorCode, ErrorMessage, ProtocolError, decode_frame

__all__ = ["ingest_endpoint"]

log = logging.getLogger("cardiostream.service")


class _Outbox:
    """Outbound messages of one device connection, sent by its own task."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.acks: dict[int, int] = {}
        self.errors: deque[ErrorMessage] = deque(maxlen=64)
        self.wake = asyncio.Event()
        self.task = asyncio.create_task(self._run())
        self.closed = False

    def send_ack(self, stream_id: int, seq: int) -> None:
        self.acks[stream_id] = max(seq, self.acks.get(stream_id, -1))
        self.wake.set()

    def send_error(self, message: ErrorMessage) -> None:
        self.errors.append(message)
        self.wake.set()

    async def _run(self) -> None:
        while not self.closed:
            await self.wake.wait()
            self.wake.clear()
            await self._send_pending()

    async def _send_pending(self) -> None:
        while self.errors:
            await self.ws.send_text(self.errors.popleft().to_json())
        acks, self.acks = self.acks, {}
        for sid, seq in acks.items():
            await self.ws.send_text(Ack(sid, seq).to_json())

    async def close(self) -> None:
        self.closed = True
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task


async def _deny(ws: WebSocket, status: int) -> None:
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(Response(status_code=status))
    else:  # servers without the denial extension answer 403 to a close before accept
        await ws.close(code=1008)


async def _fail(ws: WebSocket, outbox: _Outbox, err: ProtocolError) -> bool:
    """Send the error (after pending acks); close when its code says so. True: closed."""
    with contextlib.suppress(Exception):
        await outbox._send_pending()
        await ws.send_text(err.to_message().to_json())
    if err.close_code is None:
        return False
    with contextlib.suppress(Exception):
        await ws.close(code=err.close_code, reason=str(err.code))
    return True


async def ingest_endpoint(ws: WebSocket) -> None:
    """Handle one device connection (see the module docstring)."""
    app = ws.app
    engine: MonitorEngine = app.state.engine
    store = app.state.store
    settings = app.state.settings
    principal = await verify(store, bearer_token(ws.headers.get("authorization")))
    if principal is None:
        await _deny(ws, 401)
        return
    if principal.kind != "device" or principal.device_id is None or principal.patient_id is None:
        await _deny(ws, 403)
        return
    device = await asyncio.to_thread(store.get_device, principal.device_id)
    patient = await asyncio.to_thread(store.get_patient, principal.patient_id)
    await ws.accept()
    outbox = _Outbox(ws)
    bucket = TokenBucket(settings.rate_per_s, settings.rate_burst)
    pid, did = patient.id, device.id
    try:
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                break
            data = msg.get("bytes")
            if data is None:
                err = ProtocolError(ErrorCode.NOT_BINARY, "frames are binary messages")
                if await _fail(ws, outbox, err):
                    break
                continue
            if not bucket.take():
                err = ProtocolError(ErrorCode.RATE_LIMITED,
                                    f"more than {settings.rate_per_s:g} messages/s")
                if await _fail(ws, outbox, err):
                    break
                continue
            try:
                frame = decode_frame(data, settings.limits)
            except ProtocolError as e:
                if e.patient_id is not None and (e.patient_id != patient.external_id
                                                 or e.device_id != device.serial):
                    e = ProtocolError(ErrorCode.FORBIDDEN, "frame ids are not the token's",
                                      seq=e.seq, stream_id=e.stream_id)
                if await _fail(ws, outbox, e):
                    break
                engine.reject(outbox, pid, did, e)
                continue
            if frame.patient_id != patient.external_id or frame.device_id != device.serial:
                err = ProtocolError(
                    ErrorCode.FORBIDDEN,
                    f"this token may ingest only for patient {patient.external_id!r} with "
                    f"device {device.serial!r}", seq=frame.seq, stream_id=frame.stream_id)
                await _fail(ws, outbox, err)
                break
            try:
                await engine.ingest(outbox, pid, did, frame)
            except ProtocolError as e:
                if await _fail(ws, outbox, e):
                    break
            except Exception:
                log.exception("ingest failed for patient %s", pid)
                await _fail(ws, outbox, ProtocolError(ErrorCode.INTERNAL_ERROR, "server error",
                                                      seq=frame.seq, stream_id=frame.stream_id))
                break
    except WebSocketDisconnect:
        pass
    finally:
        await outbox.close()
        if ws.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(Exception):
                await outbox._send_pending()

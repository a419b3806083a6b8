"""Async WebSocket client of a simulated device (``websockets`` library, asyncio API).

One :class:`DeviceClient` streams one device's events (:func:`cardiostream.simulate.device.impair`)
to ``ws://host/ingest``: it paces frames by their stream time divided by ``speed``, keeps every
frame in a :class:`~cardiostream.simulate.device.ResendBuffer` until the server's cumulative ack
covers it, reconnects with exponential backoff (full jitter) after a drop, and on every
(re)connect first re-sends all unacknowledged frames in sequence order (flagged RETRANSMIT when
sent before). Close codes in :data:`~cardiostream.service.protocol.FATAL_CLOSE_CODES` and HTTP
401/403/404 at the handshake stop the device instead: resending would fail again.

The device token goes in the handshake as ``Authorization: Bearer <token>``. Compression
(permessage-deflate) is not offered: ECG integers compress poorly and it costs server CPU.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidStatus,
    InvalidURI,
)

from ..errors import check_param
from ..service.protocol import (
    FATAL_CLOSE_CODES,
    Ack,
    ErrorMessage,
    FrameLimits,
    ProtocolError,
    encode_frame,
    parse_server_message,
)
from .device import Disconnect, Dropped, Event, ResendBuffer, Send

__all__ = ["ClientConfig", "DeviceClient", "DeviceStats", "stream_device"]

_FATAL_HTTP = frozenset({400, 401, 403, 404})


@dataclass(frozen=True)
class ClientConfig:
    """Network behaviour shared by the simulated devices.

    Attributes
    ----------
    url : str
        The ingest endpoint, e.g. ``ws://127.0.0.1:8000/ingest``.
    speed : float
        Stream time runs ``speed`` times faster than wall time (``math.inf``: no pacing).
    resend_capacity : int
        Frames kept for resending (oldest evicted beyond it).
    backoff_initial_s, backoff_max_s : float
        Reconnect delay after the k-th consecutive failure: ``min(max, initial * 2**(k-1))``
        times a uniform factor in [0.5, 1] (wall seconds).
    max_connect_failures : int or None
        Consecutive failed connection attempts before the device gives up.
    open_timeout_s : float
        Handshake timeout.
    drain_timeout_s : float
        After the last frame, how long to wait (wall seconds) for the acks of what is buffered.
    limits : FrameLimits or None
        When set, each frame is checked against them before sending (costs a decode).
    seed : int
        Seed of the backoff jitter.
    max_errors_kept : int
        Error messages kept in :attr:`DeviceStats.errors` (all are counted).
    """

    url: str
    speed: float = 1.0
    resend_capacity: int = 4096
    backoff_initial_s: float = 0.25
    backoff_max_s: float = 10.0
    max_connect_failures: int | None = 20
    open_timeout_s: float = 10.0
    drain_timeout_s: float = 10.0
    limits: FrameLimits | None = None
    seed: int = 0
    max_errors_kept: int = 100

    def __post_init__(self) -> None:
        check_param(
            "url",
            self.url,
            isinstance(self.url, str) and self.url.startswith(("ws://", "wss://")),
            "a ws:// or wss:// URL",
        )
        check_param("speed", self.speed, self.speed > 0, "positive (math.inf: no pacing)")
        for name in ("backoff_initial_s", "backoff_max_s", "open_timeout_s", "drain_timeout_s"):
            v = getattr(self, name)
            check_param(name, v, math.isfinite(v) and v >= 0, "a non-negative number of seconds")
        check_param(
            "max_connect_failures",
            self.max_connect_failures,
            self.max_connect_failures is None or self.max_connect_failures >= 1,
            "None or a positive int",
        )


@dataclass
class DeviceStats:
    """What one simulated device did.

    ``frames`` counts frames produced (sent or dropped); ``sent`` counts messages, resends
    included; ``acked`` is the last cumulative ack; ``unacked_at_end`` frames were still
    buffered when the device stopped; ``fatal`` says why it stopped early (``None``: it ran to
    the end).
    """

    patient_id: str
    device_id: str
    stream_id: int
    frames: int = 0
    dropped: int = 0
    lost_in_flight: int = 0
    sent: int = 0
    resent: int = 0
    evicted: int = 0
    connects: int = 0
    connect_failures: int = 0
    disconnects: int = 0
    unexpected_closes: int = 0
    last_seq: int = -1
    acked: int = -1
    unacked_at_end: int = 0
    n_errors: int = 0
    bad_messages: int = 0
    errors: list[ErrorMessage] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str = ""
    fatal: str | None = None

    @property
    def complete(self) -> bool:
        """Ran to the end and every frame it sent was acknowledged."""
        return self.fatal is None and self.unacked_at_end == 0


class DeviceClient:
    """One device: paces its events, sends frames, handles acks, reconnects and resends.

    Parameters
    ----------
    patient_id, device_id : str
        For the statistics (the frames carry their own ids).
    stream_id : int
        The stream whose acks count.
    config : ClientConfig
    token : str, optional
        Device token, sent as ``Authorization: Bearer <token>``.
    """

    def __init__(
        self,
        patient_id: str,
        device_id: str,
        stream_id: int,
        config: ClientConfig,
        token: str | None = None,
    ) -> None:
        self.config = config
        self.token = token
        self.stats = DeviceStats(patient_id, device_id, stream_id)
        self._buffer = ResendBuffer(config.resend_capacity)
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._progress = asyncio.Event()
        self._offline_until = -math.inf  # stream time
        self._stream_now = 0.0
        self._next_attempt = 0.0  # loop time
        self._failures = 0
        self._aborting = False
        self._rng = random.Random(config.seed)
        self._t0 = 0.0

    @property
    def buffered(self) -> int:
        """Frames waiting for an ack."""
        return len(self._buffer)

    async def run(self, events: Iterable[Event]) -> DeviceStats:
        """Stream ``events`` (in stream-time order), then wait for the last acks and close."""
        loop = asyncio.get_running_loop()
        self._t0 = loop.time()
        try:
            for ev in events:
                if self.stats.fatal is not None:
                    break
                await self._wait_until(ev.due_s)
                self._stream_now = max(self._stream_now, ev.due_s)
                if isinstance(ev, Send):
                    await self._on_send(ev)
                elif isinstance(ev, Dropped):
                    self.stats.frames += 1
                    self.stats.dropped += 1
                    self.stats.last_seq = max(self.stats.last_seq, ev.seq)
                elif isinstance(ev, Disconnect):
                    await self._disconnect(ev)
            if self.stats.fatal is None:
                await self._drain()
        finally:
            self.stats.unacked_at_end = len(self._buffer)
            self.stats.evicted = self._buffer.n_evicted
            await self._close()
        return self.stats

    # -- pacing

    async def _wait_until(self, due_s: float) -> None:
        if math.isinf(self.config.speed):
            await asyncio.sleep(0)
            return
        delay = self._t0 + due_s / self.config.speed - asyncio.get_running_loop().time()
        await asyncio.sleep(max(0.0, delay))

    # -- sending

    async def _on_send(self, ev: Send) -> None:
        frame = ev.frame
        self.stats.frames += 1
        self.stats.last_seq = max(self.stats.last_seq, frame.seq)
        self._buffer.add(frame)
        if ev.lost:  # the device believes it sent it; the network lost it
            self._buffer.mark_sent(frame.seq)
            self.stats.lost_in_flight += 1
            return
        if self._ws is None:
            await self._try_connect()  # sends the backlog, this frame included
        else:
            await self._transmit(frame.seq)

    async def _transmit(self, seq: int) -> None:
        ws = self._ws
        frame = self._buffer.frame_to_send(seq)
        if ws is None or frame is None:
            return
        try:
            data = encode_frame(frame, self.config.limits)
        except ProtocolError as e:
            self.stats.fatal = f"frame {seq} violates the limits: {e}"
            return
        before = self._buffer.mark_sent(seq)
        try:
            await ws.send(data)
        except ConnectionClosed:
            self._on_closed(ws)
            return
        self.stats.sent += 1
        if before:
            self.stats.resent += 1

    async def _send_backlog(self) -> None:
        for seq in self._buffer.unacked():
            if self._ws is None or self.stats.fatal is not None:
                return
            await self._transmit(seq)

    # -- connection management

    def _backoff(self) -> float:
        c = self.config
        base = min(c.backoff_max_s, c.backoff_initial_s * 2 ** max(0, self._failures - 1))
        return base * self._rng.uniform(0.5, 1.0)

    def _fail_attempt(self, why: str) -> None:
        self._failures += 1
        self.stats.connect_failures += 1
        limit = self.config.max_connect_failures
        if limit is not None and self._failures >= limit:
            self.stats.fatal = f"gave up after {self._failures} failed connection attempts: {why}"
        self._next_attempt = asyncio.get_running_loop().time() + self._backoff()

    async def _try_connect(self) -> bool:
        """Connect unless offline or backing off; on success, re-send the backlog."""
        loop = asyncio.get_running_loop()
        if self._stream_now < self._offline_until or loop.time() < self._next_attempt:
            return False
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else None
        try:
            ws = await connect(
                self.config.url,
                additional_headers=headers,
                compression=None,
                proxy=None,
                open_timeout=self.config.open_timeout_s,
                close_timeout=2.0,
                max_size=2**16,
                user_agent_header="cardiostream-simulator",
            )
        except InvalidURI as e:
            self.stats.fatal = f"invalid URL: {e}"
            return False
        except InvalidStatus as e:
            status = e.response.status_code
            if status in _FATAL_HTTP:
                self.stats.fatal = f"handshake refused with HTTP {status}"
                self.stats.connect_failures += 1
            else:
                self._fail_attempt(f"HTTP {status}")
            return False
        except (OSError, TimeoutError, InvalidHandshake) as e:
            self._fail_attempt(f"{type(e).__name__}: {e}")
            return False
        self._failures = 0
        self._ws = ws
        self.stats.connects += 1
        self._reader = asyncio.create_task(self._read(ws))
        await self._send_backlog()
        return True

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for message in ws:
                try:
                    m = parse_server_message(message)
                except ProtocolError:
                    self.stats.bad_messages += 1
                    continue
                if isinstance(m, Ack):
                    if m.stream_id == self.stats.stream_id:
                        self._buffer.ack(m.seq)
                        self.stats.acked = self._buffer.acked
                        self._progress.set()
                else:
                    self.stats.n_errors += 1
                    if len(self.stats.errors) < self.config.max_errors_kept:
                        self.stats.errors.append(m)
        except ConnectionClosed:
            pass
        finally:
            self._on_closed(ws)

    def _on_closed(self, ws: ClientConnection) -> None:
        if self._ws is not ws:
            return
        self._ws = None
        self._progress.set()
        code = ws.close_code
        self.stats.close_code = code
        self.stats.close_reason = ws.close_reason or ""
        if self._aborting:
            return
        self.stats.unexpected_closes += 1
        if code in FATAL_CLOSE_CODES:
            self.stats.fatal = f"server closed the connection: {code} {self.stats.close_reason}"
            return
        self._next_attempt = asyncio.get_running_loop().time() + self._backoff()

    async def _disconnect(self, ev: Disconnect) -> None:
        """Drop the connection abruptly (no close handshake) and stay offline a while."""
        self.stats.disconnects += 1
        self._offline_until = ev.due_s + ev.offline_s
        ws, reader = self._ws, self._reader
        if ws is not None:
            self._aborting = True
            try:
                ws.transport.abort()
                if reader is not None:
                    await reader
            finally:
                self._aborting = False
            self._ws = None

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        if self._offline_until > self._stream_now:  # still offline at the end of the stream
            await self._wait_until(self._offline_until)
            self._stream_now = self._offline_until
        deadline = loop.time() + self.config.drain_timeout_s
        while len(self._buffer) and self.stats.fatal is None:
            now = loop.time()
            if now >= deadline:
                return
            if self._ws is None:
                if now < self._next_attempt:
                    await asyncio.sleep(min(self._next_attempt, deadline) - now)
                else:
                    await self._try_connect()
                continue
            self._progress.clear()
            try:
                await asyncio.wait_for(self._progress.wait(), timeout=deadline - now)
            except TimeoutError:
                return

    async def _close(self) -> None:
        ws, reader = self._ws, self._reader
        if ws is not None:
            self._aborting = True
            try:
                await ws.close(1000, "end of stream")
            except Exception:  # closing is best effort
                ws.transport.abort()
        if reader is not None and not reader.done():
            try:
                await asyncio.wait_for(reader, timeout=5.0)
            except TimeoutError:
                reader.cancel()
        self._ws = None


async def stream_device(
    events: Iterable[Event],
    patient_id: str,
    device_id: str,
    stream_id: int,
    config: ClientConfig,
    token: str | None = None,
) -> DeviceStats:
    """Run one :class:`DeviceClient` over ``events`` and return its statistics."""
    return await DeviceClient(patient_id, device_id, stream_id, config, token).run(events)

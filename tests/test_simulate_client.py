"""The simulator's WebSocket client against a tiny in-test ``websockets`` server that acks.

The server decodes frames, keeps one SequenceTracker per stream across connections (as the
real service must), records what it delivers and sends cumulative acks. No FastAPI, no timing
assertions; streams run with ``speed=inf`` (or a large factor) so tests stay fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import numpy as np
import pytest

pytest.importorskip("websockets", reason="the simulator client needs cardiostream[serve]")

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from cardiostream.service.protocol import (
    Ack,
    ErrorCode,
    Frame,
    ProtocolError,
    SequenceTracker,
    decode_frame,
)
from cardiostream.simulate import (
    Impairments,
    SourceSignal,
    device_frames,
    impair,
    load_source,
)
from cardiostream.simulate.client import ClientConfig, DeviceClient, DeviceStats

Key = tuple[str, str, int]


class FakeIngest:
    """A minimal ingest server: decode, track sequences per stream, deliver, ack."""

    def __init__(
        self,
        *,
        window: int = 0,
        max_hold_s: float | None = None,
        token: str | None = None,
        drop_first_connection_after: int | None = None,
        drop_code: int = 1013,
        allowed_patients: set[str] | None = None,
    ) -> None:
        self.window = window
        self.max_hold_s = max_hold_s
        self.token = token
        self.drop_after = drop_first_connection_after
        self.drop_code = drop_code
        self.allowed = allowed_patients
        self.trackers: dict[Key, SequenceTracker[Frame]] = {}
        self.delivered: dict[Key, list[int]] = defaultdict(list)
        self.frames: dict[Key, list[Frame]] = defaultdict(list)
        self.gaps: dict[Key, list[tuple[int, int, str]]] = defaultdict(list)
        self.retransmit_flags = 0
        self.connections = 0
        self.auth_headers: list[str | None] = []
        self.live: dict[Key, ServerConnection] = {}

    def process_request(self, connection: ServerConnection, request: Any) -> Any:
        auth = request.headers.get("Authorization")
        self.auth_headers.append(auth)
        if self.token is not None and auth != f"Bearer {self.token}":
            return connection.respond(HTTPStatus.UNAUTHORIZED, "bad token\n")
        return None

    def _record(self, key: Key, events: tuple[Any, ...]) -> None:
        for e in events:
            if hasattr(e, "item"):
                self.delivered[key].append(e.seq)
                self.frames[key].append(e.item)
            else:
                self.gaps[key].append((e.first, e.last, e.reason))

    def tracker(self, key: Key) -> SequenceTracker[Frame]:
        if key not in self.trackers:
            self.trackers[key] = SequenceTracker(window=self.window, max_hold_s=self.max_hold_s)
        return self.trackers[key]

    async def handler(self, ws: ServerConnection) -> None:
        self.connections += 1
        first = self.connections == 1
        n = 0
        with contextlib.suppress(ConnectionClosed):
            async for message in ws:
                n += 1
                if first and self.drop_after is not None and n > self.drop_after:
                    await ws.close(self.drop_code, "test drop")
                    return
                now = time.monotonic()
                try:
                    frame = decode_frame(message)
                except ProtocolError as e:
                    await ws.send(e.to_message().to_json())
                    if e.close_code is not None or e.patient_id is None:
                        await ws.close(e.close_code or 1002, str(e.code))
                        return
                    key = (e.patient_id, e.device_id or "", e.stream_id or 0)
                    result = self.tracker(key).reject(e.seq or 0, now)
                else:
                    if self.allowed is not None and frame.patient_id not in self.allowed:
                        err = ProtocolError(ErrorCode.FORBIDDEN, "not your patient")
                        await ws.send(err.to_message().to_json())
                        await ws.close(1008, "forbidden")
                        return
                    if frame.flags & 1:
                        self.retransmit_flags += 1
                    key = (frame.patient_id, frame.device_id, frame.stream_id)
                    result = self.tracker(key).push(frame.seq, frame, now)
                self.live[key] = ws
                self._record(key, result.released)
                if result.ack >= 0:
                    await ws.send(Ack(key[2], result.ack).to_json())

    async def expire_loop(self) -> None:
        """Give up on holes after max_hold_s even when the device is silent."""
        while True:
            await asyncio.sleep(0.01)
            for key, t in self.trackers.items():
                released = t.expire(time.monotonic())
                if released:
                    self._record(key, released)
                    ws = self.live.get(key)
                    if ws is not None and t.ack >= 0:
                        with contextlib.suppress(ConnectionClosed):
                            await ws.send(Ack(key[2], t.ack).to_json())


async def with_server(
    ingest: FakeIngest, body: Callable[[str], Awaitable[Any]], path: str = "/ingest"
) -> Any:
    async with serve(
        ingest.handler, "127.0.0.1", 0, process_request=ingest.process_request, compression=None
    ) as server:
        expirer = asyncio.create_task(ingest.expire_loop())
        try:
            return await body(f"ws://127.0.0.1:{port_of(server)}{path}")
        finally:
            expirer.cancel()


def port_of(server: Server) -> int:
    return int(next(iter(server.sockets)).getsockname()[1])


def config(url: str, **kw: Any) -> ClientConfig:
    base: dict[str, Any] = {
        "url": url,
        "speed": math.inf,
        "drain_timeout_s": 5.0,
        "backoff_initial_s": 0.01,
        "backoff_max_s": 0.05,
    }
    base.update(kw)
    return ClientConfig(**base)


@pytest.fixture(scope="module")
def src() -> SourceSignal:
    return load_source("synthetic:pvc=0.1", 130.0, duration_s=40.0, seed=7)


def run_device(
    ingest: FakeIngest,
    source: SourceSignal,
    imp: Impairments | None = None,
    *,
    token: str | None = None,
    patient: str = "p-1",
    stream_id: int = 77,
    **cfg: Any,
) -> DeviceStats:
    async def body(url: str) -> DeviceStats:
        events = impair(device_frames(source, patient, "d-1", stream_id=stream_id), imp)
        return await DeviceClient(patient, "d-1", stream_id, config(url, **cfg), token).run(events)

    return asyncio.run(with_server(ingest, body))


def n_frames(source: SourceSignal) -> int:
    return -(-source.n_samples // 73)


def test_clean_stream(src: SourceSignal) -> None:
    ingest = FakeIngest()
    stats = run_device(ingest, src, token="tok-1")
    n = n_frames(src)
    key = ("p-1", "d-1", 77)
    assert ingest.delivered[key] == list(range(n)) and ingest.gaps[key] == []
    np.testing.assert_array_equal(
        np.concatenate([f.samples_uv for f in ingest.frames[key]]), src.samples_uv
    )
    assert stats.complete and stats.fatal is None
    assert (stats.frames, stats.sent, stats.resent, stats.dropped) == (n, n, 0, 0)
    assert stats.acked == n - 1 and stats.connects == 1 and stats.unacked_at_end == 0
    assert stats.close_code == 1000
    assert ingest.auth_headers == ["Bearer tok-1"]


def test_paced_stream_runs(src: SourceSignal) -> None:
    short = src.window(0.0, 3.0)
    stats = run_device(FakeIngest(), short, speed=300.0)
    assert stats.complete and stats.sent == n_frames(short)


def test_impairments_lose_nothing_but_dropped_frames(src: SourceSignal) -> None:
    """Drops become gaps; disconnects, frames lost in flight and reordering lose nothing:
    every frame that left the device is delivered exactly once, in order."""
    imp = Impairments(
        jitter_ms=2.0,
        drop_rate=0.05,
        reorder_rate=0.05,
        disconnect_every_s=6.0,
        offline_s=1.0,
        lost_in_flight=2,
        seed=2,
    )
    ingest = FakeIngest(window=4, max_hold_s=0.05)
    stats = run_device(ingest, src, imp)
    key = ("p-1", "d-1", 77)
    events = list(impair(device_frames(src, "p-1", "d-1", stream_id=77), imp))
    dropped = {e.seq for e in events if type(e).__name__ == "Dropped"}
    n = n_frames(src)
    assert dropped and stats.dropped == len(dropped)
    assert stats.disconnects >= 3 and stats.lost_in_flight > 0 and stats.resent > 0
    assert ingest.retransmit_flags > 0 and ingest.connections >= 4
    delivered = ingest.delivered[key]
    assert delivered == sorted(set(range(n)) - dropped)  # once each, in order
    gap_seqs = {s for a, b, _ in ingest.gaps[key] for s in range(a, b + 1)}
    assert gap_seqs == {d for d in dropped if d < max(delivered)}
    assert stats.complete and stats.acked == ingest.trackers[key].ack


def test_server_close_is_retried(src: SourceSignal) -> None:
    ingest = FakeIngest(drop_first_connection_after=20, drop_code=1013)
    stats = run_device(ingest, src)
    assert stats.complete and stats.connects == 2 and stats.unexpected_closes == 1
    assert ingest.delivered[("p-1", "d-1", 77)] == list(range(n_frames(src)))


def test_fatal_close_stops_the_device(src: SourceSignal) -> None:
    ingest = FakeIngest(allowed_patients={"someone-else"})
    stats = run_device(ingest, src)
    assert stats.fatal is not None and "1008" in stats.fatal and not stats.complete
    assert stats.connects == 1 and ingest.connections == 1  # no reconnect loop
    assert [e.code for e in stats.errors] == [ErrorCode.FORBIDDEN]
    assert stats.close_code == 1008 and stats.close_reason == "forbidden"


def test_bad_token_is_refused_at_the_handshake(src: SourceSignal) -> None:
    ingest = FakeIngest(token="right")
    stats = run_device(ingest, src, token="wrong")
    assert stats.fatal is not None and "401" in stats.fatal
    assert ingest.connections == 0 and len(ingest.auth_headers) == 1


def test_rejected_frame_is_a_gap_and_the_stream_goes_on() -> None:
    x = np.zeros(73 * 6, dtype=np.int32)
    x[73 * 2 + 5] = 250_000  # 250 mV in frame 2: value_out_of_range, not fatal
    source = SourceSignal(x, 130.0, "spike")
    ingest = FakeIngest()
    stats = run_device(ingest, source)
    key = ("p-1", "d-1", 77)
    assert ingest.delivered[key] == [0, 1, 3, 4, 5]
    assert ingest.gaps[key] == [(2, 2, "rejected")]
    assert [(e.code, e.seq) for e in stats.errors] == [(ErrorCode.VALUE_OUT_OF_RANGE, 2)]
    assert stats.complete and stats.acked == 5 and stats.connects == 1


def test_device_side_limits_refuse_to_send() -> None:
    from cardiostream.service.protocol import DEFAULT_LIMITS

    x = np.zeros(73 * 3, dtype=np.int32)
    x[100] = 250_000
    ingest = FakeIngest()
    stats = run_device(ingest, SourceSignal(x, 130.0, "spike"), limits=DEFAULT_LIMITS)
    assert stats.fatal is not None and "value_out_of_range" in stats.fatal


def test_unreachable_server_gives_up(src: SourceSignal) -> None:
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = config(f"ws://127.0.0.1:{port}/ingest", max_connect_failures=3, open_timeout_s=1.0)
    events = impair(device_frames(src.window(0.0, 2.0), "p", "d"))
    stats = asyncio.run(DeviceClient("p", "d", 0, cfg).run(events))
    assert stats.fatal is not None and "3 failed" in stats.fatal
    assert stats.connect_failures == 3 and stats.connects == 0 and stats.unacked_at_end > 0


def test_many_devices_concurrently(src: SourceSignal) -> None:
    ingest = FakeIngest()
    short = src.window(0.0, 10.0)

    async def body(url: str) -> list[DeviceStats]:
        clients = [
            DeviceClient(f"p-{i}", "d", i, config(url)).run(
                impair(device_frames(short, f"p-{i}", "d", stream_id=i))
            )
            for i in range(8)
        ]
        return list(await asyncio.gather(*clients))

    stats = asyncio.run(with_server(ingest, body))
    n = n_frames(short)
    assert all(s.complete for s in stats)
    assert all(ingest.delivered[(f"p-{i}", "d", i)] == list(range(n)) for i in range(8))


def test_config_validation() -> None:
    from cardiostream.errors import InvalidParameterError

    for kw in (
        {"url": "http://x"},
        {"url": "ws://x", "speed": 0},
        {"url": "ws://x", "backoff_initial_s": -1},
        {"url": "ws://x", "max_connect_failures": 0},
    ):
        with pytest.raises(InvalidParameterError):
            ClientConfig(**kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- many patients, CLI


def test_simulation_of_several_patients() -> None:
    from cardiostream.simulate import SimulationConfig, plan_patients, simulate

    ingest = FakeIngest()

    async def body(url: str) -> Any:
        cfg = SimulationConfig(
            url=url,
            patients=4,
            sources=("synthetic", "synthetic:pvc=0.2,hr=95"),
            duration_s=8.0,
            speed=math.inf,
            token="tok-{patient}",
            ramp_s=0.0,
            t_start_ns=10**18,
            client={"drain_timeout_s": 5.0},
        )
        assert [p.token for p in plan_patients(cfg)] == [f"tok-sim-{i:04d}" for i in range(4)]
        return await simulate(cfg)

    report = asyncio.run(with_server(ingest, body))
    assert report.ok and report.totals()["complete"] == 4
    assert sorted(ingest.auth_headers) == [f"Bearer tok-sim-{i:04d}" for i in range(4)]
    per_patient = {k[0]: v for k, v in ingest.delivered.items()}
    assert sorted(per_patient) == [f"sim-{i:04d}" for i in range(4)]
    n = -(-8 * 130 // 73)
    assert all(v == list(range(n)) for v in per_patient.values())
    first = {k[0]: v[0] for k, v in ingest.frames.items()}
    assert all(f.t0_ns == 10**18 and f.fs_mhz == 130_000 for f in first.values())
    # patients 0 and 2 share a source spec but not a signal (different seeds)
    signal = {k[0]: np.concatenate([f.samples_uv for f in v]) for k, v in ingest.frames.items()}
    assert not np.array_equal(signal["sim-0000"], signal["sim-0002"])
    text = report.summary()
    assert "4 devices" in text and "4 complete" in text
    d = report.to_dict()
    assert d["totals"]["frames"] == 4 * n and len(d["devices"]) == 4


@contextlib.contextmanager
def threaded_server(ingest: FakeIngest) -> Any:
    """The fake server on its own event loop in a thread (for synchronous callers)."""
    import threading

    loop = asyncio.new_event_loop()
    started: asyncio.Future[str] = loop.create_future()
    stop = asyncio.Event()

    async def main() -> None:
        async def body(url: str) -> None:
            started.set_result(url)
            await stop.wait()

        await with_server(ingest, body)

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    url = asyncio.run_coroutine_threadsafe(asyncio.wait_for(asyncio.shield(started), 10), loop)
    try:
        yield url.result(timeout=10)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
        loop.close()


def test_cli_command(tmp_path: Any) -> None:
    import json

    import typer
    from typer.testing import CliRunner

    from cardiostream.simulate.cli import register

    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # keep "simulate" a named sub-command
    ingest = FakeIngest(window=4, max_hold_s=0.05)
    out = tmp_path / "report.json"
    with threaded_server(ingest) as url:
        result = CliRunner().invoke(
            app,
            [
                "simulate",
                "--url",
                url,
                "--patients",
                "3",
                "--source",
                "synthetic:pvc=0.1",
                "--duration",
                "6",
                "--speed",
                "0",
                "--drop-rate",
                "0.05",
                "--disconnect-every",
                "2",
                "--offline",
                "0.5",
                "--lost-in-flight",
                "1",
                "--ramp",
                "0",
                "--json",
                str(out),
            ],
        )
    assert result.exit_code == 0, result.output
    assert "3 devices" in result.output and "3 complete" in result.output
    report = json.loads(out.read_text())
    assert report["totals"]["complete"] == 3 and report["totals"]["disconnects"] > 0
    assert len(ingest.delivered) == 3


def test_cli_bad_source() -> None:
    import typer
    from typer.testing import CliRunner

    from cardiostream.simulate.cli import register

    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    result = CliRunner().invoke(app, ["simulate", "--url", "ws://x/ingest", "--source", "wav:1"])
    assert result.exit_code == 1 and "source" in result.output

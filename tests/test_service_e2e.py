"""End to end: a real uvicorn server and the simulator's DeviceClient with disconnects and
re-sending (0 beats lost or duplicated); MIT-BIH 119 live labels equal offline labels;
the engine on PostgreSQL."""

from __future__ import annotations

import asyncio
import math
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from cardiostream.service.app import create_app
from cardiostream.service.engine import MonitorEngine
from cardiostream.simulate import Impairments, SourceSignal, device_frames, impair
from cardiostream.simulate.client import ClientConfig, DeviceClient
from cardiostream.store import Store
from test_service_engine import (
    FS,
    Sink,
    classifier,
    feed,
    frames_of,
    make_world,
    offline_labels,
    settings,
    synthetic_uv,
)

T0 = 1_700_000_000_000_000_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_uvicorn_with_simulated_devices_disconnects_and_resends(tmp_path: Path) -> None:
    uvicorn = pytest.importorskip("uvicorn")
    store = Store(f"sqlite:///{tmp_path / 'e2e.db'}")
    store.migrate()
    worlds = make_world(store, 2)
    tokens = [store.create_device_token(w.device).plaintext for w in worlds]
    app = create_app(settings(idle_timeout_s=1.0), store=store, classifier=classifier())
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           ws_per_message_deflate=False))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    signals = [synthetic_uv(60.0, seed=11 + i) for i in range(2)]
    imp = Impairments(disconnect_every_s=15.0, offline_s=2.0, lost_in_flight=3, seed=2)

    async def run_all():
        cfg = ClientConfig(url=f"ws://127.0.0.1:{port}/ingest", speed=math.inf,
                           backoff_initial_s=0.05, backoff_max_s=0.2)
        jobs = []
        for w, tok, x in zip(worlds, tokens, signals, strict=True):
            src = SourceSignal(x, FS, "test")
            events = impair(device_frames(src, w.ext, w.serial, stream_id=5, t_start_ns=T0), imp)
            jobs.append(DeviceClient(w.ext, w.serial, 5, cfg, tok).run(events))
        return await asyncio.gather(*jobs)

    try:
        stats = asyncio.run(run_all())
        for _ in range(200):  # idle streams are finalised: their last beats come out
            if app.state.engine.counters["streams_closed"] == 2:
                break
            time.sleep(0.05)
    finally:
        server.should_exit = True
        th.join(timeout=20)
    for s in stats:
        assert s.complete, s
        assert s.disconnects >= 1 and s.resent >= 1
    for w, x in zip(worlds, signals, strict=True):
        peaks, labels = offline_labels(classifier(), x)
        beats = store.beats(w.patient, 0, 2**62)
        samples = [b.sample_index for b in beats]
        assert len(samples) == len(set(samples))  # 0 duplicated
        assert samples == peaks.tolist()  # 0 lost: re-sent frames fill every hole
        assert [b.label for b in beats] == labels.tolist()
    store.close()


@pytest.mark.data
def test_mitdb_119_live_labels_equal_offline_labels(tmp_path: Path) -> None:
    from cardiostream.datasets import load_mitdb_record
    from cardiostream.errors import DataNotFoundError
    from cardiostream.signal import resample

    try:
        rec = load_mitdb_record("119")
    except DataNotFoundError as e:
        pytest.skip(f"MIT-BIH not available: {e}")
    x = resample(rec.lead(0)[: int(120 * rec.fs)], rec.fs, FS)
    x_uv = np.round(x * 1000).astype(np.int32)
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    store.migrate()
    (w,) = make_world(store)
    clf = classifier()

    async def main():
        eng = MonitorEngine(store, clf, settings())
        await eng.start()
        await feed(eng, w, frames_of(x_uv, w.ext, w.serial), Sink())
        await eng.stop(finalize=True)

    asyncio.run(main())
    peaks, labels = offline_labels(clf, x_uv)
    beats = store.beats(w.patient, 0, 2**62)
    assert [b.sample_index for b in beats] == peaks.tolist()
    assert [b.label for b in beats] == labels.tolist()
    store.close()


def test_engine_on_postgresql() -> None:
    psycopg = pytest.importorskip("psycopg")
    import os
    import uuid

    from psycopg.conninfo import conninfo_to_dict
    from sqlalchemy.engine import URL

    info = os.environ.get("CARDIOSTREAM_TEST_PG", "host=127.0.0.1 port=5432 user=postgres "
                          "dbname=test")
    try:
        admin = psycopg.connect(info, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as e:
        pytest.skip(f"PostgreSQL not reachable at {info!r} ({str(e).strip()[:80]})")
    schema = f"cs_svc_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    d = conninfo_to_dict(info)
    url = URL.create("postgresql+psycopg", username=d.get("user"), password=d.get("password"),
                     host=d.get("host"), port=int(d["port"]) if "port" in d else None,
                     database=d.get("dbname"), query={"options": f"-csearch_path={schema}"})
    try:
        store = Store(url)
        store.migrate()
        (w,) = make_world(store)
        x = synthetic_uv(40.0, seed=6)
        frames = frames_of(x, w.ext, w.serial)
        half = len(frames) // 2

        async def run(part, finalize):
            eng = MonitorEngine(store, classifier(), settings())
            await eng.start()
            sink = Sink()
            await feed(eng, w, part, sink)
            await eng.stop(finalize=finalize)
            return sink

        acked = asyncio.run(run(frames[:half], False)).acks[-1][1]
        asyncio.run(run(frames[acked + 1 :], True))
        peaks, _ = offline_labels(classifier(), x)
        assert [b.sample_index for b in store.beats(w.patient, 0, 2**62)] == peaks.tolist()
        store.close()
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()

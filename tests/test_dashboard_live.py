"""The dashboard's live sample feed: every sample a device delivered reaches the live view once
and in order, also when its chunk is stored (and leaves the engine's memory) between two takes
of the feed, and across a gap of lost frames."""

from __future__ import annotations

import asyncio

import numpy as np

from cardiostream.service.dashboard import _SampleCursor
from cardiostream.service.engine import MonitorEngine
from test_service_engine import (
    T0,
    Sink,
    classifier,
    frames_of,
    make_world,
    settings,
    synthetic_uv,
)

FS = 130.0


def _feed(store, frames, w, flush_every: int, take_every: int):
    """Ingest ``frames``; store closed chunks every ``flush_every`` frames (before the feed
    looks) and take from the feed after the first frame (the view subscribes; what came
    before, it reads from the read API) and then every ``take_every`` frames."""

    async def main():
        # the writer never runs by itself (flushes are explicit) and the clock stands still,
        # so no chunk is closed by age: what the feed sees is decided by this loop alone
        eng = MonitorEngine(
            store,
            classifier(),
            settings(flush_interval_s=3600.0, reorder_window=2),
            clock=lambda: 0.0,
        )
        await eng.start()
        feed = _SampleCursor(eng, store, w.patient)
        sink, got = Sink(), []
        for i, f in enumerate(frames, 1):
            await eng.ingest(sink, w.patient, w.device, f)
            if i % flush_every == 0:
                await eng.flush()
            if i == 1 or i % take_every == 0:
                got += await feed.take()
        got += await feed.take()
        await eng.stop()
        return got, feed

    return asyncio.run(main())


def _samples(batches) -> tuple[np.ndarray, np.ndarray]:
    idx = np.concatenate(
        [np.arange(b["first_sample"], b["first_sample"] + len(b["samples_uv"])) for b in batches]
    )
    val = np.concatenate([np.asarray(b["samples_uv"], np.int64) for b in batches])
    return idx, val


def test_feed_skips_no_sample_when_chunks_are_stored_between_takes(store) -> None:
    (w,) = make_world(store)
    x = synthetic_uv(30.0)
    frames = frames_of(x, w.ext, w.serial)  # 73 samples; a chunk closes every second frame
    got, feed = _feed(store, frames, w, flush_every=2, take_every=5)
    idx, val = _samples(got)
    n = sum(f.n_samples for f in frames)
    assert np.array_equal(idx, np.arange(n))  # all, once, in order
    assert np.array_equal(val, x[:n])
    assert feed.n_from_store > 0  # the store path was taken
    for b in got:  # device times follow the samples
        assert abs(b["start_ns"] - (T0 + b["first_sample"] * 1e9 / FS)) < 1e3


def test_feed_without_storage_in_between_reads_only_memory(store) -> None:
    (w,) = make_world(store)
    x = synthetic_uv(10.0, seed=4)
    frames = frames_of(x, w.ext, w.serial)
    got, feed = _feed(store, frames, w, flush_every=10**6, take_every=1)
    idx, val = _samples(got)
    assert np.array_equal(idx, np.arange(idx.size)) and idx.size == x.size
    assert np.array_equal(val, x)
    assert feed.n_from_store == 0


def test_feed_across_a_gap_sends_what_was_delivered(store) -> None:
    (w,) = make_world(store)
    x = synthetic_uv(30.0, seed=6)
    frames = frames_of(x, w.ext, w.serial)
    lost = {20, 21, 22}
    got, _ = _feed(store, [f for f in frames if f.seq not in lost], w, flush_every=3, take_every=4)
    idx, val = _samples(got)
    want = np.concatenate(
        [np.arange(f.seq * 73, f.seq * 73 + f.n_samples) for f in frames if f.seq not in lost]
    )
    assert np.all(np.diff(idx) > 0)  # in order, no duplicates
    assert np.array_equal(idx, want)
    assert np.array_equal(val, x[want])

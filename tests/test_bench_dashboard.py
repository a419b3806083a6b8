"""The dashboard benchmark's pure helpers (benchmarks/dashboard.py): sample times, which redraw
first shows a sample, samples never received, framing, percentiles. No browser, no timing."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

_BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load():
    sys.path.insert(0, str(_BENCH))
    try:
        spec = importlib.util.spec_from_file_location("bench_dashboard", _BENCH / "dashboard.py")
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules["bench_dashboard"] = mod
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.remove(str(_BENCH))


dash = _load()
T_START_NS = 1_765_000_000_000_000_000  # a wall-clock time in 2025, as time.time_ns() gives
FS = 130.0


def test_percentile_is_nearest_rank_and_handles_inf() -> None:
    assert dash.percentile([], 99) is None
    assert dash.percentile([3.0, 1.0, 2.0], 50) == 2.0
    x = np.arange(1, 101, dtype=float)
    assert dash.percentile(x, 99) == 99.0  # an observed value, not interpolated
    assert dash.percentile(x, 100) == 100.0
    assert dash.percentile([1.0, np.inf], 100) == np.inf


def test_sample_times_cover_the_window() -> None:
    start_ms = T_START_NS / 1e6
    idx, t = dash.sample_times_ms(T_START_NS, FS, 10_000, start_ms + 1000.0, start_ms + 2000.0)
    assert idx[0] == 130 and idx[-1] == 260  # 1 s and 2 s at 130 Hz, both ends included
    assert np.allclose(t, start_ms + idx * 1000.0 / FS)
    idx, _ = dash.sample_times_ms(T_START_NS, FS, 200, start_ms + 1000.0, start_ms + 2000.0)
    assert idx[-1] == 199  # not beyond the recording
    idx, _ = dash.sample_times_ms(T_START_NS, FS, 200, start_ms - 50.0, start_ms - 1.0)
    assert idx.size == 0


def test_first_draw_lags_takes_the_first_redraw_reaching_each_sample() -> None:
    s = np.array([0.0, 10.0, 20.0, 30.0])
    wall = np.array([5.0, 25.0, 40.0])  # redraws at these times
    newest = np.array([0.0, 20.0, 20.0])  # ... showing samples up to these
    lags = dash.first_draw_lags(s, wall, newest)
    assert lags[:3].tolist() == [5.0, 15.0, 5.0]
    assert lags[3] == np.inf  # no redraw reached 30
    # a redraw before anything was drawn (NaN newest) reaches nothing; order does not matter
    lags2 = dash.first_draw_lags(
        s, np.array([40.0, 1.0, 25.0, 5.0]), np.array([20.0, np.nan, 20.0, 0.0])
    )
    assert np.array_equal(lags, lags2)


def test_first_draw_lags_needs_the_sample_received_before_the_redraw() -> None:
    s = np.array([0.0, 10.0, 20.0])
    wall = np.array([30.0, 60.0])
    newest = np.array([20.0, 20.0])
    received = np.array([25.0, 45.0, np.inf])  # the second came late, the third never
    lags = dash.first_draw_lags(s, wall, newest, received)
    assert lags.tolist() == [30.0, 50.0, np.inf]


def test_first_draw_lags_rejects_mismatched_inputs() -> None:
    with pytest.raises(ValueError, match="shape"):
        dash.first_draw_lags(np.zeros(2), np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="received_ms"):
        dash.first_draw_lags(np.zeros(2), np.zeros(3), np.zeros(3), np.zeros(5))


def test_arrival_marks_received_runs_and_leaves_holes() -> None:
    start_ms = T_START_NS / 1e6
    idx = np.arange(100, 400)
    dt = 1000.0 / FS
    runs = [
        (900.0, start_ms + 73 * dt, 73),
        (950.0, start_ms + 146 * dt, 73),
        (990.0, start_ms + 292 * dt, 73),
        (995.0, start_ms + 292 * dt, 10),
    ]
    got = dash.arrival_ms(idx, T_START_NS, FS, runs)
    assert np.all(got[idx < 146] == 900.0)
    assert np.all(got[(idx >= 146) & (idx < 219)] == 950.0)
    assert np.all(np.isinf(got[(idx >= 219) & (idx < 292)]))  # a frame never received
    assert np.all(got[(idx >= 292) & (idx < 365)] == 990.0)  # the earliest receipt counts
    assert np.all(np.isinf(got[idx >= 365]))
    with pytest.raises(ValueError, match="consecutive"):
        dash.arrival_ms(np.array([1, 3]), T_START_NS, FS, runs)


def test_framing_is_the_wait_for_the_frames_last_sample() -> None:
    f = dash.framing_ms(np.array([0, 72, 73, 145, 146]), 150, FS)
    assert np.allclose(f, np.array([72, 0, 72, 0, 3]) * 1000.0 / FS)  # last frame is short


def test_lag_summary_counts_samples_never_drawn() -> None:
    rng = np.random.default_rng(0)
    lags = rng.uniform(100.0, 700.0, 1000)
    r = dash.lag_summary(lags)
    assert r["n"] == 1000 and r["n_not_drawn"] == 0
    assert r["p50_ms"] <= r["p99_ms"] <= r["max_ms"] <= 700.0
    lags[:20] = np.inf  # 2 % never drawn: p99 and max are undefined, not small
    r = dash.lag_summary(lags)
    assert r["n_not_drawn"] == 20 and r["p99_ms"] is None and r["max_ms"] is None
    assert r["p50_ms"] is not None


def test_frame_stats_from_animation_frame_times() -> None:
    t = np.arange(0.0, 1000.0 + 1e-9, 1000.0 / 60.0)
    r = dash.frame_stats(t)
    assert r["fps"] == 60.0 and r["long_frames"] == 0
    t2 = np.concatenate([t, [1200.0]])  # one 200 ms frame
    r2 = dash.frame_stats(t2)
    assert r2["long_frames"] == 1 and r2["interval_max_ms"] == pytest.approx(200.0, abs=0.1)
    assert dash.frame_stats([1.0])["fps"] is None

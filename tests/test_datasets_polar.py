"""Polar H10 CSV: real recording, device HR/RR, time-stamp gaps."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cardiostream.datasets import (
    PolarDeviceRR,
    load_polar_h10,
    load_polar_h10_device_rr,
    median_sampling_rate,
    timestamp_gaps,
)
from cardiostream.errors import DataNotFoundError, InvalidParameterError, InvalidSignalError

FILE = "detectPVC_polar_h10.csv"


@pytest.mark.data
def test_real_recording(polar_dir: Path) -> None:
    rec = load_polar_h10(data_dir=polar_dir.parent)
    assert rec.n_samples == 78096 and rec.leads == ("ECG",) and rec.n_leads == 1
    assert rec.fs == pytest.approx(130.16, abs=0.005)
    ts = rec.timestamps_ns
    assert ts.dtype == np.int64 and ts.shape == (78096,)
    assert (ts[-1] - ts[0]) / 1e9 == pytest.approx(599.99, abs=0.005)
    assert ts[0] == 1714920600006020096  # 2024-05-05 14:50:00 UTC, exact int64
    assert np.all(np.diff(ts) > 0)
    # Cross-check against an independent read of the file.
    ref = pd.read_csv(polar_dir / FILE)
    np.testing.assert_array_equal(rec.signal[:, 0], ref["ecg_mV"].to_numpy())
    np.testing.assert_array_equal(ts, ref["time_ns"].to_numpy())
    assert rec.signal.min() == pytest.approx(-1.173) and rec.signal.max() == pytest.approx(1.744)
    assert not np.isnan(rec.signal).any()  # nothing dropped, nothing masked
    assert timestamp_gaps(ts, rec.fs).shape == (0, 2)  # the recording has no gap > 2/fs
    # ``path`` may be the file or its folder.
    again = load_polar_h10(polar_dir)
    np.testing.assert_array_equal(again.signal, rec.signal)


@pytest.mark.data
def test_device_hr_and_rr(polar_dir: Path) -> None:
    dev = load_polar_h10_device_rr(polar_dir / FILE)
    assert isinstance(dev, PolarDeviceRR)
    assert dev.hr_bpm.shape == (600,) and dev.rr_ms.shape == (798,)
    assert (dev.hr_bpm.min(), dev.hr_bpm.max()) == (68.0, 90.0)
    assert (dev.rr_ms.min(), dev.rr_ms.max()) == (375.0, 1417.0)
    assert np.all(np.diff(dev.rr_timestamps_ns) >= 0)
    # The first RR values arrive with the first HR packet, 56 samples into the recording.
    assert dev.rr_ms[:3].tolist() == [421.0, 379.0, 1073.0]
    assert dev.hr_timestamps_ns[0] == dev.rr_timestamps_ns[0]
    with pytest.raises(ValueError, match="read-only"):
        dev.rr_ms[0] = 1.0


def _csv(path: Path, ts: np.ndarray, x: np.ndarray) -> Path:
    pd.DataFrame({"time_ns": ts, "ecg_mV": x, "hr_bpm": np.nan, "rr_ms": np.nan}).to_csv(
        path, index=False
    )
    return path


def test_gap_is_reported_and_no_sample_dropped(
    tmp_path: Path, rng: np.random.Generator, caplog: pytest.LogCaptureFixture
) -> None:
    period = 7_682_816  # ns, 130.16 Hz
    ts = 1_700_000_000_000_000_000 + np.arange(1000, dtype=np.int64) * period
    ts[600:] += 2_000_000_000  # the strap lost 2 s of packets
    x = rng.normal(size=1000)
    with caplog.at_level(logging.WARNING, logger="cardiostream.datasets.polar"):
        rec = load_polar_h10(_csv(tmp_path / "gap.csv", ts, x))
    assert rec.n_samples == 1000
    np.testing.assert_array_equal(rec.signal[:, 0], x)
    assert rec.fs == pytest.approx(1e9 / period)
    gaps = timestamp_gaps(rec.timestamps_ns, rec.fs)
    assert gaps.tolist() == [[599, 600]]
    assert np.diff(rec.timestamps_ns)[gaps[0, 0]] == period + 2_000_000_000
    assert "1 time-stamp gap" in caplog.text


def test_timestamp_gaps_threshold_and_backwards_steps() -> None:
    ts = np.array([0, 10, 20, 41, 61, 50, 60], dtype=np.int64) * 1_000_000  # ms → ns
    # fs = 100 Hz: threshold 2/fs = 20 ms; a 21 ms step is a gap, 20 ms is not.
    assert timestamp_gaps(ts, 100.0).tolist() == [[2, 3], [4, 5]]
    assert timestamp_gaps(np.array([5], dtype=np.int64), 100.0).shape == (0, 2)
    with pytest.raises(InvalidParameterError, match="'fs' parameter must be a positive"):
        timestamp_gaps(ts, 0.0)
    with pytest.raises(InvalidParameterError, match="'timestamps_ns' parameter must be 1-D"):
        timestamp_gaps(ts.reshape(1, -1), 100.0)


def test_median_sampling_rate() -> None:
    ts = np.cumsum(np.r_[0, np.full(99, 4_000_000), 10**9]).astype(np.int64)
    assert median_sampling_rate(ts) == 250.0
    with pytest.raises(InvalidParameterError, match="at least 2"):
        median_sampling_rate(ts[:1])


def test_bad_polar_files(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError):
        load_polar_h10(tmp_path / "absent.csv")
    (tmp_path / "cols.csv").write_text("time,ecg\n0,1\n")
    with pytest.raises(InvalidSignalError, match="must have the columns"):
        load_polar_h10(tmp_path / "cols.csv")
    (tmp_path / "float.csv").write_text("time_ns,ecg_mV\n0.5,1\n1.5,2\n")
    with pytest.raises(InvalidSignalError, match="integer nanoseconds"):
        load_polar_h10(tmp_path / "float.csv")

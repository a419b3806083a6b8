"""Simulator sources: spec parsing, synthetic ECG, MIT-BIH resampled, the Polar H10 file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cardiostream.errors import InvalidParameterError
from cardiostream.simulate import SourceSignal, load_source, parse_source_spec


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("mitdb:100", ("mitdb", "100", {})),
        ("MITDB:208", ("mitdb", "208", {})),
        ("polar", ("polar", "", {})),
        ("polar:/tmp/x.csv", ("polar", "/tmp/x.csv", {})),
        ("synthetic", ("synthetic", "", {})),
        ("synthetic:hr=90,pvc=0.2", ("synthetic", "", {"hr": 90.0, "pvc": 0.2})),
        ("synthetic: emg=0.05 , seed=3", ("synthetic", "", {"emg": 0.05, "seed": 3.0})),
    ],
)
def test_parse_spec(spec: str, expected: tuple[str, str, dict[str, float]]) -> None:
    assert parse_source_spec(spec) == expected


@pytest.mark.parametrize(
    "spec", ["", "mitdb", "mitdb:", "wav:x", "synthetic:apc=0.1", "synthetic:hr", "synthetic:hr=x"]
)
def test_bad_spec(spec: str) -> None:
    with pytest.raises(InvalidParameterError):
        parse_source_spec(spec)


def test_no_apc_option_is_explained() -> None:
    with pytest.raises(InvalidParameterError, match="no APC"):
        parse_source_spec("synthetic:apc=0.1")


@pytest.mark.parametrize("fs", [100.0, 130.0, 250.0, 1000.0])
def test_synthetic(fs: float) -> None:
    src = load_source("synthetic:hr=90,pvc=0.3", fs, duration_s=20.0, seed=4)
    assert src.fs == fs and src.n_samples == round(20 * fs)
    assert src.samples_uv.dtype == np.int32 and not src.samples_uv.flags.writeable
    assert src.timestamps_ns is None and src.name == "synthetic:hr=90,pvc=0.3"
    assert src.labels is not None and src.r_peaks is not None
    assert set(src.labels.tolist()) == {"N", "V"}
    assert 25 <= src.r_peaks.size <= 35  # 90 bpm for 20 s
    peak_uv = src.samples_uv[src.r_peaks]
    assert np.median(peak_uv) > 800  # R waves are ~1.2 mV


def test_synthetic_is_seeded() -> None:
    a = load_source("synthetic", 130, duration_s=10, seed=1, pvc_rate=0.2)
    b = load_source("synthetic", 130, duration_s=10, seed=1, pvc_rate=0.2)
    c = load_source("synthetic", 130, duration_s=10, seed=2, pvc_rate=0.2)
    np.testing.assert_array_equal(a.samples_uv, b.samples_uv)
    assert not np.array_equal(a.samples_uv, c.samples_uv)
    d = load_source("synthetic:seed=2", 130, duration_s=10, seed=1, pvc_rate=0.2)
    np.testing.assert_array_equal(c.samples_uv, d.samples_uv)  # the spec wins


def test_window() -> None:
    src = load_source("synthetic:pvc=0.2", 130, duration_s=30, seed=0)
    w = src.window(10.0, 5.0)
    assert w.n_samples == 650 and w.fs == src.fs
    np.testing.assert_array_equal(w.samples_uv, src.samples_uv[1300:1950])
    assert w.r_peaks is not None and src.r_peaks is not None
    inside = src.r_peaks[(src.r_peaks >= 1300) & (src.r_peaks < 1950)]
    np.testing.assert_array_equal(w.r_peaks, inside - 1300)
    assert src.window() is src
    assert src.window(29.0, 100).n_samples == 130
    with pytest.raises(InvalidParameterError):
        src.window(30.0)
    with pytest.raises(InvalidParameterError):
        src.window(0.0, 0.0)


def test_source_validation() -> None:
    with pytest.raises(InvalidParameterError):
        SourceSignal(np.zeros(0, dtype=np.int32), 130.0, "x")
    with pytest.raises(InvalidParameterError):
        SourceSignal(np.zeros(3, dtype=np.int32), 130.0, "x", timestamps_ns=np.zeros(2))
    with pytest.raises(InvalidParameterError):
        load_source("synthetic", 20.0)


@pytest.mark.data
def test_mitdb_resampled(mitdb_dir: Path) -> None:
    from cardiostream.datasets import load_mitdb_record
    from cardiostream.signal import resample

    src = load_source("mitdb:100", 130.0, data_dir=mitdb_dir.parent)
    assert src.name == "mitdb:100" and src.fs == 130.0 and src.fs_mhz == 130_000
    rec = load_mitdb_record("100", mitdb_dir.parent)
    ref = resample(rec.lead(0), 360.0, 130.0)
    assert src.n_samples == ref.size == -(-650_000 * 13 // 36)
    assert np.max(np.abs(src.samples_uv - ref * 1000)) <= 0.5 + 1e-6
    native = load_source("mitdb:100", None, data_dir=mitdb_dir.parent)
    assert native.fs == 360.0 and native.n_samples == 650_000


@pytest.mark.data
def test_polar_native_and_resampled(polar_dir: Path) -> None:
    src = load_source("polar", 130.0, data_dir=polar_dir.parent)
    assert src.n_samples == 78_096 and src.fs == pytest.approx(130.16, abs=0.005)
    assert src.timestamps_ns is not None and src.timestamps_ns[0] == 1714920600006020096
    assert src.name == "polar:detectPVC_polar_h10"
    assert np.abs(src.samples_uv).max() <= 2000  # -1.173 .. 1.744 mV
    by_path = load_source(f"polar:{polar_dir / 'detectPVC_polar_h10.csv'}", None)
    np.testing.assert_array_equal(by_path.samples_uv, src.samples_uv)
    fast = load_source("polar", 250.0, data_dir=polar_dir.parent)
    assert fast.fs == pytest.approx(250.0, rel=1e-5)
    assert fast.n_samples == pytest.approx(78_096 * 250 / 130.16, abs=2)
    assert fast.timestamps_ns is not None
    assert np.all(np.abs(np.diff(fast.timestamps_ns) - 1e9 / fast.fs) <= 1)  # regular clock

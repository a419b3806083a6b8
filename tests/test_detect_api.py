"""R-peak detection API: registry, input validation, output contract, stream life cycle."""

from __future__ import annotations

import numpy as np
import pytest

from cardiostream.detect import (
    DEFAULT_METHOD,
    FS_RANGE,
    StreamingDetector,
    detect_rpeaks,
    list_detectors,
)
from cardiostream.errors import (
    CardiostreamError,
    InvalidParameterError,
    InvalidSignalError,
    UnknownMethodError,
)
from cardiostream.synth import synthesize_ecg

METHODS = list_detectors()


def test_registry_lists_both_methods_and_the_default() -> None:
    assert set(METHODS) == {"cardiostream", "pan_tompkins"}
    assert tuple(sorted(METHODS)) == METHODS
    assert DEFAULT_METHOD in METHODS


@pytest.mark.parametrize("make", [lambda m: detect_rpeaks(np.zeros(1000), 360.0, m),
                                  lambda m: StreamingDetector(360.0, m)])
def test_unknown_method_lists_the_valid_names(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownMethodError, match="'method'") as e:
        make("pan-tompkins")
    for name in METHODS:
        assert repr(name) in str(e.value)
    assert "'pan-tompkins'" in str(e.value)


@pytest.mark.parametrize("fs", [99.9, 1000.5, 50, float("nan"), float("inf"), "360", True, None])
def test_fs_outside_range_is_rejected(fs: object) -> None:
    with pytest.raises(InvalidParameterError, match=r"'fs' parameter must be .* 100 to 1000"):
        detect_rpeaks(np.zeros(2000), fs)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="'fs'"):
        StreamingDetector(fs)  # type: ignore[arg-type]


@pytest.mark.parametrize("fs", [FS_RANGE[0], np.float32(130.0), 360, FS_RANGE[1]])
def test_fs_range_edges_and_numpy_scalars_are_accepted(fs: float) -> None:
    syn = synthesize_ecg(duration_s=12.0, fs=float(fs), seed=3)
    peaks = detect_rpeaks(syn.record.lead(0), fs)
    assert peaks.dtype == np.int64 and peaks.size >= 10


def test_nan_error_names_the_index_offline_and_streaming() -> None:
    x = np.zeros(3000)
    x[1234] = np.nan
    with pytest.raises(InvalidSignalError, match="sample index 1234"):
        detect_rpeaks(x, 360.0)
    det = StreamingDetector(360.0)
    det.push(np.zeros(1000))
    chunk = np.zeros(500)
    chunk[7] = np.inf
    with pytest.raises(InvalidSignalError, match=r"'chunk' .* inf at sample index 1007"):
        det.push(chunk)


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.zeros((1000, 2)), "1-D"),
        (np.zeros((1000, 1)), "1-D"),
        (np.float64(1.0), "1-D"),
        (np.zeros(1000, dtype=complex), "real numbers"),
        (np.array(["a"] * 1000), "real numbers"),
    ],
)
def test_bad_signal_shapes_and_types(bad: np.ndarray, match: str) -> None:
    with pytest.raises(InvalidSignalError, match=match):
        detect_rpeaks(bad, 360.0)


@pytest.mark.parametrize("method", METHODS)
def test_too_short_signals_give_no_peaks(method: str) -> None:
    syn = synthesize_ecg(duration_s=5.0, fs=360.0, seed=1)
    r0 = int(syn.r_peaks[syn.r_peaks >= 72][0])
    x = syn.record.lead(0)[r0 - 72 : r0 + 104]  # 0.49 s around a beat: too little to detect it
    for sig in (x, x[:1], np.zeros(0)):
        out = detect_rpeaks(sig, 360.0, method)
        assert out.dtype == np.int64 and out.size == 0
    det = StreamingDetector(360.0, method)
    assert det.push(x).size == 0 and det.flush().size == 0


@pytest.mark.parametrize("method", METHODS)
def test_flat_and_constant_signals_have_no_peaks(method: str) -> None:
    for x in (np.zeros(20_000), np.full(20_000, 3.7)):
        assert detect_rpeaks(x, 250.0, method).size == 0


@pytest.mark.parametrize("method", METHODS)
def test_output_contract_on_a_noisy_synthetic(method: str) -> None:
    syn = synthesize_ecg(duration_s=60.0, fs=250.0, ectopic_rate=0.1, emg_mv=0.05, seed=11)
    x = syn.record.lead(0)
    peaks = detect_rpeaks(x, 250.0, method)
    assert peaks.dtype == np.int64 and peaks.ndim == 1
    assert np.all(np.diff(peaks) > 0)
    assert peaks.min() >= 0 and peaks.max() < x.size
    # int and float32 input are converted, not rejected
    assert np.array_equal(detect_rpeaks(x.astype(np.float32), 250.0, method),
                          detect_rpeaks(x.astype(np.float32).astype(float), 250.0, method))
    assert detect_rpeaks(np.round(x * 200).astype(np.int16), 250.0, method).size > 50


def test_input_array_is_not_modified() -> None:
    syn = synthesize_ecg(duration_s=10.0, fs=360.0, seed=2)
    x = np.array(syn.record.lead(0))
    before = x.copy()
    detect_rpeaks(x, 360.0)
    assert np.array_equal(x, before)


def test_stream_life_cycle() -> None:
    det = StreamingDetector(130.0)
    assert det.push(np.zeros(0)).size == 0
    det.push(np.zeros(200))
    assert det.n_samples == 200
    assert det.flush().size == 0
    assert det.flush().size == 0  # a second flush is harmless
    with pytest.raises(CardiostreamError, match="flushed"):
        det.push(np.zeros(10))


@pytest.mark.parametrize("method", METHODS)
def test_delay_is_stated_and_positive(method: str) -> None:
    det = StreamingDetector(360.0, method)
    assert 0.5 <= det.delay_s <= 8.0

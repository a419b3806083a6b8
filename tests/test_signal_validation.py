"""Input validation of cardiostream.signal: bad input raises a CardiostreamError saying why."""

from __future__ import annotations

import numpy as np
import pytest

from cardiostream import signal as cs
from cardiostream.errors import (
    CardiostreamError,
    InvalidParameterError,
    InvalidSignalError,
    UnknownMethodError,
)

FS = 360.0
X = np.sin(np.arange(2000) / 20.0)

OFFLINE = {
    "resample": lambda x: cs.resample(x, FS, 130.0),
    "bandpass": lambda x: cs.bandpass(x, FS, 0.5, 40.0),
    "notch": lambda x: cs.notch(x, FS),
    "remove_baseline": lambda x: cs.remove_baseline(x, FS),
    "wavelet_denoise": lambda x: cs.wavelet_denoise(x, fs=FS),
    "zscore": cs.zscore,
    "preprocess": lambda x: cs.preprocess(x, FS),
}


@pytest.fixture(params=sorted(OFFLINE))
def offline(request):
    return OFFLINE[request.param]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_sample_is_named(offline, bad):
    x = X.copy()
    x[1234] = bad
    with pytest.raises(InvalidSignalError, match=r"'x' signal must be finite, got .* sample 1234"):
        offline(x)


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (X.reshape(2, -1), "must be 1-D, got shape \\(2, 1000\\)"),
        (np.array([], dtype=float), "at least 1 samples, got 0"),
        (["a", "b"], "real numbers"),
        ([1.0, None, 2.0], "real numbers"),
        ([[1.0, 2.0], [3.0]], "1-D sequence of numbers"),
        (X + 0j, "real numbers"),
        (3.0, "1-D"),
    ],
)
def test_bad_signal_shapes_and_types(offline, bad, match):
    with pytest.raises(InvalidSignalError, match=match):
        offline(bad)


def test_lists_are_accepted(offline):
    assert np.array_equal(offline(list(X)), offline(X))


def test_input_is_not_modified(offline):
    x = X.copy()
    offline(x)
    assert np.array_equal(x, X)


@pytest.mark.parametrize("fs", [0, -360, np.nan, np.inf, 0.5, 1e6, "360", True, None, 360j])
def test_bad_sampling_rate(fs):
    for call in (
        lambda: cs.bandpass(X, fs, 0.5, 40.0),
        lambda: cs.notch(X, fs),
        lambda: cs.remove_baseline(X, fs),
        lambda: cs.resample(X, fs, 130.0),
        lambda: cs.resample(X, 130.0, fs),
        lambda: cs.StreamingBaseline(fs),
        lambda: cs.StreamingResampler(fs, 360.0),
    ):
        with pytest.raises(InvalidParameterError, match="sampling rate in Hz between 1 and 20000"):
            call()


@pytest.mark.parametrize(
    ("low", "high", "order", "match"),
    [
        (0.0, 40.0, 4, "'low' parameter must be a number in \\(0, 180\\)"),
        (-1.0, 40.0, 4, "'low'"),
        (0.5, 180.0, 4, "'high' parameter must be a number in \\(0, 180\\), got 180.0"),
        (0.5, 400.0, 4, "'high'"),
        (40.0, 0.5, 4, "'low' parameter must be below 'high' \\(0.5 Hz\\), got 40 Hz"),
        (5.0, 5.0, 4, "below 'high'"),
        (0.5, 40.0, 0, "'order' parameter must be an integer from 1 to 10, got 0"),
        (0.5, 40.0, 11, "'order'"),
        (0.5, 40.0, 2.0, "'order'"),
        (0.5, 40.0, True, "'order'"),
        (np.nan, 40.0, 4, "'low'"),
    ],
)
def test_bandpass_parameters(low, high, order, match):
    with pytest.raises(InvalidParameterError, match=match):
        cs.bandpass(X, FS, low, high, order=order)
    with pytest.raises(InvalidParameterError, match=match):
        cs.StreamingBandpass(FS, low, high, order=order)


@pytest.mark.parametrize(
    ("freq", "q", "match"),
    [(0.0, 30.0, "'freq'"), (180.0, 30.0, "'freq'"), (50.0, 0.0, "'q'"), (50.0, -3, "'q'")],
)
def test_notch_parameters(freq, q, match):
    with pytest.raises(InvalidParameterError, match=match):
        cs.notch(X, FS, freq, q)
    with pytest.raises(InvalidParameterError, match=match):
        cs.StreamingNotch(FS, freq, q)


def test_short_signal_for_zero_phase_filter():
    with pytest.raises(InvalidSignalError, match=r"at least 28 samples .* got 20"):
        cs.bandpass(X[:20], FS, 0.5, 40.0, order=4)
    assert cs.StreamingBandpass(FS, 0.5, 40.0).run(X[:20]).size == 20  # the stream has no minimum


@pytest.mark.parametrize(
    "windows", [(), "0.2", (0.2, 0.0), (0.2, -0.6), (0.2, 11.0), (0.2, np.nan), 0.2, None]
)
def test_baseline_windows(windows):
    with pytest.raises(InvalidParameterError, match="'windows_s'"):
        cs.remove_baseline(X, FS, windows)
    with pytest.raises(InvalidParameterError, match="'windows_s'"):
        cs.StreamingBaseline(FS, windows)


def test_wavelet_parameters():
    with pytest.raises(UnknownMethodError, match=r"'wavelet' parameter .* got 'db99'"):
        cs.wavelet_denoise(X, "db99")
    with pytest.raises(UnknownMethodError, match="'morl'"):  # continuous wavelets have no DWT
        cs.StreamingWaveletDenoiser("morl")
    with pytest.raises(
        InvalidParameterError, match="'level' parameter must be an integer from 1 to 6"
    ):
        cs.wavelet_denoise(X[:1000], "db8", level=7)
    with pytest.raises(
        InvalidParameterError, match="'level' parameter must be an integer from 1 to 6"
    ):
        cs.StreamingWaveletDenoiser("db8", level=10, block_len=1024)
    with pytest.raises(
        InvalidParameterError, match="'level' parameter must be an integer from 1 to 12"
    ):
        cs.StreamingWaveletDenoiser("db8", level=13)  # no default block offered that deep
    with pytest.raises(InvalidSignalError, match="at least 30 samples"):
        cs.wavelet_denoise(X[:29], "db8")
    with pytest.raises(InvalidParameterError, match="'block_len'"):
        cs.StreamingWaveletDenoiser(fs=FS, block_len=32)
    with pytest.raises(InvalidParameterError, match="'hop'"):
        cs.StreamingWaveletDenoiser(fs=FS, block_len=256, hop=256)
    with pytest.raises(InvalidParameterError, match="'crossfade'"):
        cs.StreamingWaveletDenoiser(fs=FS, block_len=256, hop=200, crossfade=100)
    # The default depth is chosen in Hz, so it needs the rate.
    for make in (lambda: cs.wavelet_denoise(X), lambda: cs.StreamingWaveletDenoiser()):
        with pytest.raises(
            InvalidParameterError, match="'fs' parameter must be given when 'level' is None"
        ):
            make()
    with pytest.raises(InvalidParameterError, match="'fs' parameter must be a sampling rate"):
        cs.wavelet_denoise(X, fs=0.0)


def test_resample_and_zscore_parameters():
    with pytest.raises(InvalidParameterError, match="'max_denominator'"):
        cs.resample(X, 360.0, 130.0, max_denominator=0)
    with pytest.raises(InvalidParameterError, match="large enough"):
        cs.resample_ratio(20_000.0, 1.0, max_denominator=10)
    for window in (0, -5, 2.5, True, "30"):
        with pytest.raises(InvalidParameterError, match="'window'"):
            cs.RunningZScore(window)


def test_pipeline_parameters():
    with pytest.raises(InvalidParameterError, match="at least one"):
        cs.Pipeline()
    with pytest.raises(InvalidParameterError, match="got function at position 1"):
        cs.Pipeline(cs.RunningZScore(), cs.zscore)
    step = cs.RunningZScore()
    with pytest.raises(InvalidParameterError, match="same step object twice"):
        cs.Pipeline(step, step)


def test_errors_are_value_errors():
    with pytest.raises(ValueError):
        cs.zscore([np.nan])
    assert issubclass(InvalidSignalError, CardiostreamError)


def test_fill_missing_interpolates_and_counts() -> None:
    from cardiostream.signal import fill_missing

    x = np.array([np.nan, 1.0, np.nan, 3.0, np.inf])
    filled, n = fill_missing(x)
    assert n == 3
    np.testing.assert_array_equal(filled, [1.0, 1.0, 2.0, 3.0, 3.0])
    clean = np.arange(4.0)
    out, n0 = fill_missing(clean)
    assert n0 == 0 and np.array_equal(out, clean)
    with pytest.raises(InvalidSignalError, match="no finite sample"):
        fill_missing(np.full(3, np.nan))

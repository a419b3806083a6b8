"""RR features of paper 001 Table 1: hand-computed values, causality, streaming equality."""

from __future__ import annotations

import numpy as np
import pytest

from cardiostream.beats import (
    CAUSAL_RR_FEATURE_NAMES,
    RR_FEATURE_NAMES,
    StreamingRRFeatures,
    rr_features,
)
from cardiostream.errors import InvalidParameterError, InvalidSignalError

# fs 100 Hz; intervals (samples) 100, 100, 80, 120, 100.
PEAKS = np.array([0, 100, 200, 280, 400, 500])


def test_hand_computed_values_offline() -> None:
    f = rr_features(PEAKS, fs=100.0, n_avg=2)
    assert f.names == RR_FEATURE_NAMES
    np.testing.assert_array_equal(f.valid, [False, False, False, True, True, False])
    # Beat 3 (R=280): RR0 0.8, RR-1 1.0, RR+1 1.2; avg of (1.0, 1.0) = 1.0, std 0 -> floored at
    # one sample (0.01 s), so tRR0 = (0.8 - 1.0) / 0.01 = -20.
    np.testing.assert_allclose(
        f.values[3], [0.8, 1.0, 1.2, 0.8, -20.0, 1.0, 1.25, 1.2, 1.5], rtol=0, atol=1e-12
    )
    # Beat 4 (R=400): RR0 1.2, RR-1 0.8, RR+1 1.0; avg of (1.0, 0.8) = 0.9, std 0.1.
    np.testing.assert_allclose(
        f.values[4],
        [1.2, 0.8, 1.0, 1.2 / 0.9, 3.0, 0.8 / 0.9, 0.8 / 1.2, 1.0 / 0.9, 1.0 / 1.2],
        rtol=0,
        atol=1e-12,
    )
    # Beat 0 only knows RR+1; the last beat has no RR+1.
    np.testing.assert_array_equal(np.isfinite(f.values[0]), [0, 0, 1, 0, 0, 0, 0, 0, 0])
    assert f.values[0, 2] == 1.0
    assert np.isnan(f.values[5, [2, 7, 8]]).all() and np.isfinite(f.values[5, :2]).all()


def test_hand_computed_values_causal() -> None:
    f = rr_features(PEAKS, fs=100.0, causal=True, n_avg=2)
    assert f.names == CAUSAL_RR_FEATURE_NAMES and f.causal
    np.testing.assert_array_equal(f.valid, [False, False, False, True, True, True])
    # Beat 4: RR-2 = 1.0 replaces RR+1.
    np.testing.assert_allclose(
        f.values[4],
        [1.2, 0.8, 1.0, 1.2 / 0.9, 3.0, 0.8 / 0.9, 0.8 / 1.2, 1.0 / 0.9, 1.0 / 1.2],
        rtol=0,
        atol=1e-12,
    )
    # Beat 5 (R=500): RR0 1.0, RR-1 1.2, RR-2 0.8; avg of (0.8, 1.2) = 1.0, std 0.2 -> tRR0 = 0.
    np.testing.assert_allclose(
        f.values[5], [1.0, 1.2, 0.8, 1.0, 0.0, 1.2, 1.2, 0.8, 0.8], rtol=0, atol=1e-12
    )


def _reference(r: np.ndarray, fs: float, causal: bool) -> np.ndarray:
    """Beat-by-beat loop with np.mean / np.std (population), independent of the vectorised code."""
    out = np.full((r.size, 9), np.nan)
    rr = np.diff(r) / fs
    for i in range(43, r.size):
        prev = rr[i - 43 : i - 1]  # the 42 intervals before RR0 = rr[i-1]
        assert prev.size == 42
        avg, sd = prev.mean(), max(prev.std(), 1 / fs)
        rr0, rrm1 = rr[i - 1], rr[i - 2]
        if causal:
            third = rr[i - 3]
        elif i + 1 < r.size:
            third = rr[i]
        else:
            continue
        out[i] = [rr0, rrm1, third, rr0 / avg, (rr0 - avg) / sd, rrm1 / avg, rrm1 / rr0,
                  third / avg, third / rr0]  # fmt: skip
    return out


@pytest.mark.parametrize("causal", [False, True])
def test_matches_loop_reference_with_42_beats(rng: np.random.Generator, causal: bool) -> None:
    r = np.cumsum(rng.integers(150, 500, size=300))
    f = rr_features(r, fs=360.0, causal=causal)
    ref = _reference(r, 360.0, causal)
    np.testing.assert_array_equal(f.valid, np.isfinite(ref).all(axis=1))
    # Different summation orders: a few ulps of O(1) quantities.
    np.testing.assert_allclose(f.values[f.valid], ref[f.valid], rtol=1e-12, atol=1e-12)
    assert f.valid.sum() == 300 - 43 - (0 if causal else 1)


def test_causal_never_changes_when_future_beats_are_appended(rng: np.random.Generator) -> None:
    for trial in range(20):
        r = np.cumsum(rng.integers(100, 700, size=int(rng.integers(2, 140))))
        extra = r[-1] + np.cumsum(rng.integers(100, 700, size=int(rng.integers(1, 60))))
        short = rr_features(r, 250.0, causal=True).values
        longer = rr_features(np.concatenate([r, extra]), 250.0, causal=True).values
        assert np.array_equal(short, longer[: r.size], equal_nan=True), trial


def test_offline_changes_only_through_rr_plus_1(rng: np.random.Generator) -> None:
    r = np.cumsum(rng.integers(100, 700, size=100))
    a = rr_features(r[:-1], 360.0).values
    b = rr_features(r, 360.0).values[:-1]
    same = [0, 1, 3, 4, 5, 6]
    assert np.array_equal(a[:, same], b[:, same], equal_nan=True)
    assert np.isnan(a[-1, 2]) and np.isfinite(b[-1, 2])


def test_streaming_equals_offline_causal_for_random_chunks(rng: np.random.Generator) -> None:
    r = np.cumsum(rng.integers(60, 900, size=400))
    offline = rr_features(r, 360.0, causal=True)
    for _ in range(5):
        stream = StreamingRRFeatures(360.0)
        parts, pos = [], 0
        while pos < r.size:
            step = int(rng.integers(0, 80))  # empty pushes allowed
            parts.append(stream.push(r[pos : pos + step]).values)
            pos += step
        parts.append(stream.flush().values)
        got = np.concatenate(parts)
        assert np.array_equal(got, offline.values, equal_nan=True)


def test_streaming_rejects_out_of_order_peaks() -> None:
    s = StreamingRRFeatures(360.0)
    s.push(np.array([10, 400]))
    with pytest.raises(InvalidSignalError, match="continue the stream"):
        s.push(np.array([300]))


def test_bad_inputs_raise_named_errors() -> None:
    with pytest.raises(InvalidSignalError, match=r"'r_peaks'.*strictly increasing"):
        rr_features(np.array([0, 10, 10]), 360.0)
    with pytest.raises(InvalidSignalError, match=r"'r_peaks'.*integer"):
        rr_features(np.array([0.0, 10.5]), 360.0)
    with pytest.raises(InvalidParameterError, match="'fs'"):
        rr_features(PEAKS, 0.0)
    with pytest.raises(InvalidParameterError, match="'n_avg'"):
        rr_features(PEAKS, 360.0, n_avg=1)


def test_short_sequences_give_all_invalid_rows() -> None:
    for n in (0, 1, 2, 43):
        f = rr_features(np.arange(n) * 300, 360.0)
        assert f.values.shape == (n, 9) and not f.valid.any()


def test_warm_up_averages_the_intervals_available() -> None:
    rng = np.random.default_rng(3)
    r = np.cumsum(rng.integers(250, 400, size=80)).astype(np.int64)
    full = rr_features(r, 360.0).values
    warm = rr_features(r, 360.0, min_avg=8).values
    assert not np.isfinite(warm[:9]).all(axis=1).any()
    assert np.isfinite(warm[9:-1]).all()
    np.testing.assert_array_equal(warm[43:], full[43:])
    for i in (9, 20, 42):
        # beat i has i - 1 earlier intervals: the paper's rule with n_avg = i - 1
        want = rr_features(r, 360.0, n_avg=i - 1).values[i]
        np.testing.assert_allclose(warm[i], want, rtol=1e-12)
    with pytest.raises(InvalidParameterError, match="min_avg"):
        rr_features(r, 360.0, min_avg=50)

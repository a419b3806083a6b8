"""StreamingQuality gives exactly the offline decisions for any chunking (1 sample to all)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cardiostream.errors import CardiostreamError, InvalidParameterError
from cardiostream.quality import (
    QualityParams,
    QualityReport,
    SegmentQuality,
    StreamingQuality,
    assess_quality,
)

EXPECTED = Path(__file__).parent / "data" / "quality_expected.npz"
_FIELDS = ("segments", "segment_flags", "snr_db", "baseline_ratio", "amplitude_mv", "r_peaks",
           "beat_flags")


def _chunks(n: int, rng: np.random.Generator, max_size: int) -> list[tuple[int, int]]:
    out, i = [], 0
    while i < n:
        # mostly small chunks, sometimes 1 sample, sometimes very large
        size = int(rng.choice([1, rng.integers(1, 40), rng.integers(1, max_size + 1)]))
        out.append((i, min(n, i + size)))
        i += size
    return out


def _assert_same(streamed: list[SegmentQuality], offline: QualityReport) -> None:
    rep = QualityReport.from_segments(streamed, offline.fs, offline.params, offline.has_peaks)
    assert rep.n_samples == offline.n_samples
    for name in _FIELDS:
        assert np.array_equal(getattr(rep, name), getattr(offline, name)), name
    assert np.array_equal(rep.unusable_spans, offline.unusable_spans)


def _composite() -> tuple[np.ndarray, float, np.ndarray]:
    d = np.load(EXPECTED)  # flat line, clipping, EMG, baseline, NaN, bad RR (see generator)
    return d["signal"].astype(np.float64), float(d["fs"]), d["r_peaks"]


@pytest.mark.parametrize("seed", range(6))
def test_signal_only_stream_equals_offline(seed: int) -> None:
    x, fs, _ = _composite()
    rng = np.random.default_rng(seed)
    offline = assess_quality(x, fs)
    sq = StreamingQuality(fs)
    got: list[SegmentQuality] = []
    for a, b in _chunks(x.size, rng, x.size):
        new = sq.push(x[a:b])
        assert all(s.stop <= sq.n_samples for s in new)  # decided only once complete
        got += new
    got += sq.flush()
    _assert_same(got, offline)


def test_whole_signal_in_one_push_and_one_sample_pushes() -> None:
    x, fs, _ = _composite()
    x = x[: round(9.3 * fs)]
    offline = assess_quality(x, fs)
    one = StreamingQuality(fs)
    got = list(one.push(x)) + list(one.flush())
    _assert_same(got, offline)
    single = StreamingQuality(fs)
    got = [s for v in x for s in single.push(np.array([v]))] + list(single.flush())
    _assert_same(got, offline)


def test_segments_are_emitted_when_they_complete() -> None:
    fs = 250.0
    sq = StreamingQuality(fs)
    x = np.sin(np.arange(2000) / 7.0)
    assert sq.push(x[:499]) == ()
    out = sq.push(x[499:500])
    assert [(s.start, s.stop) for s in out] == [(0, 500)]
    assert sq.delay_samples == 0


@pytest.mark.parametrize("seed", range(6))
def test_stream_with_delayed_peaks_equals_offline(seed: int) -> None:
    """Peaks arrive as a streaming detector reports them: up to ``delay`` after their sample."""
    x, fs, peaks = _composite()
    rng = np.random.default_rng(100 + seed)
    delay_s = 0.9
    delay = int(np.ceil(delay_s * fs))
    offline = assess_quality(x, fs, peaks)
    sq = StreamingQuality(fs, peak_delay_s=delay_s)
    lag = rng.integers(0, delay + 1, size=peaks.size)  # each peak's own report delay
    due = peaks + lag
    sent = 0
    got: list[SegmentQuality] = []
    for a, b in _chunks(x.size, rng, x.size // 3):
        k = sent + int(np.searchsorted(np.maximum.accumulate(due[sent:]), b, side="right"))
        k = max(sent, min(k, int(np.searchsorted(peaks, b))))
        got += sq.push(x[a:b], peaks[sent:k])
        sent = k
    got += sq.flush(peaks[sent:])
    _assert_same(got, offline)


def test_peaks_too_late_for_the_declared_delay_raise() -> None:
    x, fs, peaks = _composite()
    sq = StreamingQuality(fs, peak_delay_s=0.0)
    sq.push(x[:2000])  # segments up to 2000 decided without their peaks
    with pytest.raises(CardiostreamError, match="peak_delay_s is too small"):
        sq.push(x[2000:2100], peaks[:3])


def test_stream_misuse_raises() -> None:
    sq = StreamingQuality(250.0)
    with pytest.raises(CardiostreamError, match="peak_delay_s"):
        sq.push(np.zeros(10), np.array([1]))
    sq.flush()
    with pytest.raises(CardiostreamError, match="flushed"):
        sq.push(np.zeros(10))
    assert sq.flush() == ()
    with pytest.raises(InvalidParameterError, match="'peak_delay_s'"):
        StreamingQuality(250.0, peak_delay_s=-1.0)
    with pytest.raises(InvalidParameterError, match="'fs'"):
        StreamingQuality(80.0)
    sp = StreamingQuality(250.0, peak_delay_s=0.5)
    with pytest.raises(CardiostreamError, match=r"\[0, 10\)"):
        sp.push(np.zeros(10), np.array([12]))  # a peak in the future


def test_custom_params_stream_equals_offline(rng: np.random.Generator) -> None:
    x, fs, _ = _composite()
    p = QualityParams(segment_s=0.75, context_s=0.5, min_snr_db=12.0)
    offline = assess_quality(x, fs, params=p)
    sq = StreamingQuality(fs, p)
    got = [s for a, b in _chunks(x.size, rng, 700) for s in sq.push(x[a:b])] + list(sq.flush())
    _assert_same(got, offline)


@pytest.mark.data
def test_mitdb_stream_in_polar_sized_chunks(mitdb_dir: Path) -> None:
    from cardiostream.datasets import load_mitdb_annotations, load_mitdb_record

    root = mitdb_dir.parent
    x = load_mitdb_record("105", root).lead(0)[: 3 * 60 * 360]
    ref = load_mitdb_annotations("105", root).samples
    ref = ref[ref < x.size]
    offline = assess_quality(x, 360.0, ref)
    sq = StreamingQuality(360.0, peak_delay_s=0.0)
    got: list[SegmentQuality] = []
    sent = 0
    for a in range(0, x.size, 202):
        b = min(x.size, a + 202)
        k = int(np.searchsorted(ref, b))
        got += sq.push(x[a:b], ref[sent:k])
        sent = k
    got += sq.flush()
    _assert_same(got, offline)

"""Offline signal-quality index: each reason on synthetic signals, real records, gating, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cardiostream.errors import CardiostreamError, InvalidParameterError, InvalidSignalError
from cardiostream.quality import (
    QualityParams,
    QualityReport,
    Reason,
    assess_quality,
    gate_peaks,
    noise_stress,
)
from cardiostream.synth import synthesize_ecg

EXPECTED = Path(__file__).parent / "data" / "quality_expected.npz"


def _flagged(q: QualityReport, reason: Reason, t0: float, t1: float) -> np.ndarray:
    """Per segment fully inside [t0, t1) s: is ``reason`` set?"""
    seg = q.segments / q.fs
    inside = (seg[:, 0] >= t0) & (seg[:, 1] <= t1)
    return (q.segment_flags[inside] & int(reason)) != 0


@pytest.mark.parametrize("fs", [100.0, 130.0, 250.0, 360.0, 500.0, 1000.0])
def test_clean_synthetic_is_usable_at_any_rate(fs: float) -> None:
    syn = synthesize_ecg(60.0, fs, 72.0, seed=3)
    q = assess_quality(syn.record.lead(0), fs, syn.r_peaks)
    assert q.fraction_usable >= 0.95
    assert q.beat_usable.mean() >= 0.95
    assert q.segments[0, 0] == 0 and q.segments[-1, 1] == syn.record.n_samples


@pytest.mark.parametrize("fs", [100.0, 360.0, 1000.0])
def test_flat_line(fs: float) -> None:
    q = assess_quality(np.full(round(20 * fs), 0.4), fs)
    assert q.fraction_usable == 0.0
    assert np.all(q.segment_flags == int(Reason.FLAT_LINE))
    assert q.unusable_spans.tolist() == [[0, round(20 * fs)]]
    assert q.segment_reasons(0) == ("FLAT_LINE",)


def test_lead_off_stretch_inside_ecg() -> None:
    fs = 250.0
    x = synthesize_ecg(30.0, fs, 70.0, seed=1).record.lead(0).copy()
    x[round(10 * fs) : round(16 * fs)] = -0.2  # electrode off: constant
    q = assess_quality(x, fs)
    assert _flagged(q, Reason.FLAT_LINE, 10, 16).all()
    assert not _flagged(q, Reason.FLAT_LINE, 0, 10).any()
    assert not _flagged(q, Reason.FLAT_LINE, 16, 30).any()


@pytest.mark.parametrize("fs", [130.0, 360.0, 500.0])
def test_clipped_qrs(fs: float) -> None:
    x = synthesize_ecg(30.0, fs, 75.0, seed=2).record.lead(0).copy()
    half = round(15 * fs)
    x[half:] = np.minimum(x[half:], 0.5)  # amplifier saturates at 0.5 mV, R waves are 1.2 mV
    q = assess_quality(x, fs)
    assert _flagged(q, Reason.CLIPPING, 15, 30).mean() >= 0.8
    assert not _flagged(q, Reason.CLIPPING, 0, 15).any()


def test_heavy_emg_noise_is_flagged_light_is_not() -> None:
    fs = 360.0
    heavy = synthesize_ecg(60.0, fs, 70.0, emg_mv=0.4, seed=4).record.lead(0)
    light = synthesize_ecg(60.0, fs, 70.0, emg_mv=0.01, seed=4).record.lead(0)
    qh, ql = assess_quality(heavy, fs), assess_quality(light, fs)
    assert (qh.segment_flags & int(Reason.HF_NOISE) != 0).mean() >= 0.9
    assert ql.fraction_usable == 1.0
    assert np.median(qh.snr_db) < np.median(ql.snr_db) - 20


def test_baseline_excursion() -> None:
    fs = 250.0
    x = synthesize_ecg(30.0, fs, 70.0, seed=5).record.lead(0).copy()
    t = np.arange(x.size) / fs
    m = (t >= 10) & (t < 20)
    x[m] += 6.0 * np.sin(2 * np.pi * 0.4 * (t[m] - 10))  # motion: 12 mV swings
    q = assess_quality(x, fs)
    assert _flagged(q, Reason.BASELINE, 10, 20).mean() >= 0.6
    assert not _flagged(q, Reason.BASELINE, 0, 10).any()


def test_missing_samples() -> None:
    fs = 250.0
    x = synthesize_ecg(20.0, fs, 70.0, seed=6).record.lead(0).copy()
    x[round(9.5 * fs) : round(9.7 * fs)] = np.nan
    q = assess_quality(x, fs)
    assert q.segment_flags[4] & int(Reason.MISSING)  # segment [8 s, 10 s)
    assert np.flatnonzero(q.segment_flags & int(Reason.MISSING)).tolist() == [4]
    assert np.isfinite(q.snr_db).all()  # missing samples held, filters not poisoned


def test_implausible_rr_beats_and_segments() -> None:
    fs = 360.0
    syn = synthesize_ecg(40.0, fs, 70.0, seed=8)
    x = syn.record.lead(0)
    extra = np.round(np.array([20.3, 20.45, 20.6, 21.1]) * fs).astype(np.int64)
    gap = (syn.r_peaks >= 30 * fs) & (syn.r_peaks < 34.5 * fs)
    peaks = np.unique(np.concatenate((syn.r_peaks[~gap], extra)))
    q = assess_quality(x, fs, peaks, params=QualityParams(rr_max_s=3.0))
    assert q.has_peaks and np.array_equal(q.r_peaks, peaks)
    assert _flagged(q, Reason.IMPLAUSIBLE_RR, 20, 22).all()
    assert _flagged(q, Reason.IMPLAUSIBLE_RR, 32, 34).all()  # > 3 s without a beat
    # by default a long pause is a rhythm event, not bad signal: only the short RRs are flagged
    q_default = assess_quality(x, fs, peaks)
    assert _flagged(q_default, Reason.IMPLAUSIBLE_RR, 20, 22).all()
    assert not _flagged(q_default, Reason.IMPLAUSIBLE_RR, 28, 40).any()
    assert not _flagged(q, Reason.IMPLAUSIBLE_RR, 0, 18).any()
    bad_beats = peaks[(q.beat_flags & int(Reason.IMPLAUSIBLE_RR)) != 0]
    assert set(extra[:3]) <= set(bad_beats)
    # the signal itself is clean: without peaks nothing is flagged
    assert assess_quality(x, fs).fraction_usable == 1.0


def test_rr_rules_keep_ectopic_beats_plausible() -> None:
    syn = synthesize_ecg(120.0, 360.0, 75.0, ectopic_rate=0.15, coupling=0.6, seed=9)
    q = assess_quality(syn.record.lead(0), 360.0, syn.r_peaks)
    assert q.beat_usable.mean() >= 0.98
    assert not (q.segment_flags & int(Reason.IMPLAUSIBLE_RR)).any()


def test_gate_peaks_drops_only_peaks_in_unusable_spans() -> None:
    fs = 250.0
    syn = synthesize_ecg(30.0, fs, 70.0, seed=10)
    x = syn.record.lead(0).copy()
    x[round(10 * fs) : round(14 * fs)] = 0.0
    q = assess_quality(x, fs, syn.r_peaks)
    gated = gate_peaks(syn.r_peaks, q)
    spans = q.unusable_spans
    assert spans.tolist() == [[round(10 * fs), round(14 * fs)]]
    inside = (syn.r_peaks >= spans[0, 0]) & (syn.r_peaks < spans[0, 1])
    assert np.array_equal(gated, syn.r_peaks[~inside])
    assert set(gated) <= set(syn.r_peaks)  # nothing invented
    assert gate_peaks(np.zeros(0, np.int64), q).size == 0


def test_unusable_spans_merge_consecutive_segments() -> None:
    fs = 100.0
    x = synthesize_ecg(20.0, fs, 70.0, seed=11).record.lead(0).copy()
    x[200:600] = 1.0  # segments 1 and 2 (2-6 s) flat
    x[1000:1200] = 1.0  # segment 5 (10-12 s)
    q = assess_quality(x, fs)
    assert q.unusable_spans.tolist() == [[200, 600], [1000, 1200]]
    assert q.fraction_usable == pytest.approx(1 - 600 / 2000)
    assert q.reason_fractions()[Reason.FLAT_LINE] == pytest.approx(0.3)


def test_partial_last_segment_and_custom_segment_length() -> None:
    fs = 250.0
    x = synthesize_ecg(11.3, fs, 70.0, seed=12).record.lead(0)
    q = assess_quality(x, fs, params=QualityParams(segment_s=5.0))
    assert q.segments.tolist() == [[0, 1250], [1250, 2500], [2500, x.size]]
    assert q.params.segment_s == 5.0


def test_stored_expected_outputs() -> None:
    """Regression against tests/data/quality_expected.npz (quality_make_expected.py)."""
    d = np.load(EXPECTED)
    q = assess_quality(d["signal"].astype(np.float64), float(d["fs"]), d["r_peaks"])
    for name in ("segments", "segment_flags", "beat_flags", "unusable_spans"):
        assert np.array_equal(getattr(q, name), d[name]), name
    for name in ("snr_db", "baseline_ratio", "amplitude_mv"):
        np.testing.assert_allclose(getattr(q, name), d[name], rtol=1e-9, atol=1e-12)
    # the stored input has one event per stretch; each is found where it was put
    names = [q.segment_reasons(i) for i in range(q.segments.shape[0])]
    assert names[2] == names[3] == ("FLAT_LINE",)
    assert "HF_NOISE" in names[10] and "IMPLAUSIBLE_RR" in names[11]
    assert names[18] == ("MISSING",)


def test_report_is_immutable() -> None:
    q = assess_quality(synthesize_ecg(10.0, 250.0, seed=13).record.lead(0), 250.0)
    with pytest.raises(ValueError, match="read-only"):
        q.segment_flags[0] = 1
    with pytest.raises(AttributeError):
        q.fs = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"signal": np.zeros((100, 2)), "fs": 250.0}, "1-D"),
        ({"signal": np.zeros(1000), "fs": 50.0}, "'fs' parameter"),
        ({"signal": np.zeros(1000), "fs": 250.0, "r_peaks": [5, 3]}, "strictly increasing"),
        ({"signal": np.zeros(1000), "fs": 250.0, "r_peaks": [5, 1000]}, r"\[0, 1000\)"),
        ({"signal": np.zeros(1000), "fs": 250.0, "r_peaks": [1.5]}, "integer"),
        ({"signal": np.zeros(1000), "fs": 250.0, "params": {"segment_s": 2}}, "'params'"),
    ],
)
def test_bad_input_raises(kwargs: dict, match: str) -> None:
    with pytest.raises(CardiostreamError, match=match):
        assess_quality(**kwargs)


def test_bad_params_raise() -> None:
    with pytest.raises(InvalidParameterError, match="'segment_s' parameter must be a positive"):
        QualityParams(segment_s=0)
    with pytest.raises(InvalidParameterError, match="'noise_band_hz'"):
        QualityParams(noise_band_hz=(45.0, 20.0))
    with pytest.raises(InvalidParameterError, match="'rr_max_s'"):
        QualityParams(rr_min_s=2.0, rr_max_s=1.0)
    with pytest.raises(InvalidSignalError):
        gate_peaks(np.array([[1, 2]]), assess_quality(np.zeros(500), 250.0))


@pytest.mark.data
def test_mitdb_100_excerpt_is_usable(mitdb_dir: Path) -> None:
    from cardiostream.datasets import load_mitdb_annotations, load_mitdb_record

    root = mitdb_dir.parent
    x = load_mitdb_record("100", root).lead(0)[: 5 * 60 * 360]
    ref = load_mitdb_annotations("100", root).samples
    q = assess_quality(x, 360.0, ref[ref < x.size])
    assert q.fraction_usable >= 0.95
    assert q.beat_usable.mean() >= 0.95


@pytest.mark.data
def test_mitdb_116_saturation_is_clipping(mitdb_dir: Path) -> None:
    """Record 116 channel 0 sits at the ADC rail (-5.12 mV) for ~1.1 s from 1001.9 s."""
    from cardiostream.datasets import load_mitdb_record

    x = load_mitdb_record("116", mitdb_dir.parent).lead(0)[994 * 360 : 1010 * 360]
    q = assess_quality(x, 360.0)
    assert _flagged(q, Reason.CLIPPING, 6, 8).all()  # 1000-1002 s in the record
    assert not _flagged(q, Reason.CLIPPING, 0, 6).any()
    assert q.fraction_usable >= 0.6


@pytest.mark.data
def test_mitdb_118_ma_noise_flagged_far_more_at_0_than_24_db(
    mitdb_dir: Path, nstdb_dir: Path
) -> None:
    from cardiostream.datasets import load_mitdb_annotations, load_mitdb_record, load_nstdb_noise

    root = mitdb_dir.parent
    x = load_mitdb_record("118", root).lead(0)
    ann = load_mitdb_annotations("118", root)
    normal = ann.samples[ann.aami == "N"]  # nst: "normal" beats (map1 NORMAL)
    z = load_nstdb_noise("ma", root).lead(0)
    flagged = {}
    for snr in (24.0, 0.0):
        noisy = noise_stress(x, z, 360.0, normal, snr)  # nst protocol: noise in 2-min periods
        q = assess_quality(noisy.signal, 360.0)
        bad = np.zeros(x.size, bool)
        for a, b in q.unusable_spans:
            bad[a:b] = True
        in_noise = np.zeros(x.size, bool)
        for a, b in noisy.noisy_spans:
            in_noise[a:b] = True
        beats = ann.samples
        flagged[snr] = (bad[beats[in_noise[beats]]].mean(), bad[beats[~in_noise[beats]]].mean())
    assert flagged[24.0][0] <= 0.02
    assert flagged[0.0][0] >= 0.25
    assert flagged[0.0][0] >= 10 * max(flagged[24.0][0], 0.005)
    assert flagged[0.0][1] <= 0.05  # the clean periods of the same record stay usable


def test_empty_signal_gives_an_empty_report() -> None:
    q = assess_quality(np.zeros(0), 250.0)
    assert q.segments.shape == (0, 2) and q.n_samples == 0
    assert q.fraction_usable == 1.0 and q.unusable_spans.shape == (0, 2)

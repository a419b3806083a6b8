"""noise_stress: the nst SNR definition, the standard protocol and step-free gain changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from cardiostream.errors import CardiostreamError
from cardiostream.quality import noise_stress
from cardiostream.synth import synthesize_ecg

FS = 360.0


def _independent_snr(clean: np.ndarray, added: np.ndarray, beats: np.ndarray) -> float:
    """SNR of nst(1) computed with scipy's trimmed mean (5 % cut at each end)."""
    half = round(0.05 * FS)
    b = beats[(beats >= half) & (beats + half < clean.size)][:300]
    ptp = np.array([np.ptp(clean[i - half : i + half + 1]) for i in b])
    s = stats.trim_mean(ptp, 0.05) ** 2 / 8
    sec = round(FS)
    chunks = added[: 300 * sec].reshape(-1, sec)
    rms = chunks.std(axis=1)
    n = stats.trim_mean(rms, 0.05) ** 2
    return float(10 * np.log10(s / n))


@pytest.fixture(scope="module")
def record() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    syn = synthesize_ecg(900.0, FS, 72.0, seed=21)
    rng = np.random.default_rng(21)
    noise = np.cumsum(rng.standard_normal(syn.record.n_samples)) * 0.01  # wandering noise
    noise += 0.1 * rng.standard_normal(noise.size)
    return syn.record.lead(0), syn.r_peaks, noise


@pytest.mark.parametrize("snr", [24.0, 12.0, 0.0, -6.0])
def test_continuous_noise_reaches_the_target_snr(record, snr: float) -> None:
    clean, beats, noise = record
    out = noise_stress(clean, noise, FS, beats, snr, protocol="continuous")
    added = out.signal - clean
    assert np.allclose(added, out.gain * noise, rtol=0, atol=1e-9)
    # with the whole record noisy the added noise is the scaled noise: its SNR is the target
    assert _independent_snr(clean, added, beats) == pytest.approx(snr, abs=1e-6)
    assert out.noisy_spans.tolist() == [[0, clean.size]]


def test_standard_protocol_periods_and_continuity(record) -> None:
    clean, beats, noise = record
    out = noise_stress(clean, noise, FS, beats, 6.0)
    m = 60 * FS
    expect = [[round(5 * m), round(7 * m)], [round(9 * m), round(11 * m)],
              [round(13 * m), clean.size]]
    assert out.noisy_spans.tolist() == expect
    added = out.signal - clean
    assert np.array_equal(added[: expect[0][0]], np.zeros(expect[0][0]))  # learning period
    # inside a noisy period the added noise is gain * noise plus a constant offset
    a, b = expect[1]
    seg = added[a:b] - out.gain * noise[a:b]
    assert np.ptp(seg) < 1e-9
    # no step at any gain change: the jump is the previous gain times the noise's own change
    for c in (expect[0][0], expect[0][1], expect[1][0], expect[1][1]):
        gain_before = out.gain if any(s <= c - 1 < e for s, e in expect) else 0.0
        assert added[c] - added[c - 1] == pytest.approx(
            gain_before * (noise[c] - noise[c - 1]), abs=1e-9
        )


def test_noise_is_rewound_when_shorter(record) -> None:
    clean, beats, noise = record
    short = noise[: round(400 * FS)]
    out = noise_stress(clean, short, FS, beats, 12.0, protocol="continuous")
    added = out.signal - clean
    n = short.size
    assert np.allclose(added[n : 2 * n], out.gain * short, rtol=0, atol=1e-9)


def test_bad_input_raises(record) -> None:
    clean, beats, noise = record
    with pytest.raises(CardiostreamError, match="'protocol'"):
        noise_stress(clean, noise, FS, beats, 6.0, protocol="bxb")  # type: ignore[arg-type]
    with pytest.raises(CardiostreamError, match="'snr_db'"):
        noise_stress(clean, noise, FS, beats, float("nan"))
    with pytest.raises(CardiostreamError, match="'normal_beats'"):
        noise_stress(clean, noise, FS, np.array([0]), 6.0)
    with pytest.raises(CardiostreamError, match="1-D"):
        noise_stress(clean[:, None], noise, FS, beats, 6.0)


@pytest.mark.data
def test_nstdb_noise_on_mitdb_118(mitdb_dir: Path, nstdb_dir: Path) -> None:
    from cardiostream.datasets import load_mitdb_annotations, load_mitdb_record, load_nstdb_noise

    root = mitdb_dir.parent
    x = load_mitdb_record("118", root).lead(0)
    ann = load_mitdb_annotations("118", root)
    normal = ann.samples[ann.aami == "N"]  # nst: "normal" beats (map1 NORMAL)
    z = load_nstdb_noise("ma", root).lead(0)
    out = noise_stress(x, z, FS, normal, 12.0, protocol="continuous")
    assert _independent_snr(x, out.signal - x, normal) == pytest.approx(12.0, abs=1e-6)
    # 0 dB: the noise 'amplitude' equals the QRS 'amplitude' of the nst definition
    zero = noise_stress(x, z, FS, normal, 0.0)
    assert zero.gain**2 * zero.noise_power == pytest.approx(zero.signal_power)

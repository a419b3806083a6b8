"""Regenerate tests/data/beats_expected.npz (stored outputs of cardiostream.beats).

Run from the repository root after an *intended* change of the beat features:

    .venv/bin/python tests/data/beats_make_expected.py

Input: a seeded synthetic ECG (cardiostream.synth, seed 7, 130 Hz so the morphology resampling
path runs) with PVCs, baseline wander and EMG noise; everything derived from it is stored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cardiostream.beats import morphology_features, rr_features, segment_beats, wavelet_features
from cardiostream.synth import synthesize_ecg

OUT = Path(__file__).with_name("beats_expected.npz")


def compute() -> dict[str, np.ndarray]:
    s = synthesize_ecg(20.0, 130.0, 80.0, ectopic_rate=0.15, baseline_mv=0.2, emg_mv=0.03, seed=7)
    x = s.record.lead(0)
    # Approximate peaks (true ones shifted by a deterministic pattern) to exercise refinement.
    approx = np.clip(s.r_peaks + (np.arange(s.r_peaks.size) % 7 - 3), 0, x.size - 1)
    w = segment_beats(x - np.median(x), 130.0, approx)
    morph = morphology_features(w.windows, 130.0)
    return {
        "signal": x,
        "approx_peaks": approx,
        "refined": w.r_peaks,
        "kept": w.kept,
        "windows": w.windows,
        "morphology": morph,
        "wavelet": wavelet_features(morph),
        "rr": rr_features(s.r_peaks, 130.0).values,
        "rr_causal": rr_features(s.r_peaks, 130.0, causal=True).values,
        "true_peaks": s.r_peaks,
    }


if __name__ == "__main__":
    np.savez_compressed(OUT, **compute())
    print(f"wrote {OUT}")

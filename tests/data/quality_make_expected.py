"""Generate tests/data/quality_expected.npz: a stored input and the quality index's output on it.

    .venv/bin/python tests/data/quality_make_expected.py

The input (stored, so later changes to the synthetic generator do not matter) is 40 s of
synthetic ECG at 250 Hz (seed 7) with one event per stretch: a flat line (4-8 s), clipping at
0.5 mV (12-16 s), heavy EMG-like noise (20-26 s), a large baseline swing (30-34 s) and missing
samples (36.0-36.2 s). The R-peaks are the true ones with three false detections added at
22.1-22.3 s and the beats of 27-31.6 s removed (a 4.6 s gap). Re-run only when a change of the
outputs is intended, and say so in the changelog.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

FS = 250.0
OUT = Path(__file__).with_name("quality_expected.npz")


def make_input() -> tuple[np.ndarray, np.ndarray]:
    from cardiostream.synth import synthesize_ecg

    syn = synthesize_ecg(40.0, FS, 70.0, seed=7)
    x = syn.record.lead(0).copy()
    t = np.arange(x.size) / FS
    rng = np.random.default_rng(7)
    x[(t >= 4) & (t < 8)] = 0.3
    m = (t >= 12) & (t < 16)
    x[m] = np.minimum(x[m], 0.5)
    m = (t >= 20) & (t < 26)
    x[m] += 0.5 * rng.standard_normal(int(m.sum()))
    m = (t >= 30) & (t < 34)
    x[m] += 3.0 * np.sin(2 * np.pi * 0.5 * (t[m] - 30))
    x[(t >= 36.0) & (t < 36.2)] = np.nan
    peaks = syn.r_peaks
    peaks = peaks[~((peaks >= 27 * FS) & (peaks < 31.6 * FS))]
    peaks = np.unique(np.concatenate((peaks, np.round(np.array([22.1, 22.2, 22.3]) * FS))))
    return x.astype(np.float32).astype(np.float64), peaks.astype(np.int64)


def main() -> None:
    from cardiostream.quality import assess_quality

    x, peaks = make_input()
    q = assess_quality(x, FS, peaks)
    np.savez_compressed(
        OUT,
        signal=x.astype(np.float32),
        fs=FS,
        r_peaks=peaks,
        segments=q.segments,
        segment_flags=q.segment_flags,
        snr_db=q.snr_db,
        baseline_ratio=q.baseline_ratio,
        amplitude_mv=q.amplitude_mv,
        beat_flags=q.beat_flags,
        unusable_spans=q.unusable_spans,
    )
    for i in range(q.segments.shape[0]):
        print(q.segments[i] / FS, q.segment_reasons(i), round(float(q.snr_db[i]), 1))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

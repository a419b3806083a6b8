"""Regenerate ``tests/data/detect_expected.npz`` (stored outputs of the R-peak detectors).

Run from the repository root with the data directory present::

    .venv/bin/python tests/data/detect_make_expected.py

It stores, for every registered detector, the R-peaks found in

- a seeded synthetic ECG (the signal itself is stored too, as float32, so the test does not
  depend on :mod:`cardiostream.synth` staying the same): 30 s at 250 Hz, 78 bpm, 10 % PVC-like
  beats, baseline wander, mains and EMG-like noise;
- the first 120 s of MIT-BIH records 208 (lead 0, 360 Hz; PVCs, fusion beats) and 207 from 30 s
  to 150 s (ventricular flutter at 41–60 s), read from the data directory (not stored: only the
  expected peaks are).

Regenerate only when a detector is changed on purpose, and say why in the commit message.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cardiostream.datasets import load_mitdb_record
from cardiostream.detect import detect_rpeaks, list_detectors
from cardiostream.synth import synthesize_ecg

OUT = Path(__file__).with_name("detect_expected.npz")
SYNTH = dict(
    duration_s=30.0, fs=250.0, heart_rate=78.0, ectopic_rate=0.1, baseline_mv=0.15,
    mains_mv=0.03, emg_mv=0.03, seed=20261122,
)
#: (record, first sample, last sample) of the real excerpts, at 360 Hz.
EXCERPTS = {"208": (0, 120 * 360), "207": (30 * 360, 150 * 360)}


def main() -> None:
    syn = synthesize_ecg(**SYNTH)
    x = np.asarray(syn.record.lead(0), dtype=np.float32)
    arrays: dict[str, np.ndarray] = {
        "synth_signal": x,
        "synth_fs": np.array(SYNTH["fs"]),
        "synth_true": np.asarray(syn.r_peaks),
    }
    for m in list_detectors():
        arrays[f"synth_{m}"] = detect_rpeaks(x, SYNTH["fs"], m)
        for rec, (a, b) in EXCERPTS.items():
            sig = load_mitdb_record(rec).lead(0)[a:b]
            arrays[f"mitdb{rec}_{m}"] = detect_rpeaks(sig, 360.0, m)
    np.savez_compressed(OUT, **arrays)
    for k, v in arrays.items():
        print(k, v.shape)


if __name__ == "__main__":
    main()

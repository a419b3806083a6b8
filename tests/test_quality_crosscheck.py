"""Cross-check against an independent SQI: NeuroKit2's ecg_quality(method="zhao2018").

Zhao & Zhang 2018 fuse pSQI, kSQI and basSQI into Excellent / Barely acceptable / Unacceptable
per window. It is stricter than ours on real Holter data (it calls clean MIT-BIH 118 "Barely
acceptable"), so the check is one-directional where it must be: what we flag, it rejects; what it
calls Excellent, we keep.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from cardiostream.quality import assess_quality, noise_stress
from cardiostream.synth import synthesize_ecg

nk = pytest.importorskip("neurokit2")
WINDOW_S = 10.0


def _zhao(x: np.ndarray, fs: float) -> list[str]:
    n = round(WINDOW_S * fs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NeuroKit2's own warnings
        return [
            nk.ecg_quality(x[i : i + n], sampling_rate=fs, method="zhao2018", approach="simple")
            for i in range(0, x.size - n + 1, n)
        ]


def _ours(x: np.ndarray, fs: float) -> np.ndarray:
    """Fraction of each 10 s window in usable 2 s segments."""
    q = assess_quality(x, fs)
    per = round(WINDOW_S / q.params.segment_s)
    usable = q.segment_usable[: (q.segment_usable.size // per) * per]
    return usable.reshape(-1, per).mean(axis=1)


@pytest.mark.parametrize(("emg_mv", "expected"), [(0.0, "Excellent"), (0.6, "Unacceptable"),
                                                   (1.0, "Unacceptable")])
def test_agree_on_synthetic_extremes(emg_mv: float, expected: str) -> None:
    x = synthesize_ecg(60.0, 360.0, 70.0, emg_mv=emg_mv, seed=31).record.lead(0)
    labels = _zhao(x, 360.0)
    ours = _ours(x, 360.0)
    assert labels == [expected] * 6
    assert np.all(ours == 1.0) if expected == "Excellent" else np.all(ours == 0.0)


@pytest.mark.data
def test_windows_we_flag_are_rejected_by_zhao2018(mitdb_dir: Path, nstdb_dir: Path) -> None:
    from cardiostream.datasets import load_mitdb_annotations, load_mitdb_record, load_nstdb_noise

    root = mitdb_dir.parent
    x = load_mitdb_record("118", root).lead(0)
    ann = load_mitdb_annotations("118", root)
    z = load_nstdb_noise("ma", root).lead(0)
    y = noise_stress(x, z, 360.0, ann.samples[ann.aami == "N"], 0.0, protocol="continuous")
    sig = y.signal[: 4 * 60 * 360]
    labels = np.array(_zhao(sig, 360.0))
    ours = _ours(sig, 360.0)
    flagged = ours < 0.5
    assert flagged.sum() >= 8  # 0 dB muscle noise: most windows are mostly unusable for us
    # tolerance: at most 1 in 10 of our flagged windows may be accepted by zhao2018
    assert np.mean(labels[flagged] == "Unacceptable") >= 0.9

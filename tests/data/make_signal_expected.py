"""Regenerate the stored expected outputs of cardiostream.signal (tests/test_signal_expected.py).

Run from the repository root after an intended change of a signal step, then review the diff:

    .venv/bin/python tests/data/make_signal_expected.py

Writes ``tests/data/signal_synthetic.npz`` (a seeded synthetic ECG and its outputs) and, when the
MIT-BIH data is available, ``tests/data/signal_mitdb100.npz`` (outputs only for 1000 samples of
record 100, lead MLII, from sample 36000; the input is re-read from the dataset by the test, no
data is copied into the repository).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cardiostream import signal as cs

FS = 360.0
N = 1000
SEED = 20261122
MITDB_RECORD, MITDB_START = "100", 36_000
HERE = Path(__file__).resolve().parent


def synthetic_ecg() -> np.ndarray:
    """A crude ECG at 360 Hz (P, QRS, T bumps every 0.8 s) with drift, 50 Hz hum and noise, mV."""
    rng = np.random.default_rng(SEED)
    t = np.arange(N) / FS
    x = 0.2 + 0.3 * np.sin(2 * np.pi * 0.3 * t) + 0.05 * np.sin(2 * np.pi * 50 * t)
    for beat in np.arange(0.3, t[-1] + 0.5, 0.8):
        for offset, width, amp in ((-0.18, 0.025, 0.15), (0.0, 0.012, 1.2), (0.25, 0.04, 0.3)):
            x += amp * np.exp(-0.5 * ((t - beat - offset) / width) ** 2)
    return x + 0.02 * rng.standard_normal(N)


def compute(x: np.ndarray) -> dict[str, np.ndarray]:
    """Every offline step and the streaming steps whose stream is not a shifted offline output."""
    return {
        "resample_130": cs.resample(x, FS, 130.0),
        "resample_130_stream": cs.StreamingResampler(FS, 130.0).run(x),
        "bandpass": cs.bandpass(x, FS, 0.5, 40.0, order=4),
        "bandpass_stream": cs.StreamingBandpass(FS, 0.5, 40.0, order=4).run(x),
        "notch": cs.notch(x, FS, 50.0, 30.0),
        "notch_stream": cs.StreamingNotch(FS, 50.0, 30.0).run(x),
        "baseline": cs.remove_baseline(x, FS),
        "wavelet": cs.wavelet_denoise(x, "db8", fs=FS),
        "wavelet_stream": cs.StreamingWaveletDenoiser("db8", fs=FS, block_len=256).run(x),
        "zscore": cs.zscore(x),
        "zscore_stream": cs.RunningZScore(window=360).run(x),
        "preprocess": cs.preprocess(x, FS),
    }


def mitdb_excerpt() -> np.ndarray | None:
    """Record 100 lead MLII samples [36000, 37000) in mV, or None without the dataset."""
    import wfdb

    from cardiostream.datasets import data_root
    from cardiostream.errors import DataNotFoundError

    try:
        path = data_root() / "mitdb" / MITDB_RECORD
    except DataNotFoundError:
        return None
    if not path.with_suffix(".hea").exists():
        return None
    rec = wfdb.rdrecord(str(path), sampfrom=MITDB_START, sampto=MITDB_START + N, channels=[0])
    return rec.p_signal[:, 0].astype(np.float64)


def main() -> None:
    x = synthetic_ecg()
    np.savez_compressed(HERE / "signal_synthetic.npz", x=x, **compute(x))
    print("wrote", HERE / "signal_synthetic.npz")
    real = mitdb_excerpt()
    if real is None:
        print("MIT-BIH data not found: signal_mitdb100.npz left as it is")
        return
    np.savez_compressed(HERE / "signal_mitdb100.npz", **compute(real))
    print("wrote", HERE / "signal_mitdb100.npz")


if __name__ == "__main__":
    main()

"""Stored outputs of the detectors (tests/data/detect_expected.npz, from detect_make_expected.py).

These catch any change of behaviour; when a detector is changed on purpose, regenerate the file
with ``tests/data/detect_make_expected.py`` and say why in the commit.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from cardiostream.detect import detect_rpeaks, list_detectors

DATA = Path(__file__).parent / "data"
EXPECTED = np.load(DATA / "detect_expected.npz")


def _maker():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("detect_make_expected",
                                                  DATA / "detect_make_expected.py")
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def test_every_detector_has_stored_outputs() -> None:
    for m in list_detectors():
        for key in (f"synth_{m}", f"mitdb208_{m}", f"mitdb207_{m}"):
            assert key in EXPECTED.files


@pytest.mark.parametrize("method", list_detectors())
def test_synthetic_peaks_are_unchanged(method: str) -> None:
    x = EXPECTED["synth_signal"]
    fs = float(EXPECTED["synth_fs"])
    peaks = detect_rpeaks(x, fs, method)
    assert np.array_equal(peaks, EXPECTED[f"synth_{method}"])
    # and the stored answer itself is right: every true beat within 20 ms, nothing else
    truth = EXPECTED["synth_true"]
    assert peaks.size == truth.size
    assert np.abs(peaks - truth).max() <= 0.02 * fs


@pytest.mark.data
@pytest.mark.parametrize("method", list_detectors())
def test_mitdb_excerpt_peaks_are_unchanged(mitdb_dir: Path, method: str) -> None:
    from cardiostream.datasets import load_mitdb_record

    for rec, (a, b) in _maker().EXCERPTS.items():
        x = load_mitdb_record(rec, mitdb_dir.parent).lead(0)[a:b]
        assert np.array_equal(detect_rpeaks(x, 360.0, method), EXPECTED[f"mitdb{rec}_{method}"])

"""Stored expected outputs of every signal step (regenerate: tests/data/make_signal_expected.py).

Tolerance 1e-9 mV: builds of numpy/scipy/PyWavelets differ by float rounding (~1e-15), while any
change of an algorithm or a default moves outputs by far more.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import wfdb

DATA = Path(__file__).parent / "data"
_spec = importlib.util.spec_from_file_location(
    "make_signal_expected", DATA / "make_signal_expected.py"
)
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

ATOL = 1e-9


def check_against(stored: np.lib.npyio.NpzFile, x: np.ndarray) -> None:
    got = gen.compute(x)
    assert set(got) == set(stored.files) - {"x"}
    for name, value in got.items():
        np.testing.assert_allclose(value, stored[name], rtol=0, atol=ATOL, err_msg=name)


def test_synthetic_outputs_unchanged():
    with np.load(DATA / "signal_synthetic.npz") as stored:
        x = stored["x"]
        np.testing.assert_allclose(gen.synthetic_ecg(), x, rtol=0, atol=1e-12)
        check_against(stored, x)


@pytest.mark.data
def test_mitdb_excerpt_outputs_unchanged(mitdb_dir):
    rec = wfdb.rdrecord(
        str(mitdb_dir / gen.MITDB_RECORD),
        sampfrom=gen.MITDB_START,
        sampto=gen.MITDB_START + gen.N,
        channels=[0],
    )
    with np.load(DATA / "signal_mitdb100.npz") as stored:
        check_against(stored, rec.p_signal[:, 0].astype(np.float64))

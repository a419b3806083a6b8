"""RR irregularity statistics (Dash et al. 2009) on sequences with known values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cardiostream.errors import InvalidParameterError, InvalidSignalError
from cardiostream.events import rr_irregularity


def test_hand_computed_values() -> None:
    rr = np.array([1.0, 0.5, 1.0, 0.5, 1.0])
    irr = rr_irregularity(rr)
    # successive differences all 0.5 in size -> RMSSD 0.5; mean 0.8
    assert irr.nrmssd == pytest.approx(0.5 / 0.8)
    # every inner point is a turning point: 3 of n - 2 = 3
    assert irr.tpr == 1.0
    assert irr.tpr_z == pytest.approx((3 - (2 * 5 - 4) / 3) / math.sqrt((16 * 5 - 29) / 90))
    # 3 x 1.0 in the last bin, 2 x 0.5 in the first
    h = -(0.6 * math.log(0.6) + 0.4 * math.log(0.4))
    assert irr.entropy == pytest.approx(h / math.log(16))
    assert irr.n == 5


def test_constant_and_monotone_sequences() -> None:
    c = rr_irregularity(np.full(20, 0.8))
    assert (c.nrmssd, c.tpr, c.entropy) == (0.0, 0.0, 0.0)
    m = rr_irregularity(np.linspace(0.6, 1.0, 32))
    assert m.tpr == 0.0 and m.tpr_z < -4
    assert m.entropy == pytest.approx(1.0)  # 2 values per bin


def test_trimming_removes_extremes_and_keeps_order() -> None:
    rr = np.array([0.8, 0.81, 3.0, 0.79, 0.8, 0.2, 0.82, 0.8, 0.81, 0.79])
    plain = rr_irregularity(rr)
    trimmed = rr_irregularity(rr, trim=1)
    assert trimmed.n == 8 and plain.n == 10
    assert trimmed.nrmssd < 0.05 < plain.nrmssd
    expected = rr_irregularity(np.delete(rr, [2, 5]))
    assert trimmed == expected


def test_random_sequences_have_random_turning_points(rng: np.random.Generator) -> None:
    z = [rr_irregularity(rng.uniform(0.4, 1.2, 200)).tpr_z for _ in range(300)]
    assert abs(float(np.mean(z))) < 0.3
    assert 0.8 < float(np.std(z)) < 1.2
    assert np.mean(np.abs(z) > 1.96) < 0.1


def test_statistics_are_scale_free() -> None:
    rr = np.array([0.7, 0.9, 0.65, 1.1, 0.8, 0.95, 0.6, 1.0, 0.75, 0.85, 0.7, 1.05])
    a, b = rr_irregularity(rr, 1), rr_irregularity(2 * rr, 1)
    assert a.nrmssd == pytest.approx(b.nrmssd)
    assert (a.tpr, a.tpr_z) == (b.tpr, b.tpr_z)
    assert a.entropy == pytest.approx(b.entropy)


def test_is_irregular_thresholds() -> None:
    irr = rr_irregularity(np.array([0.7, 0.9, 0.65, 1.1, 0.8, 0.95, 0.6, 1.0, 0.75, 0.85]))
    assert irr.is_irregular(0.0, 10.0, 0.0)
    assert not irr.is_irregular(irr.nrmssd, 10.0, 0.0)  # strictly above
    assert not irr.is_irregular(0.0, abs(irr.tpr_z) - 1e-9, 0.0)
    assert irr.is_irregular(0.0, 10.0, irr.entropy)  # at least
    assert not irr.is_irregular(0.0, 10.0, irr.entropy + 1e-9)


@pytest.mark.parametrize(
    "rr", [np.array([0.8, 0.0, 0.9]), np.array([0.8, np.nan, 0.9]), np.ones((3, 3))]
)
def test_bad_intervals(rr: np.ndarray) -> None:
    with pytest.raises(InvalidSignalError, match="'rr_s'"):
        rr_irregularity(rr)


@pytest.mark.parametrize("trim", [-1, 4, 1.5, True])
def test_bad_trim(trim: object) -> None:
    with pytest.raises(InvalidParameterError, match="'trim'"):
        rr_irregularity(np.ones(10), trim)  # type: ignore[arg-type]

"""Record windows, crops, lead selection and standardisation."""

from __future__ import annotations

import numpy as np
import pytest

from cardiostream.diagnosis.data import (
    LeadNormalizer,
    lead_indices,
    random_crops,
    sliding_windows,
    window_starts,
)
from cardiostream.errors import InvalidParameterError, InvalidSignalError


def test_window_starts_cover_the_record() -> None:
    assert window_starts(1000, 250, 125).tolist() == [0, 125, 250, 375, 500, 625, 750]
    # a stride that does not divide: the last window is aligned to the end
    assert window_starts(1000, 300, 200).tolist() == [0, 200, 400, 600, 700]
    assert window_starts(250, 250, 125).tolist() == [0]
    with pytest.raises(InvalidSignalError, match="at least one window"):
        window_starts(200, 250, 125)


def test_sliding_windows_layout(rng: np.random.Generator) -> None:
    x = rng.standard_normal((3, 1000, 2)).astype(np.float32)
    w, rec = sliding_windows(x, 250, 125)
    assert w.shape == (21, 2, 250)
    assert rec.tolist() == [0] * 7 + [1] * 7 + [2] * 7
    # window 2 of record 1 is samples 250..499, channels first
    np.testing.assert_array_equal(w[7 + 2], x[1, 250:500].T)


def test_random_crops_are_seeded_slices(rng: np.random.Generator) -> None:
    x = np.arange(4 * 1000 * 3, dtype=np.float32).reshape(4, 1000, 3)
    a = random_crops(x, 250, np.random.default_rng(5))
    b = random_crops(x, 250, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (4, 3, 250)
    for i in range(4):
        start = int(a[i, 0, 0] - x[i, 0, 0]) // 3
        np.testing.assert_array_equal(a[i], x[i, start : start + 250].T)
    with pytest.raises(InvalidParameterError, match="rng"):
        random_crops(x, 250, 3)  # type: ignore[arg-type]


def test_lead_indices() -> None:
    assert lead_indices(["II", "v1"]).tolist() == [1, 6]
    with pytest.raises(InvalidSignalError, match="missing"):
        lead_indices(["II"], ["I", "V1"])


def test_normalizer_round_trip(rng: np.random.Generator) -> None:
    x = rng.normal(0.3, 2.0, (10, 500, 2))
    n = LeadNormalizer.fit(x)
    z = n(x)
    assert np.allclose(z.mean(axis=(0, 1)), 0, atol=1e-5)
    assert np.allclose(z.std(axis=(0, 1)), 1, atol=1e-4)
    assert LeadNormalizer.from_dict(n.to_dict()) == n
    with pytest.raises(InvalidSignalError, match="leads"):
        n(np.zeros((5, 3)))
    with pytest.raises(InvalidParameterError, match="std"):
        LeadNormalizer((0.0,), (0.0,))

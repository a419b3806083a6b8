"""Paper 003's scikit-learn baselines behind the zoo's fit / predict_proba surface."""

from __future__ import annotations

import numpy as np
import pytest

from cardiostream.errors import CardiostreamError, InvalidParameterError, InvalidSignalError
from cardiostream.models import ClassicalModel, create_model, list_models

pytest.importorskip("sklearn")

CLASSICAL = list_models(framework="sklearn")


def _blobs(rng: np.random.Generator, n_per: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Three well separated classes (labels 0, 1, 3 of 5) of 9 'RR features' each."""
    labels = np.repeat([0, 1, 3], n_per)
    centres = rng.normal(scale=4.0, size=(5, 9))
    x = centres[labels] + rng.normal(size=(labels.size, 9))
    return x[:, None, :], labels


@pytest.mark.parametrize("name", CLASSICAL)
def test_fit_predict_proba_contract(rng: np.random.Generator, name: str) -> None:
    model = create_model(name, input_kind="rr")
    assert isinstance(model, ClassicalModel)
    assert model.input_spec.shape == (1, 9) and model.num_classes == 5
    x, y = _blobs(rng)
    with pytest.raises(CardiostreamError, match="fitted"):
        model.predict_proba(x)
    assert model.fit(x, y) is model
    p = model.predict_proba(x)
    assert p.shape == (x.shape[0], 5) and p.dtype == np.float64
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-9)
    assert np.all(p[:, [2, 4]] == 0.0)  # classes never seen in training
    assert np.mean(model.predict(x) == y) >= 0.95
    assert model.predict_proba(x[:0]).shape == (0, 5)


@pytest.mark.parametrize("name", CLASSICAL)
def test_fit_is_reproducible(rng: np.random.Generator, name: str) -> None:
    x, y = _blobs(rng)
    a = create_model(name, input_kind="rr").fit(x, y).predict_proba(x)
    b = create_model(name, input_kind="rr").fit(x, y).predict_proba(x)
    np.testing.assert_array_equal(a, b)


def test_bad_inputs_are_rejected(rng: np.random.Generator) -> None:
    model = create_model("decision_tree", input_kind="rr")
    x, y = _blobs(rng)
    with pytest.raises(InvalidSignalError, match=r"\(n, 1, 9\)"):
        model.fit(x[:, 0, :], y)
    with pytest.raises(InvalidSignalError, match="'x'"):
        model.fit(np.where(np.arange(9) == 0, np.nan, x), y)
    with pytest.raises(InvalidParameterError, match="'y'"):
        model.fit(x, np.full(y.shape, 5))
    with pytest.raises(InvalidParameterError, match="'y'"):
        model.fit(x, y[:-1])
    with pytest.raises(InvalidParameterError, match="at least 2 classes"):
        model.fit(x, np.zeros_like(y))

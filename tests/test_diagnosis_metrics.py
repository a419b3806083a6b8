"""Multi-label metrics: hand-computed values, and cross-checks against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest

from cardiostream.diagnosis.metrics import (
    auprc_per_class,
    auroc_per_class,
    f1_per_class,
    multilabel_metrics,
    tune_thresholds,
)
from cardiostream.errors import InvalidSignalError

sk = pytest.importorskip("sklearn.metrics")


def test_auroc_hand_computed() -> None:
    y = np.array([[1], [0], [1], [0]])
    p = np.array([[0.9], [0.8], [0.7], [0.1]])
    # pairs (pos, neg): (0.9, 0.8) ok, (0.9, 0.1) ok, (0.7, 0.8) wrong, (0.7, 0.1) ok -> 3/4
    assert auroc_per_class(y, p)[0] == pytest.approx(0.75)


def test_auroc_ties_count_half() -> None:
    y = np.array([[1], [0]])
    p = np.array([[0.5], [0.5]])
    assert auroc_per_class(y, p)[0] == pytest.approx(0.5)


def test_auroc_undefined_for_single_label_value() -> None:
    y = np.array([[1, 0], [1, 1]])
    p = np.array([[0.2, 0.3], [0.4, 0.9]])
    a = auroc_per_class(y, p)
    assert np.isnan(a[0]) and not np.isnan(a[1])


@pytest.mark.parametrize("ties", [False, True])
def test_crosscheck_sklearn(rng: np.random.Generator, ties: bool) -> None:
    n, k = 400, 6
    y = (rng.random((n, k)) < np.linspace(0.05, 0.5, k)).astype(int)
    p = np.clip(0.3 * y + rng.random((n, k)), 0, 1)
    if ties:
        p = np.round(p, 1)
    a = auroc_per_class(y, p)
    b = auprc_per_class(y, p)
    for c in range(k):
        # tolerance: floating-point summation order only
        assert a[c] == pytest.approx(sk.roc_auc_score(y[:, c], p[:, c]), abs=1e-12)
        assert b[c] == pytest.approx(sk.average_precision_score(y[:, c], p[:, c]), abs=1e-12)
        f = f1_per_class(y, p, 0.5)[c]
        assert f == pytest.approx(sk.f1_score(y[:, c], p[:, c] >= 0.5), abs=1e-12)


def test_tuned_thresholds_maximise_f1(rng: np.random.Generator) -> None:
    n, k = 300, 3
    y = (rng.random((n, k)) < 0.2).astype(int)
    p = np.clip(0.4 * y + 0.8 * rng.random((n, k)), 0, 1)
    th = tune_thresholds(y, p)
    best = f1_per_class(y, p, th)
    for c in range(k):
        grid = np.unique(p[:, c])
        brute = max(f1_per_class(y[:, [c]], p[:, [c]], t)[0] for t in grid)
        assert best[c] == pytest.approx(brute, abs=1e-12)


def test_multilabel_metrics_and_ci(rng: np.random.Generator) -> None:
    n, k = 200, 4
    y = (rng.random((n, k)) < 0.3).astype(int)
    p = np.clip(0.5 * y + 0.6 * rng.random((n, k)), 0, 1)
    m = multilabel_metrics(y, p, list("ABCD"), n_boot=50, seed=1)
    lo, hi = m.ci["macro_auroc"]
    assert lo <= m.macro_auroc <= hi
    assert m.support == tuple(int(v) for v in y.sum(0))
    d = m.to_dict()
    assert set(d["per_class"]) == set("ABCD")
    # perfect scores
    perfect = multilabel_metrics(y, y.astype(float), list("ABCD"))
    assert perfect.macro_auroc == 1.0 and perfect.macro_f1 == 1.0


def test_bad_input_names_problem() -> None:
    with pytest.raises(InvalidSignalError, match="same shape"):
        auroc_per_class(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(InvalidSignalError, match="0/1"):
        auroc_per_class(np.full((3, 2), 2), np.zeros((3, 2)))

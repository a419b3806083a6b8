"""Cross-check against scikit-learn's metrics (an independent implementation), tolerance 1e-12.

Random label sets cover imbalanced classes, absent classes and never-predicted classes. Our
averages run over the classes present in the reference with undefined values counted as 0,
which is sklearn's ``labels=<present classes>, zero_division=0``. EC57 statistics are checked as
plain sklearn binary statistics on the beats EC57 keeps in that class's table.
"""

from __future__ import annotations

import numpy as np
import pytest

from cardiostream.metrics import (
    classification_report,
    cohen_kappa,
    confusion_matrix,
    ec57_statistics,
    jk_index,
)
from cardiostream.types import AAMI_CLASSES

skm = pytest.importorskip("sklearn.metrics")

TOL = 1e-12
CLASSES = np.array(AAMI_CLASSES)


def random_labels(rng: np.random.Generator, n: int, p_true, p_err: float, drop_pred=()):
    """Imbalanced reference labels; predictions = reference with ``p_err`` random errors."""
    t = rng.choice(len(CLASSES), size=n, p=p_true)
    p = t.copy()
    wrong = rng.random(n) < p_err
    p[wrong] = rng.integers(0, len(CLASSES), wrong.sum())
    for c in drop_pred:  # make a class never predicted
        p[p == c] = 0
    return CLASSES[t], CLASSES[p]


CASES = [
    # (n, class probabilities, error rate, classes never predicted)
    (5000, [0.85, 0.04, 0.07, 0.01, 0.03], 0.1, ()),
    (800, [0.6, 0.2, 0.2, 0.0, 0.0], 0.3, ()),  # F and Q absent from the reference
    (1200, [0.7, 0.1, 0.1, 0.05, 0.05], 0.2, (3,)),  # F never predicted
    (300, [0.2, 0.2, 0.2, 0.2, 0.2], 0.9, ()),  # near-chance
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_against_sklearn(case, rng):
    n, p_true, p_err, drop = CASES[case]
    y_true, y_pred = random_labels(rng, n, p_true, p_err, drop)
    rep = classification_report(y_true, y_pred)
    labels = list(AAMI_CLASSES)

    np.testing.assert_array_equal(
        rep.confusion, skm.confusion_matrix(y_true, y_pred, labels=labels)
    )
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred), rep.confusion)
    assert abs(rep.accuracy - skm.accuracy_score(y_true, y_pred)) <= TOL
    assert abs(rep.kappa - skm.cohen_kappa_score(y_true, y_pred, labels=labels)) <= TOL

    p, r, f, s = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=np.nan
    )
    np.testing.assert_allclose(rep.precision, p, rtol=0, atol=TOL, equal_nan=True)
    np.testing.assert_allclose(rep.recall, r, rtol=0, atol=TOL, equal_nan=True)
    np.testing.assert_array_equal(rep.support, s)
    # sklearn's F1 is NaN (zero_division) whenever precision or recall is undefined; ours only
    # when the class is absent from both. Where sklearn defines it, the two agree.
    ok = ~np.isnan(f)
    np.testing.assert_allclose(rep.f1[ok], f[ok], rtol=0, atol=TOL)

    # Specificity of class c = recall of "not c" in the binarised problem.
    for i, c in enumerate(labels):
        if (y_true != c).any():
            spec = skm.recall_score(y_true != c, y_pred != c)
            assert abs(rep.specificity[i] - spec) <= TOL, c

    present = [c for c in labels if (y_true == c).any()]
    for avg in ("macro", "weighted"):
        p, r, f, _ = skm.precision_recall_fscore_support(
            y_true, y_pred, labels=present, average=avg, zero_division=0
        )
        got = getattr(rep, avg)
        assert abs(got.precision - p) <= TOL, avg
        assert abs(got.recall - r) <= TOL, avg
        assert abs(got.f1 - f) <= TOL, avg


def ec57_kept(y_true: np.ndarray, y_pred: np.ndarray, c: str) -> np.ndarray:
    """Beats in class ``c``'s EC57 table (EC57: reference F/Q labelled V and reference Q labelled
    S are out of the V and S tables respectively)."""
    excluded = {"V": ("F", "Q"), "S": ("Q",)}.get(c, ())
    return ~(np.isin(y_true, excluded) & (y_pred == c))


@pytest.mark.parametrize("case", range(len(CASES)))
def test_ec57_against_sklearn_binary(case, rng):
    n, p_true, p_err, drop = CASES[case]
    y_true, y_pred = random_labels(rng, n, p_true, p_err, drop)
    ec = ec57_statistics(confusion_matrix(y_true, y_pred))
    for i, c in enumerate(AAMI_CLASSES):
        keep = ec57_kept(y_true, y_pred, c)
        t, p = y_true[keep] == c, y_pred[keep] == c
        tn, fp, fn, tp = skm.confusion_matrix(t, p, labels=[False, True]).ravel()
        assert (ec.tp[i], ec.fn[i], ec.fp[i], ec.tn[i]) == (tp, fn, fp, tn), c
        if t.any():
            assert abs(ec.se[i] - skm.recall_score(t, p)) <= TOL, c
        if p.any():
            assert abs(ec.ppv[i] - skm.precision_score(t, p)) <= TOL, c
        if (~t).any():
            assert abs(ec.fpr[i] - (1.0 - skm.recall_score(~t, ~p))) <= TOL, c


def test_jk_kappa_against_sklearn(rng):
    y_true, y_pred = random_labels(rng, 3000, [0.8, 0.08, 0.08, 0.02, 0.02], 0.15)
    jk = jk_index(confusion_matrix(y_true, y_pred))
    kappa = skm.cohen_kappa_score(y_true, y_pred, labels=list(AAMI_CLASSES))
    assert abs(jk.kappa - kappa) <= TOL
    s, v = y_true == "S", y_true == "V"
    keep_v = ec57_kept(y_true, y_pred, "V")
    keep_s = ec57_kept(y_true, y_pred, "S")
    j = (
        skm.recall_score(s, y_pred == "S")
        + skm.precision_score(s[keep_s], y_pred[keep_s] == "S")
        + skm.recall_score(v, y_pred == "V")
        + skm.precision_score(v[keep_v], y_pred[keep_v] == "V")
    )
    assert abs(jk.j - j) <= TOL
    assert abs(jk.jk - (0.5 * kappa + 0.125 * j)) <= TOL
    # Four-class convention (Q dropped), as in Mondéjar-Guerra et al.'s evaluation code.
    four = ("N", "S", "V", "F")
    keep = (y_true != "Q") & (y_pred != "Q")
    jk4 = jk_index(confusion_matrix(y_true[keep], y_pred[keep], four), four)
    assert abs(jk4.kappa - skm.cohen_kappa_score(y_true[keep], y_pred[keep])) <= TOL


def test_kappa_stack_matches_single(rng):
    cms = rng.integers(0, 50, size=(7, 5, 5))
    stacked = cohen_kappa(cms)
    for cm, k in zip(cms, stacked, strict=True):
        t = np.repeat(np.arange(5), cm.sum(axis=1))
        p = np.concatenate([np.repeat(np.arange(5), row) for row in cm])
        assert abs(k - skm.cohen_kappa_score(t, p, labels=range(5))) <= TOL

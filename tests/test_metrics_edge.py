"""Edge cases and input validation of the classification report, EC57 and the metric registry."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from cardiostream.errors import CardiostreamError, InvalidParameterError, UnknownMethodError
from cardiostream.metrics import (
    EC57_EXCLUDED,
    classification_report,
    cohen_kappa,
    confusion_matrix,
    confusion_metric,
    coverage_accuracy_curve,
    ec57_statistics,
    jk_index,
    list_confusion_metrics,
)
from cardiostream.types import AAMI_CLASSES


def labels(rng, n=400):
    t = rng.choice(np.array(AAMI_CLASSES), size=n, p=[0.7, 0.1, 0.1, 0.05, 0.05])
    p = np.where(rng.random(n) < 0.2, rng.choice(np.array(AAMI_CLASSES), size=n), t)
    return t, p


def test_int_and_str_labels_agree(rng):
    t, p = labels(rng)
    idx = {c: i for i, c in enumerate(AAMI_CLASSES)}
    ti = np.array([idx[c] for c in t], dtype=np.int32)
    pi = np.array([idx[c] for c in p], dtype=np.uint8)
    a, b = classification_report(t, p), classification_report(ti, pi)
    assert a.to_dict() == b.to_dict()
    # Mixed: names for the reference, indices for the predictions; lists and object arrays.
    c = classification_report(list(t), pi)
    d = classification_report(t.astype(object), p.astype("S1"))
    assert c.to_dict() == a.to_dict() == d.to_dict()


def test_absent_class_keeps_row_and_nan(rng):
    t = np.array(["N"] * 20 + ["V"] * 5)
    p = np.array(["N"] * 18 + ["S"] * 2 + ["V"] * 5)
    rep = classification_report(t, p)
    assert rep.confusion.shape == (5, 5)
    f, q = AAMI_CLASSES.index("F"), AAMI_CLASSES.index("Q")
    assert rep.support[f] == 0 and rep.confusion[f].sum() == 0
    assert math.isnan(rep.recall[f]) and math.isnan(rep.precision[f]) and math.isnan(rep.f1[f])
    assert math.isnan(rep.ec57.se[q])
    # Averages over the present classes only (N and V): S's predictions do not dilute them.
    assert rep.macro.recall == pytest.approx((18 / 20 + 1.0) / 2, abs=1e-15)
    d = rep.to_dict()
    assert d["per_class"]["F"]["recall"] is None  # NaN → None in JSON
    json.loads(rep.to_json())  # strict JSON (allow_nan=False) does not raise


def test_never_predicted_class_has_f1_zero_and_jk_counts_ppv_as_zero():
    t = np.array(["N"] * 10 + ["S"] * 4 + ["V"] * 4)
    p = np.array(["N"] * 10 + ["N"] * 4 + ["V"] * 4)
    rep = classification_report(t, p)
    s = AAMI_CLASSES.index("S")
    assert rep.f1[s] == 0.0 and rep.recall[s] == 0.0 and math.isnan(rep.precision[s])
    assert rep.jk.j == pytest.approx(0.0 + 0.0 + 1.0 + 1.0, abs=1e-15)
    assert math.isnan(rep.jk.ppv_s)


def test_perfect_and_single_class():
    t = np.array(list("NNSVVFQ"))
    rep = classification_report(t, t)
    assert rep.accuracy == 1.0 and rep.kappa == 1.0 and rep.jk.jk == 1.0
    assert np.all(rep.ec57.fpr == 0.0)
    one = classification_report(["N"] * 5, ["N"] * 5)
    assert one.accuracy == 1.0
    assert math.isnan(one.kappa)  # p_e = 1: chance agreement is total
    assert math.isnan(one.specificity[0])


def test_mismatched_lengths_raise(rng):
    t, p = labels(rng)
    with pytest.raises(InvalidParameterError, match="same length"):
        classification_report(t, p[:-1])
    with pytest.raises(InvalidParameterError, match="same length"):
        confusion_matrix(t[:3], p)
    with pytest.raises(InvalidParameterError, match="groups"):
        classification_report(t, p, groups=np.zeros(t.size - 1))


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (np.array(["N", "X"]), "unknown labels"),
        (np.array([0, 5]), r"\[0, 4\]"),
        (np.array([-1, 0]), r"\[0, 4\]"),
        (np.array([0.0, 1.0]), "dtype float64"),
        (np.array([True, False]), "dtype bool"),
        (np.array([["N"], ["S"]]), "1-D"),
        (np.array(["N", 1], dtype=object), "mix of types"),
    ],
)
def test_bad_labels_raise(y, match):
    with pytest.raises(InvalidParameterError, match=match) as err:
        classification_report(np.array(["N", "S"]), y)
    assert "y_pred" in str(err.value)
    assert isinstance(err.value, ValueError) and isinstance(err.value, CardiostreamError)


def test_empty_and_bad_classes_raise():
    with pytest.raises(InvalidParameterError, match="at least one beat"):
        classification_report([], [])
    for bad in ("NSV", ("N",), ("N", "N"), ("N", "")):
        with pytest.raises(InvalidParameterError, match="'classes'"):
            classification_report(["N"], ["N"], classes=bad)
    with pytest.raises(InvalidParameterError, match="'S' and 'V'"):
        jk_index(np.eye(3), ("N", "F", "Q"))
    assert classification_report(["N", "F"], ["N", "F"], ("N", "F")).jk is None


def test_abstain_label(rng):
    t, p = labels(rng)
    p = p.astype(object)
    abst = rng.random(t.size) < 0.25
    p[abst] = "inconclusive"
    rep = classification_report(t, p, abstain_label="inconclusive")
    ref = classification_report(t[~abst], p[~abst].astype(str))
    np.testing.assert_array_equal(rep.confusion, ref.confusion)
    assert rep.coverage == pytest.approx(1 - abst.mean(), abs=1e-15)
    np.testing.assert_array_equal(rep.abstained, [np.sum(abst & (t == c)) for c in AAMI_CLASSES])
    assert "coverage" in rep.to_markdown()
    with pytest.raises(InvalidParameterError, match="unknown labels"):
        classification_report(t, p)  # without abstain_label the label is unknown
    with pytest.raises(InvalidParameterError, match="abstain_label"):
        classification_report(t, t, abstain_label="N")


def test_report_is_frozen(rng):
    t, p = labels(rng)
    rep = classification_report(t, p, groups=rng.integers(0, 3, t.size))
    with pytest.raises(AttributeError):
        rep.accuracy = 1.0  # type: ignore[misc]
    for arr in (rep.confusion, rep.recall, rep.record_confusion, rep.ec57.se):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 0


def test_markdown_and_dict_content(rng):
    t, p = labels(rng)
    rep = classification_report(t, p, groups=rng.integers(0, 3, t.size))
    md = rep.to_markdown()
    assert md.count("\n| ") >= 2 * len(AAMI_CLASSES) + 2
    assert f"| **V** | {' | '.join(str(v) for v in rep.confusion[2])} |" in md
    assert f"{100 * rep.accuracy:.2f}" in md
    d = json.loads(rep.to_json())
    assert set(d) == {
        "classes", "n_beats", "accuracy", "kappa", "coverage", "per_class", "macro",
        "weighted", "ec57", "jk", "confusion_matrix", "records",
    }  # fmt: skip
    assert d["records"]["ids"] == ["0", "1", "2"]
    assert np.array(d["records"]["confusion"]).sum(axis=0).tolist() == d["confusion_matrix"]
    assert set(d["ec57"]["V"]) == {"se", "ppv", "fpr", "tp", "fn", "fp", "tn"}


def test_ec57_exclusions_only_with_named_classes():
    # Three classes: no F or Q, so V's table is plain one-vs-rest.
    cm = np.array([[5, 1, 2], [1, 3, 1], [0, 1, 6]])
    ec = ec57_statistics(cm, ("N", "S", "V"))
    assert ec.fp.tolist() == [1, 2, 3]
    assert dict(EC57_EXCLUDED) == {"V": ("F", "Q"), "S": ("Q",)}
    with pytest.raises(InvalidParameterError, match="'label'"):
        ec.for_class("F")


@pytest.mark.parametrize(
    "cm", [np.ones((3, 4)), -np.ones((3, 3)), np.full((3, 3), np.nan), np.ones(3), np.ones((1, 1))]
)
def test_bad_confusion_raises(cm):
    with pytest.raises(InvalidParameterError, match="confusion"):
        cohen_kappa(cm)


def test_registry(rng):
    names = list_confusion_metrics()
    assert {"accuracy", "kappa", "jk", "macro_f1", "V_se", "S_ppv", "N_specificity"} <= set(names)
    with pytest.raises(UnknownMethodError, match="valid names are: accuracy, kappa"):
        confusion_metric("V_sensitivity")
    assert "jk" not in list_confusion_metrics(("N", "F"))
    t, p = labels(rng)
    rep = classification_report(t, p)
    got = {n: float(confusion_metric(n)(rep.confusion)) for n in names}
    assert got["accuracy"] == rep.accuracy
    assert got["kappa"] == rep.kappa
    assert got["jk"] == rep.jk.jk and got["j"] == rep.jk.j
    assert got["weighted_recall"] == rep.weighted.recall
    assert got["macro_f1"] == rep.macro.f1
    for i, c in enumerate(AAMI_CLASSES):
        assert got[f"{c}_se"] == rep.ec57.se[i] and got[f"{c}_fpr"] == rep.ec57.fpr[i]
        assert got[f"{c}_precision"] == rep.precision[i]
    # Stacks: one value per matrix.
    stack = np.stack([rep.confusion, np.eye(5, dtype=int) * 3])
    np.testing.assert_array_equal(confusion_metric("accuracy")(stack), [rep.accuracy, 1.0])


def test_coverage_curve_properties(rng):
    t, p = labels(rng, 1000)
    conf = np.round(rng.random(t.size), 2)  # ties
    th, cov, acc = coverage_accuracy_curve(t, p, conf)
    assert np.all(np.diff(th) < 0) and np.all(np.diff(cov) > 0)
    assert th.size == np.unique(conf).size
    assert cov[-1] == 1.0 and acc[-1] == pytest.approx(np.mean(t == p), abs=1e-15)
    kept = conf >= th[10]
    assert cov[10] == kept.mean() and acc[10] == pytest.approx(np.mean((t == p)[kept]), abs=1e-15)
    with pytest.raises(InvalidParameterError, match="confidence"):
        coverage_accuracy_curve(t, p, np.full(t.size, np.nan))
    with pytest.raises(InvalidParameterError, match="same length"):
        coverage_accuracy_curve(t, p, conf[:-1])
    with pytest.raises(InvalidParameterError, match="usable"):
        coverage_accuracy_curve(t, p, conf, usable=np.ones(t.size))
    none = coverage_accuracy_curve(t, p, conf, usable=np.zeros(t.size, dtype=bool))
    assert none.thresholds.size == 0

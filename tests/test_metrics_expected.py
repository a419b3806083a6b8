"""Metrics against hand-computed values stored in tests/data/metrics_expected.json.

The JSON holds exact fractions ("a/b" and small arithmetic expressions) worked out by hand from
tiny confusion matrices; they are evaluated here with :class:`fractions.Fraction`, so the only
tolerance is float rounding of the code under test (1e-12).
"""

from __future__ import annotations

import ast
import json
import math
import operator
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from cardiostream.metrics import (
    classification_report,
    coverage_accuracy_curve,
    ec57_record_average,
    ec57_statistics,
    jk_index,
)

EXPECTED = json.loads((Path(__file__).parent / "data" / "metrics_expected.json").read_text())
TOL = 1e-12
_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def value(expr: str) -> float:
    """Evaluate "a/b", "(x + y) / 2", "nan" exactly (Fractions), return a float."""
    if expr == "nan":
        return math.nan

    def ev(node: ast.AST) -> Fraction:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return Fraction(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        raise ValueError(f"unsupported expression {expr!r}")

    return float(ev(ast.parse(expr, mode="eval")))


def values(exprs: list[str]) -> np.ndarray:
    return np.array([value(e) for e in exprs])


def expand(cm: list[list[int]], classes: list[str], rng: np.random.Generator):
    """Label arrays realising a confusion matrix, in a random order."""
    t, p = [], []
    for i, row in enumerate(cm):
        for j, count in enumerate(row):
            t += [classes[i]] * count
            p += [classes[j]] * count
    order = rng.permutation(len(t))
    return np.array(t)[order], np.array(p)[order]


def assert_close(got, want, what: str) -> None:
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL, equal_nan=True, err_msg=what)


@pytest.fixture
def five():
    return EXPECTED["five_class"]


def test_five_class_report(five, rng):
    y_true, y_pred = expand(five["confusion"], five["classes"], rng)
    rep = classification_report(y_true, y_pred, five["classes"])
    np.testing.assert_array_equal(rep.confusion, five["confusion"])
    assert rep.n_beats == 110
    assert_close(rep.accuracy, value(five["accuracy"]), "accuracy")
    assert_close(rep.kappa, value(five["kappa"]), "kappa")
    np.testing.assert_array_equal(rep.support, five["support"])
    for name in ("precision", "recall", "specificity", "f1"):
        assert_close(getattr(rep, name), values(five[name]), name)
        assert_close(getattr(rep.macro, name), value(five["macro"][name]), f"macro {name}")
        assert_close(getattr(rep.weighted, name), value(five["weighted"][name]), f"wtd {name}")


def test_five_class_ec57(five):
    ec = ec57_statistics(np.array(five["confusion"]), five["classes"])
    want = five["ec57"]
    for name in ("tp", "fn", "fp", "tn"):
        np.testing.assert_array_equal(getattr(ec, name), want[name], err_msg=name)
    for name in ("se", "ppv", "fpr"):
        assert_close(getattr(ec, name), values(want[name]), name)
    v = ec.for_class("V")
    assert (v.tp, v.fp) == (20, 3)


def test_five_class_jk(five):
    jk = jk_index(np.array(five["confusion"]), five["classes"])
    assert_close(jk.kappa, value(five["kappa"]), "kappa")
    assert_close(jk.j, value(five["jk"]["j"]), "j")
    assert_close(jk.jk, value(five["jk"]["jk"]), "jk")
    assert_close(jk.ppv_v, value("20/23"), "+P V")


def test_five_class_record_average(five, rng):
    rec = five["records"]
    avg = ec57_record_average(np.array([rec["r1"], rec["r2"]]), five["classes"])
    assert_close(avg.se, values(rec["average_se"]), "average Se")
    assert_close(avg.ppv[2], value(rec["average_ppv_V"]), "average +P V")
    np.testing.assert_array_equal(avg.n_se, [2, 2, 2, 2, 2])
    # Through the report with groups: per-record matrices, in sorted record order.
    t1, p1 = expand(rec["r1"], five["classes"], rng)
    t2, p2 = expand(rec["r2"], five["classes"], rng)
    groups = np.array(["r2"] * t2.size + ["r1"] * t1.size)
    rep = classification_report(
        np.concatenate([t2, t1]), np.concatenate([p2, p1]), five["classes"], groups
    )
    assert rep.record_ids == ("r1", "r2")
    np.testing.assert_array_equal(rep.record_confusion, [rec["r1"], rec["r2"]])
    np.testing.assert_array_equal(rep.confusion, five["confusion"])
    assert_close(rep.ec57_record_average.se, values(rec["average_se"]), "report average Se")


def test_degenerate_three_class():
    d = EXPECTED["three_class_degenerate"]
    rep = classification_report(d["y_true"], d["y_pred"], d["classes"])
    assert_close(rep.accuracy, value(d["accuracy"]), "accuracy")
    assert_close(rep.kappa, value(d["kappa"]), "kappa")
    np.testing.assert_array_equal(rep.support, d["support"])
    for name in ("precision", "recall", "specificity", "f1"):
        assert_close(getattr(rep, name), values(d[name]), name)
        assert_close(getattr(rep.macro, name), value(d["macro"][name]), f"macro {name}")
        assert_close(getattr(rep.weighted, name), value(d["weighted"][name]), f"wtd {name}")
    assert math.isnan(rep.jk.j) and math.isnan(rep.jk.jk)
    assert math.isnan(rep.jk.se_s)


def test_coverage_curve():
    c = EXPECTED["coverage"]
    curve = coverage_accuracy_curve(c["y_true"], c["y_pred"], c["confidence"])
    thresholds, coverage, accuracy = curve
    assert_close(thresholds, c["thresholds"], "thresholds")
    assert_close(coverage, values(c["coverage"]), "coverage")
    assert_close(accuracy, values(c["accuracy"]), "accuracy")
    curve = coverage_accuracy_curve(
        c["y_true"], c["y_pred"], c["confidence"], usable=np.array(c["usable"])
    )
    assert_close(curve.thresholds, c["usable_thresholds"], "usable thresholds")
    assert_close(curve.coverage, values(c["usable_coverage"]), "usable coverage")
    assert_close(curve.accuracy, values(c["usable_accuracy"]), "usable accuracy")

"""Classification report: accuracy, per-class precision / recall / specificity / F1, macro and
weighted averages, Cohen's kappa, EC57 statistics, jκ and the confusion matrix.

Definitions (per class ``c``, one-vs-rest counts ``TP, FN, FP, TN`` from the confusion matrix,
rows = reference, columns = predicted; the measures of paper 003's "Evaluation Metrices" table
(accuracy, precision, recall, specificity, F1), with scikit-learn's conventions):

* precision (+P) = TP / (TP + FP); NaN when the class is never predicted;
* recall (Se)    = TP / (TP + FN); NaN when the class has no reference beats (support 0);
* specificity    = TN / (TN + FP); NaN when every beat belongs to the class;
* F1             = 2 TP / (2 TP + FP + FN); NaN only when the class is absent from both the
  reference and the predictions (a present class that is never predicted has F1 = 0);
* accuracy       = trace / n.

Averages run over the classes *present in the reference* (support > 0); an undefined value of a
present class (precision of a never-predicted class) counts as 0, as scikit-learn's
``zero_division=0``: *macro* is their plain mean, *weighted* their support-weighted mean. Absent
classes keep their row (all zeros) in the matrix and NaN per-class values, but do not dilute the
averages. The plain precision of V differs from the EC57 +P of V (see :mod:`.ec57`): both are
reported. All values are fractions in [0, 1].
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidParameterError
from ..types import AAMI_CLASSES, _frozen
from ._confusion import (
    check_classes,
    check_same_length,
    confusion_from_codes,
    encode_groups,
    encode_labels,
    grouped_confusion_from_codes,
    none_if_nan,
    one_vs_rest,
    safe_div,
)
from .agreement import JKIndex, cohen_kappa, jk_index
from .ec57 import EC57RecordAverage, EC57Statistics, ec57_record_average, ec57_statistics

__all__ = [
    "AveragedMetrics",
    "ClassificationReport",
    "accuracy_from_confusion",
    "average_metrics",
    "classification_report",
    "confusion_matrix",
    "per_class_metrics",
]


def confusion_matrix(
    y_true: object, y_pred: object, classes: Sequence[str] = AAMI_CLASSES
) -> np.ndarray:
    """``(k, k)`` int64 confusion matrix, rows = reference, columns = predicted, order ``classes``.

    Labels are class names or integer indices into ``classes``; every class has a row and a
    column even when absent.
    """
    classes = check_classes(classes)
    t = encode_labels(y_true, classes, "y_true")
    p = encode_labels(y_pred, classes, "y_pred")
    check_same_length(y_true=t, y_pred=p)
    return confusion_from_codes(t, p, len(classes))


def accuracy_from_confusion(cm: np.ndarray) -> np.ndarray:
    """Accuracy of each matrix of a ``(..., k, k)`` stack (NaN for an empty matrix)."""
    cm = np.asarray(cm, np.float64)
    return safe_div(np.trace(cm, axis1=-2, axis2=-1), cm.sum(axis=(-2, -1)))


def per_class_metrics(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class ``precision, recall, specificity, f1, support`` of a ``(..., k, k)`` stack."""
    cm = np.asarray(cm, np.float64)
    tp, fn, fp, tn = one_vs_rest(cm)
    return {
        "precision": safe_div(tp, tp + fp),
        "recall": safe_div(tp, tp + fn),
        "specificity": safe_div(tn, tn + fp),
        "f1": safe_div(2 * tp, 2 * tp + fp + fn),
        "support": tp + fn,
    }


def average_metrics(cm: np.ndarray, weighted: bool = False) -> dict[str, np.ndarray]:
    """Macro (or support-weighted) ``precision, recall, specificity, f1`` of a ``(..., k, k)``
    stack, over the classes present in the reference; undefined values count as 0."""
    m = per_class_metrics(cm)
    support = m["support"]
    w = support if weighted else (support > 0).astype(np.float64)
    return {
        name: safe_div((np.where(np.isnan(m[name]), 0.0, m[name]) * w).sum(axis=-1), w.sum(-1))
        for name in ("precision", "recall", "specificity", "f1")
    }


@dataclass(frozen=True)
class AveragedMetrics:
    """Macro or weighted averages (fractions; NaN only for an empty evaluation)."""

    precision: float
    recall: float
    specificity: float
    f1: float

    def to_dict(self) -> dict[str, float | None]:
        return {k: none_if_nan(v) for k, v in self.__dict__.items()}


@dataclass(frozen=True, eq=False)
class ClassificationReport:
    """Everything an evaluation reports about one set of predictions.

    Attributes
    ----------
    classes : tuple of str
        Class order of every array and of the matrix.
    confusion : ndarray of int64, shape (k, k)
        Rows = reference class, columns = predicted class (abstained beats excluded).
    n_beats : int
        Beats in ``confusion``.
    accuracy, kappa : float
    precision, recall, specificity, f1 : ndarray of float, shape (k,)
        Per class (NaN when undefined; see the module docstring).
    support : ndarray of int64, shape (k,)
        Reference beats per class (in ``confusion``).
    macro, weighted : AveragedMetrics
    ec57 : EC57Statistics
        Gross EC57 Se, +P, FPR.
    jk : JKIndex or None
        jκ index (None when "S" or "V" is not among the classes).
    abstained : ndarray of int64, shape (k,)
        Reference beats per class whose prediction was the abstain label (zeros without one).
    coverage : float
        Fraction of beats not abstained (1.0 without abstain label).
    record_ids : tuple of str or None
        With ``groups``: the distinct records, sorted.
    record_confusion : ndarray of int64, shape (n_records, k, k), or None
        With ``groups``: per-record matrices (they sum to ``confusion``).
    ec57_record_average : EC57RecordAverage or None
        With ``groups``: record-averaged EC57 statistics.
    """

    classes: tuple[str, ...]
    confusion: np.ndarray
    n_beats: int
    accuracy: float
    kappa: float
    precision: np.ndarray
    recall: np.ndarray
    specificity: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    macro: AveragedMetrics
    weighted: AveragedMetrics
    ec57: EC57Statistics
    jk: JKIndex | None
    abstained: np.ndarray
    coverage: float
    record_ids: tuple[str, ...] | None = None
    record_confusion: np.ndarray | None = None
    ec57_record_average: EC57RecordAverage | None = None

    def __post_init__(self) -> None:
        for f in ("confusion", "support", "abstained"):
            object.__setattr__(self, f, _frozen(np.asarray(getattr(self, f), np.int64)))
        for f in ("precision", "recall", "specificity", "f1"):
            object.__setattr__(self, f, _frozen(np.asarray(getattr(self, f), np.float64)))
        if self.record_confusion is not None:
            object.__setattr__(
                self, "record_confusion", _frozen(np.asarray(self.record_confusion, np.int64))
            )

    def to_dict(self) -> dict:
        """JSON-ready dict (NaN → None; fractions, not percentages).

        Keys: ``classes`` (list), ``n_beats``, ``accuracy``, ``kappa``, ``coverage``,
        ``per_class`` ({class: {``precision``, ``recall``, ``specificity``, ``f1``, ``support``,
        ``abstained``}}), ``macro`` and ``weighted`` ({``precision``, ``recall``,
        ``specificity``, ``f1``}), ``ec57`` ({class: {``se``, ``ppv``, ``fpr``, ``tp``, ``fn``,
        ``fp``, ``tn``}}), ``jk`` ({``kappa``, ``j``, ``jk``, ``se_s``, ``ppv_s``, ``se_v``,
        ``ppv_v``} or None), ``confusion_matrix`` (list of rows, reference × predicted) and
        ``records`` (None, or {``ids``, ``confusion`` (per-record matrices), ``ec57_average``
        ({class: {``se``, ``ppv``, ``fpr``, ``n_se``, ``n_ppv``, ``n_fpr``}})}).
        """
        per_class = {
            c: {
                "precision": none_if_nan(self.precision[i]),
                "recall": none_if_nan(self.recall[i]),
                "specificity": none_if_nan(self.specificity[i]),
                "f1": none_if_nan(self.f1[i]),
                "support": int(self.support[i]),
                "abstained": int(self.abstained[i]),
            }
            for i, c in enumerate(self.classes)
        }
        records = None
        if self.record_ids is not None and self.record_confusion is not None:
            records = {
                "ids": list(self.record_ids),
                "confusion": self.record_confusion.tolist(),
                "ec57_average": (
                    self.ec57_record_average.to_dict() if self.ec57_record_average else None
                ),
            }
        return {
            "classes": list(self.classes),
            "n_beats": self.n_beats,
            "accuracy": none_if_nan(self.accuracy),
            "kappa": none_if_nan(self.kappa),
            "coverage": none_if_nan(self.coverage),
            "per_class": per_class,
            "macro": self.macro.to_dict(),
            "weighted": self.weighted.to_dict(),
            "ec57": self.ec57.to_dict(),
            "jk": self.jk.to_dict() if self.jk is not None else None,
            "confusion_matrix": self.confusion.tolist(),
            "records": records,
        }

    def to_json(self, **kwargs: object) -> str:
        """``json.dumps(self.to_dict())`` (strict JSON: no NaN)."""
        return json.dumps(self.to_dict(), allow_nan=False, **kwargs)

    def to_markdown(self, digits: int = 2) -> str:
        """Markdown: summary line, per-class table (percent) and confusion-matrix table."""

        def pct(x: float) -> str:
            return "–" if math.isnan(x) else f"{100 * x:.{digits}f}"

        lines = [
            f"Beats: {self.n_beats} · accuracy {pct(self.accuracy)} % · κ "
            + ("–" if math.isnan(self.kappa) else f"{self.kappa:.4f}")
            + (
                f" · jκ {self.jk.jk:.4f}"
                if self.jk is not None and not math.isnan(self.jk.jk)
                else ""
            )
            + (f" · coverage {pct(self.coverage)} %" if self.abstained.any() else ""),
            "",
            "| class | support | precision | recall (Se) | specificity | F1 "
            "| EC57 Se | EC57 +P | EC57 FPR |",
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for i, c in enumerate(self.classes):
            lines.append(
                f"| {c} | {int(self.support[i])} | {pct(self.precision[i])} | "
                f"{pct(self.recall[i])} | {pct(self.specificity[i])} | {pct(self.f1[i])} | "
                f"{pct(self.ec57.se[i])} | {pct(self.ec57.ppv[i])} | {pct(self.ec57.fpr[i])} |"
            )
        for name, avg in (("macro", self.macro), ("weighted", self.weighted)):
            lines.append(
                f"| *{name}* | {self.n_beats} | {pct(avg.precision)} | {pct(avg.recall)} | "
                f"{pct(avg.specificity)} | {pct(avg.f1)} | | | |"
            )
        lines += [
            "",
            "| reference \\ predicted | " + " | ".join(self.classes) + " |",
            "|---|" + "--:|" * len(self.classes),
        ]
        for i, c in enumerate(self.classes):
            lines.append(f"| **{c}** | " + " | ".join(str(v) for v in self.confusion[i]) + " |")
        return "\n".join(lines) + "\n"


def classification_report(
    y_true: object,
    y_pred: object,
    classes: Sequence[str] = AAMI_CLASSES,
    groups: object | None = None,
    *,
    abstain_label: str | None = None,
) -> ClassificationReport:
    """Evaluate predictions against reference labels.

    Parameters
    ----------
    y_true, y_pred : array_like, shape (n,)
        Class names or integer indices into ``classes`` (same kind in both is not required).
    classes : sequence of str
        Class order (default the AAMI five N, S, V, F, Q); absent classes keep their row.
    groups : array_like, shape (n,), optional
        Record of each beat: adds per-record matrices and record-averaged EC57 statistics.
    abstain_label : str, optional
        A prediction equal to this label (e.g. ``"inconclusive"``) is an abstention: the beat is
        left out of every metric and counted in ``abstained`` / ``coverage``.

    Raises
    ------
    InvalidParameterError
        Empty or mismatched label arrays, unknown labels, bad classes or groups.
    """
    classes = check_classes(classes)
    if abstain_label is not None and abstain_label in classes:
        raise InvalidParameterError(
            f"The 'abstain_label' parameter must not be one of the classes {classes}, "
            f"got {abstain_label!r} instead."
        )
    k = len(classes)
    if np.size(y_true) == 0:
        raise InvalidParameterError(
            "The 'y_true' parameter must hold at least one beat, got an empty array instead."
        )
    t = encode_labels(y_true, classes, "y_true")
    yp = np.asarray(y_pred)
    check_same_length(y_true=t, y_pred=yp)
    n_total = t.size
    kept = np.ones(n_total, dtype=bool)
    if abstain_label is not None and yp.dtype.kind in "UOS":
        kept = yp.astype(str) != abstain_label
    p = encode_labels(yp[kept], classes, "y_pred")
    abstained = np.bincount(t[~kept], minlength=k)
    t = t[kept]

    cm = confusion_from_codes(t, p, k)
    m = per_class_metrics(cm)
    macro, weighted = average_metrics(cm), average_metrics(cm, weighted=True)

    record_ids = record_cm = rec_avg = None
    if groups is not None:
        record_ids, g = encode_groups(groups, n_total)
        record_cm = grouped_confusion_from_codes(t, p, g[kept], len(record_ids), k)
        rec_avg = ec57_record_average(record_cm, classes)

    return ClassificationReport(
        classes=classes,
        confusion=cm,
        n_beats=int(t.size),
        accuracy=float(accuracy_from_confusion(cm)),
        kappa=float(cohen_kappa(cm)),
        precision=m["precision"],
        recall=m["recall"],
        specificity=m["specificity"],
        f1=m["f1"],
        support=m["support"],
        macro=AveragedMetrics(**{n: float(v) for n, v in macro.items()}),
        weighted=AveragedMetrics(**{n: float(v) for n, v in weighted.items()}),
        ec57=ec57_statistics(cm, classes),
        jk=jk_index(cm, classes) if {"S", "V"} <= set(classes) else None,
        abstained=abstained,
        coverage=float(kept.mean()),
        record_ids=record_ids,
        record_confusion=record_cm,
        ec57_record_average=rec_avg,
    )

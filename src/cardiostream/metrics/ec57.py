"""AAMI EC57 beat-classification statistics: per-class Se, +P and FPR, gross and record-averaged.

Reference: ANSI/AAMI EC57:1998/(R)2008, *Testing and reporting performance results of cardiac
rhythm and ST segment measurement algorithms*, as implemented by PhysioNet's beat-by-beat
comparator ``bxb`` (G. Moody, WFDB ``app/bxb.c``, written to the EC38:1998 / EC57:1998
comparison rules; its SVEB statistics are the ``-S``/``-C``/``-L`` reports) and used for the
inter-patient protocol by de Chazal, O'Dwyer & Reilly, IEEE TBME 51(7):1196-1206, 2004.

For a class ``c`` with the confusion matrix ``cm`` (rows reference, columns algorithm):

* ``TP = cm[c, c]``; ``FN = sum(cm[c, :]) - TP``; ``FP = sum(cm[:, c]) - TP - excluded``;
  ``TN`` = every beat neither in row ``c`` nor in column ``c``.
* ``Se = TP / (TP + FN)``, ``+P = TP / (TP + FP)``, ``FPR = FP / (TN + FP)``.

The EC57 special cases (``excluded``), kept out of the class's table altogether (neither FP nor
TN):

* **V** (VEB): reference **F** and **Q** beats labelled V are *not* false positives
  (bxb: ``VFP = Nv + Sv``, ``VTN`` has no ``Fv``/``Qv``): fusion beats are part-ventricular and
  unclassifiable beats have no reference class to contradict.
* **S** (SVEB): reference **Q** beats labelled S are not false positives (bxb: ``SFP = Ns + Vs +
  Fs``). Reference F beats labelled S *are* false positives. bxb prints no SVEB FPR; the S FPR here
  (as in de Chazal et al.'s tables) uses the same table, so Qs is neither FP nor TN.
* **N**, **F**, **Q**: plain one-vs-rest, no exclusion (EC57 defines no special rule).

Q beats still count in the *sensitivity* of every class (a V beat labelled Q is a missed V). The
rules apply by class *name* and only when the named classes are in ``classes``; with three classes
N/S/V nothing is excluded. The tables used here hold matched beats only (classification on the
reference beat positions, or after matching detections); unmatched beats (bxb's O and X columns)
are the caller's business (count missed reference beats as a row of misses before calling).

Gross statistics pool all beats (sum of per-record matrices); record-averaged statistics (EC57's
"average" statistics) are the mean over records of the per-record statistic, over the records
where it is defined (non-zero denominator). Undefined values are NaN (bxb prints ``-``). All
values are fractions in [0, 1], not percentages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from ..errors import InvalidParameterError
from ..types import AAMI_CLASSES, _frozen
from ._confusion import check_classes, check_confusion, none_if_nan, one_vs_rest, safe_div

__all__ = [
    "EC57_EXCLUDED",
    "EC57ClassStats",
    "EC57RecordAverage",
    "EC57Statistics",
    "ec57_counts",
    "ec57_record_average",
    "ec57_statistics",
]

#: For each class (key), the reference classes whose beats predicted as that class are not false
#: positives under EC57 (see the module docstring).
EC57_EXCLUDED: Mapping[str, tuple[str, ...]] = MappingProxyType({"V": ("F", "Q"), "S": ("Q",)})


def ec57_counts(
    cm: np.ndarray, classes: Sequence[str] = AAMI_CLASSES
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """EC57 ``(tp, fn, fp, tn)`` per class of ``cm`` (``(..., k, k)``), each ``(..., k)`` float.

    Broadcasts over leading axes, so a stack of bootstrap matrices is handled in one call.
    """
    classes = check_classes(classes)
    cm = check_confusion(cm, len(classes))
    tp, fn, fp, tn = one_vs_rest(cm)
    fp = fp.copy()
    for c, excluded_from in EC57_EXCLUDED.items():
        if c not in classes:
            continue
        j = classes.index(c)
        for r in excluded_from:
            if r in classes:
                fp[..., j] -= cm[..., classes.index(r), j]
    return tp, fn, fp, tn


@dataclass(frozen=True)
class EC57ClassStats:
    """EC57 statistics of one class: fractions (NaN when undefined) and the counts behind them."""

    label: str
    se: float
    ppv: float
    fpr: float
    tp: int
    fn: int
    fp: int
    tn: int


@dataclass(frozen=True, eq=False)
class EC57Statistics:
    """Gross EC57 statistics of every class (see the module docstring for the definitions).

    Attributes
    ----------
    classes : tuple of str
    se, ppv, fpr : ndarray of float, shape (k,)
        Sensitivity, positive predictivity and false-positive rate (fractions; NaN if undefined).
    tp, fn, fp, tn : ndarray of int64, shape (k,)
        The EC57 counts (excluded beats are in none of them).
    """

    classes: tuple[str, ...]
    se: np.ndarray
    ppv: np.ndarray
    fpr: np.ndarray
    tp: np.ndarray
    fn: np.ndarray
    fp: np.ndarray
    tn: np.ndarray

    def __post_init__(self) -> None:
        for f in ("se", "ppv", "fpr"):
            object.__setattr__(self, f, _frozen(np.asarray(getattr(self, f), np.float64)))
        for f in ("tp", "fn", "fp", "tn"):
            object.__setattr__(self, f, _frozen(np.asarray(getattr(self, f), np.int64)))

    def for_class(self, label: str) -> EC57ClassStats:
        """Statistics of one class by name."""
        if label not in self.classes:
            raise InvalidParameterError(
                f"The 'label' parameter must be one of {self.classes}, got {label!r} instead."
            )
        i = self.classes.index(label)
        return EC57ClassStats(
            label,
            float(self.se[i]),
            float(self.ppv[i]),
            float(self.fpr[i]),
            int(self.tp[i]),
            int(self.fn[i]),
            int(self.fp[i]),
            int(self.tn[i]),
        )

    def to_dict(self) -> dict[str, dict[str, float | int | None]]:
        """``{class: {"se", "ppv", "fpr", "tp", "fn", "fp", "tn"}}``; NaN becomes None."""
        out: dict[str, dict[str, float | int | None]] = {}
        for c in self.classes:
            s = self.for_class(c)
            out[c] = {
                "se": none_if_nan(s.se),
                "ppv": none_if_nan(s.ppv),
                "fpr": none_if_nan(s.fpr),
                "tp": s.tp,
                "fn": s.fn,
                "fp": s.fp,
                "tn": s.tn,
            }
        return out


def ec57_statistics(confusion: object, classes: Sequence[str] = AAMI_CLASSES) -> EC57Statistics:
    """Gross EC57 Se, +P and FPR of each class from one ``(k, k)`` confusion matrix.

    Parameters
    ----------
    confusion : array_like, shape (k, k)
        Counts, rows = reference class, columns = predicted class, in the order of ``classes``.
    classes : sequence of str
        Class names; the EC57 exclusions apply to the names "S", "V", "F", "Q" when present.
    """
    classes = check_classes(classes)
    cm = check_confusion(confusion, len(classes))
    if cm.ndim != 2:
        raise InvalidParameterError(
            f"The 'confusion' parameter must be one (k, k) matrix, got shape {cm.shape} instead; "
            "use ec57_record_average for per-record matrices."
        )
    tp, fn, fp, tn = ec57_counts(cm, classes)
    return EC57Statistics(
        classes=classes,
        se=safe_div(tp, tp + fn),
        ppv=safe_div(tp, tp + fp),
        fpr=safe_div(fp, tn + fp),
        tp=np.rint(tp),
        fn=np.rint(fn),
        fp=np.rint(fp),
        tn=np.rint(tn),
    )


@dataclass(frozen=True, eq=False)
class EC57RecordAverage:
    """EC57 statistics averaged over records, each over the records where it is defined.

    Attributes
    ----------
    classes : tuple of str
    se, ppv, fpr : ndarray of float, shape (k,)
        Mean of the per-record statistic (NaN when no record defines it).
    n_se, n_ppv, n_fpr : ndarray of int64, shape (k,)
        Number of records the mean is over.
    """

    classes: tuple[str, ...]
    se: np.ndarray
    ppv: np.ndarray
    fpr: np.ndarray
    n_se: np.ndarray
    n_ppv: np.ndarray
    n_fpr: np.ndarray

    def __post_init__(self) -> None:
        for f in ("se", "ppv", "fpr"):
            object.__setattr__(self, f, _frozen(np.asarray(getattr(self, f), np.float64)))
        for f in ("n_se", "n_ppv", "n_fpr"):
            object.__setattr__(self, f, _frozen(np.asarray(getattr(self, f), np.int64)))

    def to_dict(self) -> dict[str, dict[str, float | int | None]]:
        """``{class: {"se", "ppv", "fpr", "n_se", "n_ppv", "n_fpr"}}``; NaN becomes None."""
        return {
            c: {
                "se": none_if_nan(self.se[i]),
                "ppv": none_if_nan(self.ppv[i]),
                "fpr": none_if_nan(self.fpr[i]),
                "n_se": int(self.n_se[i]),
                "n_ppv": int(self.n_ppv[i]),
                "n_fpr": int(self.n_fpr[i]),
            }
            for i, c in enumerate(self.classes)
        }


def ec57_record_average(
    record_confusion: object, classes: Sequence[str] = AAMI_CLASSES
) -> EC57RecordAverage:
    """Record-averaged EC57 statistics from per-record matrices of shape ``(n_records, k, k)``."""
    classes = check_classes(classes)
    cms = check_confusion(record_confusion, len(classes), name="record_confusion")
    if cms.ndim != 3:
        raise InvalidParameterError(
            "The 'record_confusion' parameter must have shape (n_records, k, k), "
            f"got {cms.shape} instead."
        )
    tp, fn, fp, tn = ec57_counts(cms, classes)
    values = {
        "se": safe_div(tp, tp + fn),
        "ppv": safe_div(tp, tp + fp),
        "fpr": safe_div(fp, tn + fp),
    }
    means, counts = {}, {}
    for key, v in values.items():
        defined = ~np.isnan(v)
        n = defined.sum(axis=0)
        means[key] = safe_div(np.where(defined, v, 0.0).sum(axis=0), n)
        counts["n_" + key] = n
    return EC57RecordAverage(classes=classes, **means, **counts)

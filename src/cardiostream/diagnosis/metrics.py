"""Multi-label metrics of the PTB-XL benchmark: macro AUROC, AUPRC, F1, thresholds, CIs.

Strodthoff et al. (2021) rank models by the macro-averaged area under the ROC curve (term-centric,
over classes); we add the macro area under the precision-recall curve (average precision, as
scikit-learn defines it), macro-F1 at a 0.5 threshold and at per-class thresholds tuned on the
validation fold, and record-bootstrap 95 % confidence intervals. AUROC is computed from ranks
(Mann-Whitney U, Hanley & McNeil 1982), which is exact with ties and fast enough to bootstrap;
tests cross-check it and the AUPRC against scikit-learn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import rankdata

from ..errors import InvalidSignalError, check_param

__all__ = [
    "MultilabelMetrics",
    "auprc_per_class",
    "auroc_per_class",
    "bootstrap_ci",
    "f1_per_class",
    "multilabel_metrics",
    "tune_thresholds",
]


def _check(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y)
    p = np.asarray(p, dtype=np.float64)
    if y.ndim != 2 or p.shape != y.shape or not np.isfinite(p).all():
        raise InvalidSignalError(
            f"Labels and scores must be finite arrays of the same shape (records, classes), got "
            f"{y.shape} and {p.shape}."
        )
    if not np.isin(y, (0, 1)).all():
        raise InvalidSignalError("Labels must be 0/1 (multi-hot).")
    return y.astype(bool), p


def auroc_per_class(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Area under the ROC curve of each class; NaN where a class has one label value only."""
    yb, p = _check(y, p)
    out = np.full(yb.shape[1], np.nan)
    for c in range(yb.shape[1]):
        pos = yb[:, c]
        n_pos = int(pos.sum())
        n_neg = pos.size - n_pos
        if n_pos == 0 or n_neg == 0:
            continue
        r = rankdata(p[:, c])
        out[c] = (r[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return out


def auprc_per_class(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Average precision of each class (step-wise, no interpolation); NaN without positives."""
    yb, p = _check(y, p)
    out = np.full(yb.shape[1], np.nan)
    for c in range(yb.shape[1]):
        pos = yb[:, c]
        n_pos = int(pos.sum())
        if n_pos == 0:
            continue
        order = np.argsort(-p[:, c], kind="mergesort")
        s = p[order, c]
        t = pos[order]
        tp = np.cumsum(t)
        # one operating point per distinct score: the last index of each tie group
        last = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1]
        tp_k = tp[last]
        precision = tp_k / (last + 1)
        recall = tp_k / n_pos
        out[c] = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    return out


def f1_per_class(y: np.ndarray, p: np.ndarray, thresholds: np.ndarray | float) -> np.ndarray:
    """F1 of each class with ``p >= threshold`` (0 where a class has no positives and none
    predicted is counted as undefined: NaN)."""
    yb, p = _check(y, p)
    th = np.broadcast_to(np.asarray(thresholds, dtype=np.float64), (yb.shape[1],))
    pred = p >= th[None, :]
    tp = (pred & yb).sum(0).astype(float)
    fp = (pred & ~yb).sum(0).astype(float)
    fn = (~pred & yb).sum(0).astype(float)
    denom = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), np.nan)


def tune_thresholds(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Per-class threshold maximising F1 on (validation) labels ``y`` and scores ``p``.

    Candidates are the observed scores; a class without positives keeps 0.5.
    """
    yb, p = _check(y, p)
    out = np.full(yb.shape[1], 0.5)
    for c in range(yb.shape[1]):
        pos = yb[:, c]
        n_pos = int(pos.sum())
        if n_pos == 0:
            continue
        order = np.argsort(-p[:, c], kind="mergesort")
        s = p[order, c]
        tp = np.cumsum(pos[order])
        last = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1]
        f1 = 2 * tp[last] / (last + 1 + n_pos)
        k = int(np.argmax(f1))
        # midway to the next lower score, so the same records stay positive under small shifts
        nxt = s[last[k] + 1] if last[k] + 1 < s.size else s[last[k]] - 1e-6
        out[c] = float((s[last[k]] + nxt) / 2)
    return out


def _nanmean(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=float)
    return float(np.nanmean(x)) if np.isfinite(x).any() else float("nan")


@dataclass(frozen=True)
class MultilabelMetrics:
    """Record-level metrics of one model on one task (AUROC/AUPRC in 0-1, F1 in 0-1).

    Attributes
    ----------
    classes : tuple of str
    n_records : int
    macro_auroc, macro_auprc, macro_f1, macro_f1_tuned : float
        Means over classes with both label values (AUROC) or with positives (others).
    per_class_auroc, per_class_auprc, per_class_f1_tuned : tuple of float
    support : tuple of int
        Positive records per class.
    thresholds : tuple of float
        The thresholds used for ``macro_f1_tuned``.
    ci : dict
        ``{metric: (low, high)}`` 95 % record-bootstrap intervals (empty if not computed).
    """

    classes: tuple[str, ...]
    n_records: int
    macro_auroc: float
    macro_auprc: float
    macro_f1: float
    macro_f1_tuned: float
    per_class_auroc: tuple[float, ...]
    per_class_auprc: tuple[float, ...]
    per_class_f1_tuned: tuple[float, ...]
    support: tuple[int, ...]
    thresholds: tuple[float, ...]
    ci: dict[str, tuple[float, float]]

    def to_dict(self) -> dict[str, Any]:
        def f(v: float) -> float | None:
            return None if not np.isfinite(v) else round(float(v), 6)

        return {
            "classes": list(self.classes),
            "n_records": self.n_records,
            "macro_auroc": f(self.macro_auroc),
            "macro_auprc": f(self.macro_auprc),
            "macro_f1": f(self.macro_f1),
            "macro_f1_tuned": f(self.macro_f1_tuned),
            "per_class": {
                c: {
                    "auroc": f(a),
                    "auprc": f(b),
                    "f1_tuned": f(g),
                    "support": s,
                    "threshold": f(t),
                }
                for c, a, b, g, s, t in zip(
                    self.classes,
                    self.per_class_auroc,
                    self.per_class_auprc,
                    self.per_class_f1_tuned,
                    self.support,
                    self.thresholds,
                    strict=True,
                )
            },
            "ci": {k: [f(lo), f(hi)] for k, (lo, hi) in self.ci.items()},
        }


def _summary(y: np.ndarray, p: np.ndarray, th: np.ndarray) -> dict[str, float]:
    return {
        "macro_auroc": _nanmean(auroc_per_class(y, p)),
        "macro_auprc": _nanmean(auprc_per_class(y, p)),
        "macro_f1": _nanmean(f1_per_class(y, p, 0.5)),
        "macro_f1_tuned": _nanmean(f1_per_class(y, p, th)),
    }


def bootstrap_ci(
    y: np.ndarray,
    p: np.ndarray,
    thresholds: np.ndarray,
    *,
    n_boot: int = 500,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, tuple[float, float]]:
    """Percentile intervals of the macro metrics over records resampled with replacement."""
    check_param("n_boot", n_boot, isinstance(n_boot, int) and n_boot >= 10, "an integer >= 10")
    yb, p = _check(y, p)
    rng = np.random.default_rng(seed)
    samples: dict[str, list[float]] = {}
    for _ in range(n_boot):
        idx = rng.integers(0, len(yb), len(yb))
        for k, v in _summary(yb[idx], p[idx], thresholds).items():
            samples.setdefault(k, []).append(v)
    a = (1 - level) / 2
    return {
        k: (float(np.nanquantile(v, a)), float(np.nanquantile(v, 1 - a)))
        for k, v in samples.items()
    }


def multilabel_metrics(
    y: np.ndarray,
    p: np.ndarray,
    classes: Sequence[str],
    thresholds: np.ndarray | None = None,
    *,
    n_boot: int = 0,
    seed: int = 0,
) -> MultilabelMetrics:
    """All record-level metrics of scores ``p`` against multi-hot labels ``y``.

    Parameters
    ----------
    y, p : ndarray, shape (records, classes)
    classes : sequence of str
    thresholds : ndarray, optional
        Per-class thresholds (tuned on validation data); default 0.5 everywhere.
    n_boot : int
        Bootstrap resamples for the confidence intervals (0: none).
    """
    yb, p = _check(y, p)
    if len(classes) != yb.shape[1]:
        raise InvalidSignalError(f"{len(classes)} class names for {yb.shape[1]} label columns.")
    th = np.full(yb.shape[1], 0.5) if thresholds is None else np.asarray(thresholds, float)
    s = _summary(yb, p, th)
    ci = bootstrap_ci(yb, p, th, n_boot=n_boot, seed=seed) if n_boot else {}
    return MultilabelMetrics(
        classes=tuple(classes),
        n_records=len(yb),
        macro_auroc=s["macro_auroc"],
        macro_auprc=s["macro_auprc"],
        macro_f1=s["macro_f1"],
        macro_f1_tuned=s["macro_f1_tuned"],
        per_class_auroc=tuple(float(v) for v in auroc_per_class(yb, p)),
        per_class_auprc=tuple(float(v) for v in auprc_per_class(yb, p)),
        per_class_f1_tuned=tuple(float(v) for v in f1_per_class(yb, p, th)),
        support=tuple(int(v) for v in yb.sum(0)),
        thresholds=tuple(float(v) for v in th),
        ci=ci,
    )

"""Selective classification: the coverage-versus-accuracy curve of an abstaining classifier.

A classifier that labels a beat "inconclusive" when its confidence is below a threshold ``t``
keeps the beats with ``confidence >= t``. For every distinct confidence value ``t`` (highest
first) the curve gives the *coverage* (kept beats / all beats) and the *accuracy* on the kept
beats (the accuracy-rejection / risk-coverage curve of Chow, *IRE Trans. Electron. Comput.*
EC-6:247-254, 1957; El-Yaniv & Wiener, *JMLR* 11:1605-1641, 2010). Beats flagged unusable (poor
signal quality) are always abstained, so coverage may stay below 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ..errors import InvalidParameterError
from ..types import AAMI_CLASSES, _frozen
from ._confusion import check_classes, check_same_length, encode_labels

__all__ = ["CoverageCurve", "coverage_accuracy_curve"]


class CoverageCurve(NamedTuple):
    """Coverage-accuracy curve; unpacks as ``thresholds, coverage, accuracy``.

    Attributes
    ----------
    thresholds : ndarray of float, shape (m,)
        Distinct confidence values, decreasing; a beat is kept when ``confidence >= threshold``.
    coverage : ndarray of float, shape (m,)
        Fraction of all beats kept at each threshold (increasing).
    accuracy : ndarray of float, shape (m,)
        Accuracy on the kept beats.
    """

    thresholds: np.ndarray
    coverage: np.ndarray
    accuracy: np.ndarray


def coverage_accuracy_curve(
    y_true: object,
    y_pred: object,
    confidence: object,
    *,
    usable: object | None = None,
    classes: Sequence[str] = AAMI_CLASSES,
) -> CoverageCurve:
    """Coverage and accuracy of "keep the beat when ``confidence >= t``" for every threshold.

    Parameters
    ----------
    y_true, y_pred : array_like, shape (n,)
        Class names or indices into ``classes``.
    confidence : array_like of float, shape (n,)
        Confidence of each prediction (e.g. the calibrated top-class probability); finite.
    usable : array_like of bool, shape (n,), optional
        False marks beats that are always abstained (poor signal quality).

    Returns
    -------
    CoverageCurve
        ``(thresholds, coverage, accuracy)``; empty arrays when no beat is usable.
    """
    classes = check_classes(classes)
    t = encode_labels(y_true, classes, "y_true")
    p = encode_labels(y_pred, classes, "y_pred")
    conf = np.asarray(confidence)
    if conf.ndim != 1 or conf.dtype.kind not in "iuf" or not np.all(np.isfinite(conf)):
        raise InvalidParameterError(
            "The 'confidence' parameter must be a 1-D array of finite numbers, got "
            f"shape {conf.shape}, dtype {conf.dtype} instead."
        )
    n = check_same_length(y_true=t, y_pred=p, confidence=conf)
    if n == 0:
        raise InvalidParameterError(
            "The 'y_true' parameter must hold at least one beat, got an empty array instead."
        )
    keep = np.ones(n, dtype=bool)
    if usable is not None:
        u = np.asarray(usable)
        if u.dtype != bool or u.shape != (n,):
            raise InvalidParameterError(
                f"The 'usable' parameter must be a boolean array of shape ({n},), got "
                f"shape {u.shape}, dtype {u.dtype} instead."
            )
        keep = u
    conf = conf[keep].astype(np.float64)
    correct = (t == p)[keep]
    order = np.argsort(-conf, kind="stable")
    c_sorted = conf[order]
    hits = np.cumsum(correct[order])
    # Index of the last beat of each run of equal confidence: all of a tie are kept together.
    last = np.flatnonzero(np.append(c_sorted[1:] != c_sorted[:-1], c_sorted.size > 0))
    kept = last + 1
    return CoverageCurve(
        thresholds=_frozen(c_sorted[last]),
        coverage=_frozen(kept / n),
        accuracy=_frozen(hits[last] / kept),
    )

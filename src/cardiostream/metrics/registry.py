"""Named metrics of a confusion matrix, for the bootstrap and for benchmark tables.

``confusion_metric(name, classes)`` returns a function of a ``(..., k, k)`` stack of confusion
matrices giving one value per matrix, so 1000 bootstrap resamples are evaluated in one call.
Names (fractions in [0, 1] unless stated):

* ``accuracy``, ``kappa``, ``j`` (in [0, 4]), ``jk`` (jκ; need classes S and V);
* ``macro_<m>`` and ``weighted_<m>`` for ``m`` in precision, recall, specificity, f1;
* per class ``<C>_<m>`` (plain one-vs-rest) and ``<C>_se``, ``<C>_ppv``, ``<C>_fpr`` (EC57).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np

from ..errors import UnknownMethodError
from ..types import AAMI_CLASSES
from ._confusion import check_classes, safe_div
from .agreement import cohen_kappa, jk_values
from .classification import accuracy_from_confusion, average_metrics, per_class_metrics
from .ec57 import ec57_counts

__all__ = ["ConfusionMetric", "confusion_metric", "list_confusion_metrics"]

#: A metric of a ``(..., k, k)`` stack of confusion matrices, one value per matrix.
ConfusionMetric = Callable[[np.ndarray], np.ndarray]

_PLAIN = ("precision", "recall", "specificity", "f1")
_EC57 = ("se", "ppv", "fpr")


def list_confusion_metrics(classes: Sequence[str] = AAMI_CLASSES) -> tuple[str, ...]:
    """All metric names :func:`confusion_metric` accepts for these classes."""
    classes = check_classes(classes)
    names = ["accuracy", "kappa"]
    if {"S", "V"} <= set(classes):
        names += ["j", "jk"]
    names += [f"{avg}_{m}" for avg in ("macro", "weighted") for m in _PLAIN]
    names += [f"{c}_{m}" for c in classes for m in (*_PLAIN, *_EC57)]
    return tuple(names)


def _as_stack(cm: np.ndarray) -> np.ndarray:
    return np.asarray(cm, dtype=np.float64)


def _accuracy(cm: np.ndarray) -> np.ndarray:
    return accuracy_from_confusion(_as_stack(cm))


def _kappa_metric(cm: np.ndarray) -> np.ndarray:
    return np.asarray(cohen_kappa(_as_stack(cm)))


def _jk_part(cm: np.ndarray, classes: tuple[str, ...], which: int) -> np.ndarray:
    return jk_values(_as_stack(cm), classes)[which]


def _average(cm: np.ndarray, metric: str, weighted: bool) -> np.ndarray:
    return average_metrics(_as_stack(cm), weighted=weighted)[metric]


def _plain(cm: np.ndarray, metric: str, index: int) -> np.ndarray:
    return per_class_metrics(_as_stack(cm))[metric][..., index]


def _ec57(cm: np.ndarray, classes: tuple[str, ...], metric: str, index: int) -> np.ndarray:
    tp, fn, fp, tn = ec57_counts(_as_stack(cm), classes)
    num, den = {"se": (tp, tp + fn), "ppv": (tp, tp + fp), "fpr": (fp, tn + fp)}[metric]
    return safe_div(num, den)[..., index]


def confusion_metric(name: str, classes: Sequence[str] = AAMI_CLASSES) -> ConfusionMetric:
    """The metric ``name`` as a function of a ``(..., k, k)`` stack of confusion matrices.

    Raises :class:`UnknownMethodError` listing the valid names.
    """
    classes = check_classes(classes)
    valid = list_confusion_metrics(classes)
    if name not in valid:
        raise UnknownMethodError(
            f"Unknown metric {name!r} for classes {classes}; valid names are: {', '.join(valid)}."
        )
    if name == "accuracy":
        return _accuracy
    if name == "kappa":
        return _kappa_metric
    if name in ("j", "jk"):
        return partial(_jk_part, classes=classes, which=1 if name == "j" else 2)
    prefix, _, metric = name.rpartition("_")
    if prefix in ("macro", "weighted"):
        return partial(_average, metric=metric, weighted=prefix == "weighted")
    index = classes.index(prefix)
    if metric in _EC57:
        return partial(_ec57, classes=classes, metric=metric, index=index)
    return partial(_plain, metric=metric, index=index)

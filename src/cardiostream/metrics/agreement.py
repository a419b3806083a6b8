r"""Cohen's kappa and the jκ index of Mar et al. 2011.

Cohen's kappa (Cohen 1960, *Educ. Psychol. Meas.* 20:37-46) of a confusion matrix ``cm`` with
``n`` beats, row sums ``r_i`` and column sums ``c_i``::

    p_o = trace(cm) / n                     (observed agreement = accuracy)
    p_e = sum_i r_i * c_i / n**2            (agreement expected by chance)
    κ   = (p_o - p_e) / (1 - p_e)           (NaN when p_e == 1 or n == 0)

the same quantity as ``sklearn.metrics.cohen_kappa_score`` (unweighted).

jκ index: T. Mar, S. Zaunseder, J. P. Martínez, M. Llamedo, R. Poll, "Optimization of ECG
classification by means of feature selection", IEEE TBME 58(8):2168-2177, 2011, where it ranks
inter-patient heartbeat classifiers::

    j  = Se_S + +P_S + Se_V + +P_V          (EC57 statistics of the S and V classes, in [0, 4])
    jκ = κ / 2 + j / 8                      (in [-1/2, 1]; 1 for a perfect classifier)

(the weights 1/2 and 1/8 make both halves worth at most 1/2; the same weights, ``w1 = 0.5``
and ``w2 = 0.125``, are in the public MATLAB evaluation code of Mondéjar-Guerra et al., *Biomed.
Signal Process. Control* 47:41-48, 2019, which computes κ from the N/S/V/F matrix).

Here Se and +P are the EC57 values of :mod:`cardiostream.metrics.ec57` (fusion and
unclassifiable beats labelled V are not false positives of V), and κ is taken over all classes
of the matrix passed in: the AAMI five by default; pass the four classes N/S/V/F (Q beats
dropped) for the convention of Mondéjar-Guerra et al.'s code. An undefined +P (the class
was never predicted although present) counts as 0 in ``j``, since the classifier missed all those
beats; an undefined Se (no reference beats of S or V) makes ``j`` and ``jκ`` NaN.

Note: IEEE TBME 58(3):616-625 (2011) is Llamedo & Martínez, "Heartbeat classification using
feature selection driven by database generalization criteria", from the same group; the jκ
definition followed here is the one of Mar et al. 58(8).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidParameterError
from ..types import AAMI_CLASSES
from ._confusion import check_classes, check_confusion, none_if_nan, safe_div
from .ec57 import ec57_counts

__all__ = ["JK_WEIGHTS", "JKIndex", "cohen_kappa", "jk_index", "jk_values"]

#: (weight of κ, weight of j) in jκ = w_κ κ + w_j j (Mar et al. 2011).
JK_WEIGHTS: tuple[float, float] = (0.5, 0.125)


def _kappa(cm: np.ndarray) -> np.ndarray:
    n = cm.sum(axis=(-2, -1))
    rows, cols = cm.sum(axis=-1), cm.sum(axis=-2)
    p_o = safe_div(np.trace(cm, axis1=-2, axis2=-1), n)
    p_e = safe_div((rows * cols).sum(axis=-1), n * n)
    return safe_div(p_o - p_e, np.where(np.isnan(p_e), 0.0, 1.0 - p_e))


def cohen_kappa(confusion: object) -> float | np.ndarray:
    """Cohen's kappa of a ``(k, k)`` confusion matrix, or of each matrix of a ``(..., k, k)`` stack.

    Returns a float for one matrix, an array for a stack; NaN where undefined.
    """
    cm = check_confusion(confusion)
    out = _kappa(cm)
    return float(out) if cm.ndim == 2 else out


def jk_values(
    confusion: object, classes: Sequence[str] = AAMI_CLASSES
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Broadcasting core of :func:`jk_index`: ``(kappa, j, jk, [Se_S, +P_S, Se_V, +P_V])``.

    For ``confusion`` of shape ``(..., k, k)`` the first three have shape ``(...)`` and the last
    ``(..., 4)``.
    """
    classes = check_classes(classes)
    missing = [c for c in ("S", "V") if c not in classes]
    if missing:
        raise InvalidParameterError(
            f"The 'classes' parameter must contain 'S' and 'V' for the jκ index, got {classes} "
            "instead."
        )
    cm = check_confusion(confusion, len(classes))
    tp, fn, fp, _ = ec57_counts(cm, classes)
    se = safe_div(tp, tp + fn)
    ppv = safe_div(tp, tp + fp)
    s, v = classes.index("S"), classes.index("V")
    parts = np.stack([se[..., s], ppv[..., s], se[..., v], ppv[..., v]], axis=-1)
    # An undefined +P (never predicted) counts as 0; an undefined Se leaves NaN (propagates).
    ppv_filled = np.where(np.isnan(parts[..., [1, 3]]), 0.0, parts[..., [1, 3]])
    j = parts[..., 0] + parts[..., 2] + ppv_filled.sum(axis=-1)
    kappa = _kappa(cm)
    jk = JK_WEIGHTS[0] * kappa + JK_WEIGHTS[1] * j
    return kappa, j, jk, parts


@dataclass(frozen=True)
class JKIndex:
    """The jκ index and its parts (fractions; NaN when undefined).

    Attributes
    ----------
    kappa : float
        Cohen's kappa over all classes of the matrix.
    j : float
        ``Se_S + +P_S + Se_V + +P_V`` (EC57 values, in [0, 4]).
    jk : float
        ``kappa / 2 + j / 8``.
    se_s, ppv_s, se_v, ppv_v : float
        The four EC57 statistics (an undefined +P is NaN here but counts as 0 in ``j``).
    """

    kappa: float
    j: float
    jk: float
    se_s: float
    ppv_s: float
    se_v: float
    ppv_v: float

    def to_dict(self) -> dict[str, float | None]:
        """All fields by name; NaN becomes None."""
        return {k: none_if_nan(v) for k, v in self.__dict__.items()}


def jk_index(confusion: object, classes: Sequence[str] = AAMI_CLASSES) -> JKIndex:
    """jκ index of Mar et al. 2011 from one ``(k, k)`` confusion matrix (see module docstring)."""
    cm = check_confusion(confusion)
    if cm.ndim != 2:
        raise InvalidParameterError(
            f"The 'confusion' parameter must be one (k, k) matrix, got shape {cm.shape} instead."
        )
    kappa, j, jk, parts = jk_values(cm, classes)
    return JKIndex(float(kappa), float(j), float(jk), *(float(x) for x in parts))

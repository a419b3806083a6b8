"""Label validation, confusion matrices and one-vs-rest counts (private helpers).

Every metric in :mod:`cardiostream.metrics` is a function of a confusion matrix ``cm`` with rows
= reference (true) class and columns = predicted class, in a fixed class order. The helpers here
broadcast over leading axes (``cm`` of shape ``(..., k, k)``), which is what lets the bootstrap
evaluate 1000 resampled matrices in one call.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InvalidParameterError, check_param


def check_classes(classes: Sequence[str]) -> tuple[str, ...]:
    """Validate a class list: at least two distinct, non-empty strings; returned as a tuple."""
    ok = (
        not isinstance(classes, str)
        and isinstance(classes, Sequence)
        and len(classes) >= 2
        and all(isinstance(c, str) and c for c in classes)
        and len(set(classes)) == len(classes)
    )
    check_param("classes", classes, ok, "a sequence of at least two distinct non-empty str")
    return tuple(classes)


def encode_labels(y: object, classes: tuple[str, ...], name: str) -> np.ndarray:
    """Map labels to int64 class indices.

    ``y`` is 1-D and holds either class names (str) or integer indices into ``classes``.
    Anything else (floats, booleans, unknown names, out-of-range indices) raises
    :class:`InvalidParameterError` naming the parameter.
    """
    a = np.asarray(y)
    if a.ndim != 1:
        raise InvalidParameterError(
            f"The {name!r} parameter must be a 1-D array of labels, got shape {a.shape} instead."
        )
    k = len(classes)
    if a.dtype.kind in "iu":
        idx = a.astype(np.int64)
        bad = (idx < 0) | (idx >= k)
        if bad.any():
            raise InvalidParameterError(
                f"The {name!r} parameter must hold class indices in [0, {k - 1}] "
                f"(classes {classes}), got {np.unique(idx[bad])[:5].tolist()} instead."
            )
        return idx
    if a.dtype.kind == "S":
        a = a.astype("U")
    if a.dtype.kind == "O":
        if not all(isinstance(v, str) for v in a.tolist()):
            raise InvalidParameterError(
                f"The {name!r} parameter must hold only class names (str) or only integer "
                f"indices, got a mix of types ({sorted({type(v).__name__ for v in a.tolist()})}) "
                "instead."
            )
        a = a.astype("U") if a.size else np.zeros(0, dtype="U1")
    if a.dtype.kind != "U":
        raise InvalidParameterError(
            f"The {name!r} parameter must hold class names (str) or integer class indices, "
            f"got dtype {a.dtype} instead."
        )
    names, inverse = np.unique(a, return_inverse=True)
    lut = {c: i for i, c in enumerate(classes)}
    unknown = [str(v) for v in names if str(v) not in lut]
    if unknown:
        raise InvalidParameterError(
            f"The {name!r} parameter must hold labels from {classes}, got unknown labels "
            f"{unknown[:5]} instead."
        )
    codes = np.array([lut[str(v)] for v in names], dtype=np.int64)
    return codes[inverse.reshape(-1)]


def check_same_length(**arrays: np.ndarray) -> int:
    """Raise unless all arrays have the same length; return it."""
    lengths = {k: int(np.shape(v)[0]) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{k}={n}" for k, n in lengths.items())
        raise InvalidParameterError(
            f"The label arrays must have the same length, got {desc} instead."
        )
    return next(iter(lengths.values()))


def encode_groups(groups: object, n: int) -> tuple[tuple[str, ...], np.ndarray]:
    """Return ``(group_ids, codes)``: sorted distinct group names (as str) and each item's index."""
    g = np.asarray(groups)
    if g.ndim != 1 or g.shape[0] != n:
        raise InvalidParameterError(
            f"The 'groups' parameter must be a 1-D array with one entry per beat ({n}), "
            f"got shape {g.shape} instead."
        )
    ids, codes = np.unique(g.astype(str), return_inverse=True)
    return tuple(str(x) for x in ids), codes.reshape(-1).astype(np.int64)


def confusion_from_codes(t: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    """``(k, k)`` int64 confusion matrix from integer codes (rows true, columns predicted)."""
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k).astype(np.int64)


def grouped_confusion_from_codes(
    t: np.ndarray, p: np.ndarray, g: np.ndarray, n_groups: int, k: int
) -> np.ndarray:
    """``(n_groups, k, k)`` int64 confusion matrices, one per group."""
    flat = np.bincount(g * (k * k) + t * k + p, minlength=n_groups * k * k)
    return flat.reshape(n_groups, k, k).astype(np.int64)


def check_confusion(cm: object, k: int | None = None, name: str = "confusion") -> np.ndarray:
    """Validate a confusion matrix (or a stack of them): square in the last two axes, finite,
    non-negative. Returned as float64 (exact for counts below 2**53)."""
    a = np.asarray(cm)
    ok_shape = a.ndim >= 2 and a.shape[-1] == a.shape[-2] and a.shape[-1] >= 2
    if ok_shape and k is not None:
        ok_shape = a.shape[-1] == k
    if not ok_shape:
        want = f"({k}, {k})" if k is not None else "(k, k) with k >= 2"
        raise InvalidParameterError(
            f"The {name!r} parameter must be a confusion matrix of shape (..., {want[1:-1]}), "
            f"got shape {a.shape} instead."
        )
    if a.dtype.kind not in "iuf" or not np.all(np.isfinite(a)) or np.any(a < 0):
        raise InvalidParameterError(
            f"The {name!r} parameter must hold finite non-negative counts, got dtype {a.dtype} "
            "with negative or non-finite entries instead."
        )
    return a.astype(np.float64)


def safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` elementwise, NaN where ``den == 0`` (no warning)."""
    num, den = np.broadcast_arrays(np.asarray(num, np.float64), np.asarray(den, np.float64))
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def one_vs_rest(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-class ``(tp, fn, fp, tn)`` of ``cm`` (``(..., k, k)``), each of shape ``(..., k)``."""
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    support = cm.sum(axis=-1)
    predicted = cm.sum(axis=-2)
    total = cm.sum(axis=(-2, -1))[..., None]
    fn = support - tp
    fp = predicted - tp
    tn = total - support - fp
    return tp, fn, fp, tn


def none_if_nan(x: float) -> float | None:
    """``float(x)``, or None when NaN (JSON has no NaN)."""
    x = float(x)
    return None if np.isnan(x) else x

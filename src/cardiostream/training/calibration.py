"""Temperature scaling: one scalar ``T`` dividing the logits, fitted on the validation split.

Guo, Pleiss, Sun & Weinberger, "On calibration of modern neural networks", ICML 2017: the
calibrated probabilities are ``softmax(z / T)``; ``T`` minimises the negative log-likelihood of
held-out labels and leaves the arg-max (the predicted class) unchanged. We minimise over
``log T`` on ``[-4, 4]`` (``T`` from 0.018 to 55) with SciPy's bounded Brent method.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

from ..errors import InvalidSignalError

__all__ = ["apply_temperature", "fit_temperature", "negative_log_likelihood"]

_LOG_T_BOUNDS = (-4.0, 4.0)


def _check(logits: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.asarray(logits, dtype=np.float64)
    t = np.asarray(y)
    ok = (
        z.ndim == 2
        and z.shape[0] > 0
        and np.all(np.isfinite(z))
        and t.shape == (z.shape[0],)
        and np.issubdtype(t.dtype, np.integer)
        and t.min() >= 0
        and t.max() < z.shape[1]
    )
    if not ok:
        raise InvalidSignalError(
            "The 'logits' and 'y' parameters must be a finite (n, k) array with n >= 1 and n "
            f"class indices in [0, k), got shapes {z.shape} and {t.shape} instead."
        )
    return z, t.astype(np.int64)


def negative_log_likelihood(logits: np.ndarray, y: np.ndarray, temperature: float = 1.0) -> float:
    """Mean ``-log softmax(logits / T)[y]`` (nats per beat)."""
    z, t = _check(logits, y)
    lp = log_softmax(z / float(temperature), axis=1)
    return float(-lp[np.arange(t.size), t].mean())


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature ``T > 0`` minimising the NLL of ``softmax(logits / T)`` on labels ``y``."""
    z, t = _check(logits, y)
    res = minimize_scalar(
        lambda log_t: negative_log_likelihood(z, t, float(np.exp(log_t))),
        bounds=_LOG_T_BOUNDS,
        method="bounded",
        options={"xatol": 1e-6},
    )
    return float(np.exp(res.x))


def apply_temperature(logits: np.ndarray, temperature: float) -> np.ndarray:
    """Calibrated probabilities ``softmax(logits / T)``, float64 ``(n, k)``."""
    z = np.asarray(logits, dtype=np.float64)
    return np.exp(log_softmax(z / float(temperature), axis=1))

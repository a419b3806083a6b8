"""Stateful ``sosfilt`` of one 1-D chunk without the per-call overhead of the public function.

A live service filters a ~70-sample chunk several times per frame for every patient; for such
chunks :func:`scipy.signal.sosfilt` spends most of its time validating and reshaping its
arguments (axis handling, zi shape checks, array-API dispatch), not filtering. For the one case
the streaming stages need — a 1-D float64 chunk, float64 sections, a ``(n_sections, 2)`` state —
:func:`sosfilt_1d` calls the same compiled kernel that :func:`scipy.signal.sosfilt` ends in
(``scipy.signal._sosfilt._sosfilt``, direct-form II transposed sections, in place), so outputs
and states are bit-identical (tested against the public function). Where the kernel cannot be
imported (another SciPy layout) it falls back to the public function.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import sosfilt as _public_sosfilt

try:  # the kernel scipy.signal.sosfilt itself calls (SciPy >= 1.5 layout)
    from scipy.signal._sosfilt import _sosfilt as _kernel
except ImportError:  # pragma: no cover - other SciPy layouts use the public path
    _kernel = None

__all__ = ["sosfilt_1d"]


def sosfilt_1d(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``scipy.signal.sosfilt(sos, x, zi=zi)`` for a 1-D chunk; returns ``(y, zf)``.

    Parameters
    ----------
    sos : ndarray, shape (n_sections, 6)
        Second-order sections (validated once by the caller's filter design).
    x : ndarray, shape (n,)
        Chunk (converted to float64).
    zi : ndarray, shape (n_sections, 2)
        State before the chunk (not modified).
    """
    if _kernel is None or sos.dtype != np.float64 or zi.shape != (sos.shape[0], 2):
        return _public_sosfilt(sos, x, zi=zi)
    y = np.array(x, dtype=np.float64, order="C", ndmin=2)
    if y.shape[0] != 1:
        return _public_sosfilt(sos, x, zi=zi)
    z = np.array(zi, dtype=np.float64, order="C").reshape(1, sos.shape[0], 2)
    _kernel(np.ascontiguousarray(sos), y, z)
    return y[0], z[0]

"""The streaming protocol every causal step follows.

A stream is fed with :meth:`StreamingStep.push` (any chunk size, including one sample or none)
and ended with :meth:`StreamingStep.flush`. The concatenated output of all pushes and the flush
(``run(x)`` in one call) is the step's *stream output*; it does not depend on how the input was
cut into chunks, bit for bit.

Timeline: stream output index ``n`` corresponds to input time ``n - delay_samples`` (in output
samples). The first ``delay_samples`` outputs are *pre-roll*: they stand for times before the
stream started and are ``0.0``. :meth:`flush` emits the last ``delay_samples`` outputs (the edge is
completed the way the offline form completes it), so ``run(x)[delay_samples:]`` covers exactly the
input's time span. Rate-preserving steps return ``len(chunk)`` samples per push; a resampler
returns its output-rate share.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from fractions import Fraction

import numpy as np

from ._validation import as_signal


class StreamingStep(ABC):
    """Base class of the causal, stateful steps (resampler, filters, baseline, wavelet, z-score).

    A chunk is validated completely before any state changes, so a rejected chunk (NaN, wrong
    shape) leaves the stream exactly as it was. :meth:`flush` ends the stream and resets the step,
    which can then take a new stream.
    """

    @property
    @abstractmethod
    def delay_samples(self) -> int:
        """Structural delay in output samples: output ``n`` is input time ``n - delay_samples``."""

    @property
    def rate_ratio(self) -> Fraction:
        """Output samples per input sample (1 except for resamplers)."""
        return Fraction(1)

    def push(self, chunk: object) -> np.ndarray:
        """Feed the next samples; return the outputs they complete (float64, 1-D)."""
        x = as_signal(chunk, "chunk", min_len=0)
        if x.size == 0:
            return np.empty(0)
        return self._push(x)

    def flush(self) -> np.ndarray:
        """End the stream: return the remaining outputs and reset the step for a new stream."""
        out = self._flush()
        self.reset()
        return out

    def run(self, x: object) -> np.ndarray:
        """Stream a whole signal in one push after a reset: ``push(x)`` followed by ``flush()``."""
        x = as_signal(x)
        self.reset()
        return np.concatenate((self.push(x), self.flush()))

    @abstractmethod
    def reset(self) -> None:
        """Forget the stream: the next push starts a new one."""

    @abstractmethod
    def _push(self, x: np.ndarray) -> np.ndarray:
        """Process a validated, non-empty float64 chunk."""

    @abstractmethod
    def _flush(self) -> np.ndarray:
        """Return the outputs still owed at the end of the stream."""


def preroll(n_done: int, n_new: int, delay: int) -> int:
    """Number of pre-roll zeros among outputs ``n_done .. n_done + n_new - 1`` of a stream."""
    return max(0, min(n_new, delay - n_done))

"""A chain of streaming steps that behaves as one step."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..errors import InvalidParameterError
from ._base import StreamingStep


class Pipeline(StreamingStep):
    """Feed each step's output to the next; push, flush and reset act on the whole chain.

    Parameters
    ----------
    *steps : StreamingStep
        The steps in processing order (at least one).

    Notes
    -----
    ``delay_samples`` is the sum of the steps' delays, each converted to the pipeline's output
    rate (multiplied by the rate ratios of the steps after it). It is an ``int`` unless a
    resampler follows a delayed step with a ratio that leaves a fraction, in which case it is the
    exact delay as a ``float``. Pre-roll zeros of one step are ordinary input to the next, so the
    pipeline's first outputs carry start-up transients; its interior equals the offline chain
    wherever every step's stream equals its offline form.
    """

    def __init__(self, *steps: StreamingStep) -> None:
        if not steps:
            raise InvalidParameterError(
                "The 'steps' parameter must hold at least one streaming step, got none instead."
            )
        for i, s in enumerate(steps):
            if not isinstance(s, StreamingStep):
                raise InvalidParameterError(
                    f"The 'steps' parameter must hold StreamingStep objects, got "
                    f"{type(s).__name__} at position {i} instead."
                )
        if len({id(s) for s in steps}) != len(steps):
            raise InvalidParameterError(
                "The 'steps' parameter must not hold the same step object twice (each step "
                "keeps the state of one stream)."
            )
        self.steps: tuple[StreamingStep, ...] = tuple(steps)

    def __repr__(self) -> str:
        return "Pipeline(" + ", ".join(repr(s) for s in self.steps) + ")"

    @property
    def delay_exact(self) -> Fraction:
        """The delay in output samples as an exact fraction."""
        delay = Fraction(0)
        for s in self.steps:
            delay = delay * s.rate_ratio + s.delay_samples
        return delay

    @property
    def delay_samples(self) -> int | float:  # type: ignore[override]
        d = self.delay_exact
        return int(d) if d.denominator == 1 else float(d)

    @property
    def rate_ratio(self) -> Fraction:
        r = Fraction(1)
        for s in self.steps:
            r *= s.rate_ratio
        return r

    def reset(self) -> None:
        for s in self.steps:
            s.reset()

    def _push(self, x: np.ndarray) -> np.ndarray:
        for s in self.steps:
            x = s.push(x)
        return x

    def _flush(self) -> np.ndarray:
        y = np.empty(0)
        for s in self.steps:
            y = np.concatenate((s.push(y), s.flush()))
        return y

"""Bootstrap confidence intervals that resample records (patients), not beats.

Beats of one record are strongly correlated (same patient, same electrodes), so resampling beats
understates the uncertainty of an inter-patient result. Here each bootstrap replicate draws the
``G`` records of the test set with replacement (a cluster bootstrap; Field & Welsh, *JRSS B*
69(3):369-390, 2007) and recomputes the metric on the union of their beats. The interval is the
percentile interval (Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993, ch. 13):
the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the replicates, linear interpolation.

Every metric is a function of the confusion matrix, and the confusion matrix of a replicate is
the count-weighted sum of the per-record matrices, so all replicates are one matrix product
``(n_boot, G) @ (G, k*k)`` followed by one vectorised metric call. Replicates where the metric is
undefined (e.g. no S beat drawn) are left out of the quantiles; ``n_valid`` says how many remain.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidParameterError, check_param
from ..types import AAMI_CLASSES, _frozen
from ._confusion import (
    check_classes,
    check_confusion,
    check_same_length,
    encode_groups,
    encode_labels,
    grouped_confusion_from_codes,
)
from .registry import confusion_metric

__all__ = [
    "BootstrapCI",
    "bootstrap_ci",
    "bootstrap_ci_from_confusions",
    "bootstrap_cis",
    "bootstrap_cis_from_confusions",
]

MetricArg = str | Callable[[np.ndarray], object]


@dataclass(frozen=True, eq=False)
class BootstrapCI:
    """A point estimate with its record-bootstrap percentile interval.

    Attributes
    ----------
    estimate, low, high : float or ndarray
        Metric on all records, and the interval bounds (arrays for a vector-valued metric).
    level : float
        Coverage of the interval (0.95 for a 95 % CI).
    n_boot : int
        Replicates drawn.
    n_valid : int or ndarray
        Replicates where the metric was defined (not NaN).
    n_groups : int
        Records resampled in each replicate.
    seed : int or None
        Seed of the generator (None when a Generator was passed).
    samples : ndarray, shape (n_boot,) or (n_boot, m)
        The replicate values.
    """

    estimate: float | np.ndarray
    low: float | np.ndarray
    high: float | np.ndarray
    level: float
    n_boot: int
    n_valid: int | np.ndarray
    n_groups: int
    seed: int | None
    samples: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "samples", _frozen(np.asarray(self.samples, np.float64)))
        for f in ("estimate", "low", "high", "n_valid"):
            v = getattr(self, f)
            if isinstance(v, np.ndarray):
                object.__setattr__(self, f, _frozen(v))

    def to_dict(self) -> dict[str, object]:
        """``estimate, low, high, level, n_boot, n_valid, n_groups, seed`` (NaN → None)."""

        def conv(x: object) -> object:
            a = np.asarray(x, dtype=np.float64)
            if a.ndim == 0:
                return None if np.isnan(a) else float(a)
            return [None if np.isnan(v) else float(v) for v in a]

        n_valid = self.n_valid
        return {
            "estimate": conv(self.estimate),
            "low": conv(self.low),
            "high": conv(self.high),
            "level": self.level,
            "n_boot": self.n_boot,
            "n_valid": n_valid.tolist() if isinstance(n_valid, np.ndarray) else n_valid,
            "n_groups": self.n_groups,
            "seed": self.seed,
        }


def _resolve(metric_fn: MetricArg, classes: tuple[str, ...]) -> Callable[[np.ndarray], object]:
    if isinstance(metric_fn, str):
        return confusion_metric(metric_fn, classes)
    check_param("metric_fn", metric_fn, callable(metric_fn), "a metric name or a callable")
    return metric_fn


def _generator(seed: int | np.random.Generator) -> tuple[np.random.Generator, int | None]:
    if isinstance(seed, np.random.Generator):
        return seed, None
    ok = isinstance(seed, int | np.integer) and not isinstance(seed, bool) and seed >= 0
    check_param("seed", seed, ok, "a non-negative int or a numpy Generator")
    return np.random.default_rng(int(seed)), int(seed)


def _replicate_confusions(
    record_cm: np.ndarray, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    g, k = record_cm.shape[0], record_cm.shape[-1]
    draws = rng.integers(0, g, size=(n_boot, g))
    offsets = draws + (np.arange(n_boot, dtype=np.int64) * g)[:, None]
    weights = np.bincount(offsets.ravel(), minlength=n_boot * g).reshape(n_boot, g)
    return (weights.astype(np.float64) @ record_cm.reshape(g, k * k)).reshape(n_boot, k, k)


def _evaluate(fn: Callable[[np.ndarray], object], cms: np.ndarray, vectorized: bool) -> np.ndarray:
    n = cms.shape[0]
    if vectorized:
        out = np.asarray(fn(cms), dtype=np.float64)
    else:
        out = np.stack([np.asarray(fn(cm), dtype=np.float64) for cm in cms])
    if out.ndim not in (1, 2) or out.shape[0] != n:
        raise InvalidParameterError(
            f"The 'metric_fn' parameter must map a stack of {n} confusion matrices "
            f"(shape {cms.shape}) to {n} values (shape ({n},) or ({n}, m)), got shape "
            f"{out.shape} instead; pass vectorized=False for a function of one matrix."
        )
    return out


def _summarise(
    samples: np.ndarray, estimate: np.ndarray, level: float
) -> tuple[object, object, object, object]:
    q = 100.0 * np.array([(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    cols = samples if samples.ndim == 2 else samples[:, None]
    lows, highs, valid = [], [], []
    for col in cols.T:
        ok = col[~np.isnan(col)]
        valid.append(ok.size)
        lo, hi = np.percentile(ok, q) if ok.size else (np.nan, np.nan)
        lows.append(float(lo))
        highs.append(float(hi))
    if samples.ndim == 1:
        return float(estimate[0]), lows[0], highs[0], valid[0]
    return estimate, np.array(lows), np.array(highs), np.array(valid, dtype=np.int64)


def bootstrap_ci_from_confusions(
    record_confusion: object,
    metric_fn: MetricArg,
    n_boot: int = 1000,
    seed: int | np.random.Generator = 0,
    *,
    classes: Sequence[str] = AAMI_CLASSES,
    level: float = 0.95,
    vectorized: bool = True,
) -> BootstrapCI:
    """Record-bootstrap CI from per-record confusion matrices ``(n_records, k, k)``.

    ``metric_fn`` is a name of :func:`~cardiostream.metrics.confusion_metric` or a callable of a
    confusion matrix. With ``vectorized=True`` (default) the callable receives the whole stack
    ``(n_boot, k, k)`` and must return ``(n_boot,)`` or ``(n_boot, m)`` values; with
    ``vectorized=False`` it receives one ``(k, k)`` matrix at a time (slower).
    """
    return bootstrap_cis_from_confusions(
        record_confusion,
        {"m": metric_fn},
        n_boot,
        seed,
        classes=classes,
        level=level,
        vectorized=vectorized,
    )["m"]


def bootstrap_cis_from_confusions(
    record_confusion: object,
    metrics: dict[str, MetricArg],
    n_boot: int = 1000,
    seed: int | np.random.Generator = 0,
    *,
    classes: Sequence[str] = AAMI_CLASSES,
    level: float = 0.95,
    vectorized: bool = True,
) -> dict[str, BootstrapCI]:
    """Like :func:`bootstrap_ci_from_confusions` for several metrics on the same replicates."""
    classes = check_classes(classes)
    cms = check_confusion(record_confusion, len(classes), name="record_confusion")
    if cms.ndim != 3 or cms.shape[0] < 1:
        raise InvalidParameterError(
            "The 'record_confusion' parameter must have shape (n_records, k, k) with at least "
            f"one record, got {cms.shape} instead."
        )
    ok = isinstance(n_boot, int | np.integer) and not isinstance(n_boot, bool) and n_boot >= 1
    check_param("n_boot", n_boot, ok, "an int >= 1")
    check_param("level", level, isinstance(level, float) and 0.0 < level < 1.0, "a float in (0, 1)")
    rng, seed_value = _generator(seed)
    replicates = _replicate_confusions(cms, int(n_boot), rng)
    full = cms.sum(axis=0)[None]
    out = {}
    for key, m in metrics.items():
        fn = _resolve(m, classes)
        samples = _evaluate(fn, replicates, vectorized)
        estimate = _evaluate(fn, full, vectorized)[0]
        est, low, high, n_valid = _summarise(samples, np.atleast_1d(estimate), level)
        out[key] = BootstrapCI(
            estimate=est,
            low=low,
            high=high,
            level=float(level),
            n_boot=int(n_boot),
            n_valid=n_valid,
            n_groups=int(cms.shape[0]),
            seed=seed_value,
            samples=samples,
        )
    return out


def _record_confusions(
    y_true: object, y_pred: object, groups: object, classes: tuple[str, ...]
) -> np.ndarray:
    t = encode_labels(y_true, classes, "y_true")
    p = encode_labels(y_pred, classes, "y_pred")
    n = check_same_length(y_true=t, y_pred=p)
    if n == 0:
        raise InvalidParameterError(
            "The 'y_true' parameter must hold at least one beat, got an empty array instead."
        )
    ids, g = encode_groups(groups, n)
    return grouped_confusion_from_codes(t, p, g, len(ids), len(classes))


def bootstrap_ci(
    y_true: object,
    y_pred: object,
    groups: object,
    metric_fn: MetricArg,
    n_boot: int = 1000,
    seed: int | np.random.Generator = 0,
    *,
    classes: Sequence[str] = AAMI_CLASSES,
    level: float = 0.95,
    vectorized: bool = True,
) -> BootstrapCI:
    """95 % (``level``) percentile CI of a metric, resampling the records given by ``groups``.

    Parameters
    ----------
    y_true, y_pred : array_like, shape (n,)
        Labels (class names or indices into ``classes``).
    groups : array_like, shape (n,)
        Record of each beat; records are the resampling unit.
    metric_fn : str or callable
        A name from :func:`~cardiostream.metrics.list_confusion_metrics` (e.g. ``"accuracy"``,
        ``"V_se"``, ``"jk"``) or a function of confusion matrices (see
        :func:`bootstrap_ci_from_confusions`).
    n_boot : int
        Replicates (1000 by default).
    seed : int or numpy Generator
        Seeds the resampling; the same seed gives the same interval.
    """
    classes = check_classes(classes)
    cms = _record_confusions(y_true, y_pred, groups, classes)
    return bootstrap_ci_from_confusions(
        cms, metric_fn, n_boot, seed, classes=classes, level=level, vectorized=vectorized
    )


def bootstrap_cis(
    y_true: object,
    y_pred: object,
    groups: object,
    metrics: Sequence[str],
    n_boot: int = 1000,
    seed: int | np.random.Generator = 0,
    *,
    classes: Sequence[str] = AAMI_CLASSES,
    level: float = 0.95,
) -> dict[str, BootstrapCI]:
    """CIs of several named metrics from the same record replicates: ``{name: BootstrapCI}``."""
    classes = check_classes(classes)
    cms = _record_confusions(y_true, y_pred, groups, classes)
    return bootstrap_cis_from_confusions(
        cms, {name: name for name in metrics}, n_boot, seed, classes=classes, level=level
    )

"""Train / validation / test splits of labelled beats, for the two evaluation protocols.

* **intra-patient** (papers 001 and 003): a random 70/30 split of the beats, so beats of one
  patient fall on both sides. Neither paper gives its seed or says whether the split was
  stratified; ours is stratified by class (rare classes keep their 70/30 proportion) and seeded
  by ``seed``. The validation beats are a further stratified share of the 70 %.
* **inter-patient** (de Chazal, O'Dwyer & Reilly, IEEE TBME 51:1196, 2004): train on the DS1
  records, test on the DS2 records. The validation split is a set of whole *DS1 records*
  (never DS2, never beats of a training record), drawn with ``seed`` so that, where possible,
  every class present in at least two training records appears both in the validation records
  and in the remaining training records.

Indices returned are positions in the arrays given (the caller maps them back to beats).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidParameterError, check_param
from ..types import _frozen

__all__ = ["Split", "cap_class_sizes", "inter_patient_split", "intra_patient_split"]

#: Random draws of validation records tried before keeping the best one.
_VAL_DRAWS = 500


@dataclass(frozen=True, eq=False)
class Split:
    """Disjoint train / validation / test index sets.

    Attributes
    ----------
    protocol : {"intra", "inter", "full"}
    train, val, test : ndarray of int64
        Sorted positions into the labelled arrays given to the split function.
    train_records, val_records, test_records : tuple of str
        Records contributing beats to each part (they overlap for ``intra``, never for
        ``inter``).
    seed : int
    """

    protocol: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    train_records: tuple[str, ...]
    val_records: tuple[str, ...]
    test_records: tuple[str, ...]
    seed: int

    def __post_init__(self) -> None:
        for name in ("train", "val", "test"):
            object.__setattr__(self, name, _frozen(np.sort(np.asarray(getattr(self, name), "i8"))))

    def summary(self) -> dict[str, Any]:
        """JSON-ready description (records and sizes) stored with a run."""
        return {
            "protocol": self.protocol,
            "seed": self.seed,
            "n_train": int(self.train.size),
            "n_val": int(self.val.size),
            "n_test": int(self.test.size),
            "train_records": list(self.train_records),
            "val_records": list(self.val_records),
            "test_records": list(self.test_records),
        }


def _check_arrays(codes: np.ndarray, record_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(codes)
    r = np.asarray(record_ids).astype(str)
    ok = y.ndim == 1 and np.issubdtype(y.dtype, np.integer) and (y.size == 0 or y.min() >= 0)
    check_param("codes", y.dtype, bool(ok), "a 1-D array of non-negative class indices")
    check_param("record_ids", r.shape, r.shape == y.shape, f"shape {y.shape} like 'codes'")
    return y.astype(np.int64), r


def _records_of(idx: np.ndarray, record_ids: np.ndarray) -> tuple[str, ...]:
    return tuple(dict.fromkeys(record_ids[np.sort(idx)]))


def _stratified_take(
    idx: np.ndarray, codes: np.ndarray, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``idx`` into (rest, taken) with ``round(fraction * n_c)`` of each class taken."""
    taken = []
    for c in np.unique(codes[idx]):
        members = rng.permutation(idx[codes[idx] == c])
        taken.append(members[: round(fraction * members.size)])
    t = np.concatenate(taken) if taken else np.zeros(0, np.int64)
    return np.setdiff1d(idx, t), t


def intra_patient_split(
    codes: np.ndarray,
    record_ids: np.ndarray,
    *,
    test_fraction: float = 0.3,
    val_fraction: float = 0.2,
    seed: int = 0,
) -> Split:
    """Random stratified beat split: ``test_fraction`` for testing, then ``val_fraction`` of the
    remaining beats for validation (module docstring).

    Parameters
    ----------
    codes : ndarray of int, shape (n,)
        Class index of each beat.
    record_ids : ndarray of str, shape (n,)
        Record of each beat (only reported).
    test_fraction, val_fraction : float
        Shares in (0, 1); per class, ``round(fraction * n_c)`` beats are taken.
    seed : int
        The same seed and inputs always give the same split.
    """
    y, r = _check_arrays(codes, record_ids)
    for name, v in (("test_fraction", test_fraction), ("val_fraction", val_fraction)):
        check_param(name, v, isinstance(v, int | float) and 0 < v < 1, "a fraction in (0, 1)")
    rng = np.random.default_rng(seed)
    rest, test = _stratified_take(np.arange(y.size), y, test_fraction, rng)
    train, val = _stratified_take(rest, y, val_fraction, rng)
    return Split(
        "intra",
        train,
        val,
        test,
        _records_of(train, r),
        _records_of(val, r),
        _records_of(test, r),
        int(seed),
    )


def _choose_val_records(counts: np.ndarray, n_val: int, rng: np.random.Generator) -> np.ndarray:
    """Row indices of ``counts`` (records × classes) for validation; see module docstring."""
    n_rec = counts.shape[0]
    present = counts > 0
    wanted = present.sum(axis=0) >= 2  # classes that can be on both sides
    best, best_score = np.arange(n_val), -1
    for _ in range(_VAL_DRAWS):
        pick = np.sort(rng.choice(n_rec, size=n_val, replace=False))
        rest = np.setdiff1d(np.arange(n_rec), pick)
        both = present[pick].any(axis=0) & present[rest].any(axis=0)
        score = int(np.sum(both & wanted))
        if score > best_score:
            best, best_score = pick, score
        if best_score == int(wanted.sum()):
            break
    return best


def inter_patient_split(
    codes: np.ndarray,
    record_ids: np.ndarray,
    train_records: Sequence[str],
    test_records: Sequence[str],
    *,
    val_fraction: float = 0.2,
    seed: int = 0,
) -> Split:
    """Patient-wise split: test = beats of ``test_records``; validation = whole records drawn
    from ``train_records`` (``max(1, round(val_fraction * len(train_records)))`` of them).

    Raises
    ------
    InvalidParameterError
        Overlapping record lists, fewer than two training records, or a listed record without
        beats.
    """
    y, r = _check_arrays(codes, record_ids)
    train_records = tuple(str(x) for x in train_records)
    test_records = tuple(str(x) for x in test_records)
    common = sorted(set(train_records) & set(test_records))
    check_param("test_records", test_records, not common, f"disjoint from train_records ({common})")
    check_param("train_records", train_records, len(train_records) >= 2, "at least 2 records")
    check_param("val_fraction", val_fraction, 0 < val_fraction < 1, "a fraction in (0, 1)")
    absent = sorted(set(train_records + test_records) - set(r.tolist()))
    if absent:
        raise InvalidParameterError(
            f"The 'record_ids' parameter must hold beats of every listed record, got none for "
            f"{absent}."
        )
    n_val = min(len(train_records) - 1, max(1, round(val_fraction * len(train_records))))
    k = int(y.max()) + 1 if y.size else 1
    counts = np.stack([np.bincount(y[r == rec], minlength=k) for rec in train_records])
    rng = np.random.default_rng(seed)
    pick = _choose_val_records(counts, n_val, rng)
    val_records = tuple(train_records[i] for i in pick)
    fit_records = tuple(rec for rec in train_records if rec not in val_records)
    idx = np.arange(y.size)
    return Split(
        "inter",
        idx[np.isin(r, fit_records)],
        idx[np.isin(r, val_records)],
        idx[np.isin(r, test_records)],
        fit_records,
        val_records,
        test_records,
        int(seed),
    )


def cap_class_sizes(
    idx: np.ndarray, codes: np.ndarray, max_total: int, seed: int = 0
) -> np.ndarray:
    """Subsample ``idx`` to at most ``max_total`` beats by capping the largest classes.

    The cap ``m`` is the largest integer with ``sum_c min(n_c, m) <= max_total``: classes smaller
    than ``m`` keep every beat, larger ones (normally N) are subsampled at random (``seed``) to
    ``m``. Returns sorted indices (``idx`` unchanged when it already fits).
    """
    idx = np.asarray(idx, dtype=np.int64)
    check_param("max_total", max_total, isinstance(max_total, int) and max_total >= 1, "int >= 1")
    if idx.size <= max_total:
        return np.sort(idx)
    y = np.asarray(codes)[idx]
    classes, sizes = np.unique(y, return_counts=True)
    lo, hi = 0, int(sizes.max())
    while lo < hi:  # largest m with sum(min(sizes, m)) <= max_total
        mid = (lo + hi + 1) // 2
        if np.minimum(sizes, mid).sum() <= max_total:
            lo = mid
        else:
            hi = mid - 1
    rng = np.random.default_rng(seed)
    kept = [
        rng.permutation(idx[y == c])[: min(int(n), lo)] for c, n in zip(classes, sizes, strict=True)
    ]
    return np.sort(np.concatenate(kept))

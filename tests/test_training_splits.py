"""Intra- and inter-patient splits: sizes, seeding, and no leakage into validation or test."""

from __future__ import annotations

import numpy as np
import pytest

from cardiostream.errors import InvalidParameterError
from cardiostream.training import cap_class_sizes, inter_patient_split, intra_patient_split


def _beats(rng: np.random.Generator, n_records: int, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic beats: records of random sizes; class frequencies vary by record."""
    codes, recs = [], []
    for r in range(n_records):
        n = int(rng.integers(5, 60))
        p = rng.dirichlet(np.full(k, 0.5))
        codes.append(rng.choice(k, size=n, p=p))
        recs.append(np.full(n, f"{100 + r}"))
    return np.concatenate(codes).astype(np.int64), np.concatenate(recs)


def test_intra_split_is_seeded_stratified_70_30(rng: np.random.Generator) -> None:
    codes = rng.choice(5, size=4000, p=[0.8, 0.05, 0.1, 0.04, 0.01])
    recs = rng.choice(["100", "101", "103"], size=codes.size)
    s = intra_patient_split(codes, recs, test_fraction=0.3, val_fraction=0.2, seed=3)
    again = intra_patient_split(codes, recs, test_fraction=0.3, val_fraction=0.2, seed=3)
    other = intra_patient_split(codes, recs, test_fraction=0.3, val_fraction=0.2, seed=4)
    assert np.array_equal(s.test, again.test) and np.array_equal(s.val, again.val)
    assert not np.array_equal(s.test, other.test)
    parts = np.concatenate([s.train, s.val, s.test])
    assert np.array_equal(np.sort(parts), np.arange(codes.size))  # a partition
    for c in range(5):
        n_c = int(np.sum(codes == c))
        n_test = int(np.sum(codes[s.test] == c))
        assert n_test == round(0.3 * n_c)
        assert int(np.sum(codes[s.val] == c)) == round(0.2 * (n_c - n_test))
    assert abs(s.test.size / codes.size - 0.3) < 0.002


def test_inter_split_never_leaks_records(rng: np.random.Generator) -> None:
    """Property test over many random record sets, sizes and seeds."""
    for trial in range(200):
        n_rec = int(rng.integers(4, 16))
        codes, recs = _beats(rng, n_rec)
        ids = list(dict.fromkeys(recs))
        rng.shuffle(ids)
        n_train = int(rng.integers(2, n_rec - 1))
        train, test = ids[:n_train], ids[n_train:]
        frac = float(rng.uniform(0.05, 0.95))
        s = inter_patient_split(codes, recs, train, test, val_fraction=frac, seed=trial)
        val_set, fit_set, test_set = set(s.val_records), set(s.train_records), set(test)
        assert val_set and fit_set and val_set <= set(train)
        assert not val_set & test_set and not val_set & fit_set and not fit_set & test_set
        assert set(recs[s.val]) == val_set and set(recs[s.train]) == fit_set
        assert set(recs[s.test]) == test_set and tuple(s.test_records) == tuple(test)
        assert np.array_equal(
            np.sort(np.concatenate([s.train, s.val, s.test])), np.arange(recs.size)
        )
        again = inter_patient_split(codes, recs, train, test, val_fraction=frac, seed=trial)
        assert again.val_records == s.val_records


def test_inter_validation_covers_classes_when_possible() -> None:
    # Class 1 lives in records a and b only, class 2 in c and d: validation must hold one of each.
    recs = np.repeat(np.array(["100", "101", "103", "105", "106", "107"]), 10)
    codes = np.zeros(recs.size, np.int64)
    codes[(recs == "100") | (recs == "101")] = 1
    codes[(recs == "103") | (recs == "105")] = 2
    for seed in range(20):
        s = inter_patient_split(
            codes, recs, ["100", "101", "103", "105", "106"], ["107"], val_fraction=0.4, seed=seed
        )
        assert {1, 2} <= set(codes[s.val]) and {1, 2} <= set(codes[s.train])


def test_inter_split_rejects_bad_record_lists(rng: np.random.Generator) -> None:
    codes, recs = _beats(rng, 4)
    with pytest.raises(InvalidParameterError, match="'test_records'"):
        inter_patient_split(codes, recs, ["100", "101"], ["101", "102"])
    with pytest.raises(InvalidParameterError, match="'train_records'"):
        inter_patient_split(codes, recs, ["100"], ["101"])
    with pytest.raises(InvalidParameterError, match="999"):
        inter_patient_split(codes, recs, ["100", "999"], ["101"])


def test_cap_class_sizes_subsamples_the_largest_class(rng: np.random.Generator) -> None:
    codes = np.array([0] * 900 + [1] * 30 + [2] * 70)
    idx = rng.permutation(codes.size)[:800]
    kept = cap_class_sizes(idx, codes, 300, seed=1)
    assert kept.size <= 300 and set(kept) <= set(idx)
    for c in (1, 2):  # small classes keep every beat
        assert np.sum(codes[kept] == c) == np.sum(codes[idx] == c)
    assert np.array_equal(kept, cap_class_sizes(idx, codes, 300, seed=1))
    assert np.array_equal(cap_class_sizes(idx, codes, 5000), np.sort(idx))

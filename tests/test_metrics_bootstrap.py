"""Record-level bootstrap: equals explicit resampling of records, is seeded, resamples records."""

from __future__ import annotations

import numpy as np
import pytest

from cardiostream.errors import InvalidParameterError, UnknownMethodError
from cardiostream.metrics import (
    bootstrap_ci,
    bootstrap_ci_from_confusions,
    bootstrap_cis,
    classification_report,
    confusion_metric,
)
from cardiostream.types import AAMI_CLASSES


def dataset(rng, n_records=6, per_record=(40, 120)):
    """Records with different error rates and class mixes (so record resampling matters)."""
    t_all, p_all, g_all = [], [], []
    for r in range(n_records):
        n = int(rng.integers(*per_record))
        probs = rng.dirichlet([8, 1, 1, 0.5, 0.5])
        t = rng.choice(np.array(AAMI_CLASSES), size=n, p=probs)
        err = rng.random(n) < rng.uniform(0.0, 0.4)
        p = np.where(err, rng.choice(np.array(AAMI_CLASSES), size=n), t)
        t_all.append(t)
        p_all.append(p)
        g_all.append(np.full(n, f"rec{r}"))
    return np.concatenate(t_all), np.concatenate(p_all), np.concatenate(g_all)


@pytest.mark.parametrize("name", ["accuracy", "macro_f1", "V_ppv", "jk"])
def test_equals_explicit_record_resampling(name, rng):
    """The weighted-sum shortcut equals concatenating the drawn records' beats and recomputing.

    The reference draws records with the generator the implementation documents
    (``default_rng(seed).integers(0, n_records, (n_boot, n_records))``, records in sorted order)
    and evaluates each replicate through the full label-level classification_report.
    """
    t, p, g = dataset(rng)
    n_boot, seed = 60, 7
    ci = bootstrap_ci(t, p, g, name, n_boot=n_boot, seed=seed)
    ids = np.unique(g)
    draws = np.random.default_rng(seed).integers(0, ids.size, size=(n_boot, ids.size))
    expected = []
    for row in draws:
        sel = np.concatenate([np.flatnonzero(g == ids[i]) for i in row])
        rep = classification_report(t[sel], p[sel])
        expected.append(
            {
                "accuracy": rep.accuracy,
                "macro_f1": rep.macro.f1,
                "V_ppv": rep.ec57.for_class("V").ppv,
                "jk": rep.jk.jk,
            }[name]
        )
    np.testing.assert_allclose(ci.samples, expected, rtol=0, atol=1e-12, equal_nan=True)
    full = classification_report(t, p)
    assert ci.estimate == pytest.approx(
        {"accuracy": full.accuracy, "macro_f1": full.macro.f1,
         "V_ppv": full.ec57.ppv[2], "jk": full.jk.jk}[name], abs=1e-12
    )  # fmt: skip
    valid = np.asarray(expected)[~np.isnan(expected)]
    lo, hi = np.percentile(valid, [2.5, 97.5])
    assert ci.low == pytest.approx(lo, abs=1e-12) and ci.high == pytest.approx(hi, abs=1e-12)
    assert ci.n_valid == valid.size and ci.n_groups == ids.size


def test_resamples_records_not_beats():
    """Two records, one all right, one all wrong: replicate accuracy can only be 0, 1/2 or 1,
    in proportions 1/4, 1/2, 1/4; a beat bootstrap would give values near 1/2 only."""
    t = np.array(["N"] * 200)
    p = np.array(["N"] * 100 + ["V"] * 100)
    g = np.array(["a"] * 100 + ["b"] * 100)
    ci = bootstrap_ci(t, p, g, "accuracy", n_boot=4000, seed=3)
    values, counts = np.unique(ci.samples, return_counts=True)
    np.testing.assert_array_equal(values, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(counts / 4000, [0.25, 0.5, 0.25], atol=0.03)
    assert ci.estimate == 0.5 and ci.low == 0.0 and ci.high == 1.0


def test_seeded_and_reproducible(rng):
    t, p, g = dataset(rng)
    a = bootstrap_ci(t, p, g, "accuracy", n_boot=200, seed=11)
    b = bootstrap_ci(t, p, g, "accuracy", n_boot=200, seed=11)
    c = bootstrap_ci(t, p, g, "accuracy", n_boot=200, seed=12)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert not np.array_equal(a.samples, c.samples)
    assert a.low <= a.estimate <= a.high
    assert a.to_dict()["seed"] == 11
    gen = bootstrap_ci(t, p, g, "accuracy", n_boot=200, seed=np.random.default_rng(11))
    np.testing.assert_array_equal(gen.samples, a.samples)
    assert gen.seed is None


def test_callable_vectorized_and_not(rng):
    t, p, g = dataset(rng)
    rep = classification_report(t, p, groups=g)
    acc = confusion_metric("accuracy")
    a = bootstrap_ci_from_confusions(rep.record_confusion, acc, n_boot=100, seed=5)
    b = bootstrap_ci_from_confusions(
        rep.record_confusion,
        lambda cm: np.trace(cm) / cm.sum(),
        n_boot=100,
        seed=5,
        vectorized=False,
    )
    np.testing.assert_allclose(a.samples, b.samples, rtol=0, atol=1e-15)
    with pytest.raises(InvalidParameterError, match="vectorized=False"):
        bootstrap_ci_from_confusions(
            rep.record_confusion, lambda cm: float(np.trace(cm[0])), n_boot=10
        )


def test_vector_metric_and_shared_replicates(rng):
    t, p, g = dataset(rng)

    def se_sv(cm):
        return np.stack([confusion_metric("S_se")(cm), confusion_metric("V_se")(cm)], axis=-1)

    vec = bootstrap_ci(t, p, g, se_sv, n_boot=150, seed=2)
    many = bootstrap_cis(t, p, g, ["S_se", "V_se", "accuracy"], n_boot=150, seed=2)
    np.testing.assert_array_equal(vec.samples[:, 0], many["S_se"].samples)
    np.testing.assert_array_equal(vec.samples[:, 1], many["V_se"].samples)
    assert vec.low.shape == (2,) and vec.n_valid.tolist() == [
        many["S_se"].n_valid,
        many["V_se"].n_valid,
    ]
    assert many["accuracy"].to_dict()["n_boot"] == 150


def test_undefined_replicates_are_left_out():
    # Only record "b" has S beats: replicates without "b" have undefined S sensitivity.
    t = np.array(["N"] * 10 + ["S"] * 5 + ["N"] * 10)
    p = np.array(["N"] * 10 + ["S", "S", "N", "N", "N"] + ["N"] * 10)
    g = np.array(["a"] * 10 + ["b"] * 15)
    ci = bootstrap_ci(t, p, g, "S_se", n_boot=500, seed=0)
    assert 0 < ci.n_valid < 500
    assert np.isnan(ci.samples).sum() == 500 - ci.n_valid
    assert ci.low == ci.high == pytest.approx(0.4)  # S_se is 2/5 whenever defined
    d = bootstrap_ci(t, p, g, "F_se", n_boot=20, seed=0).to_dict()
    assert d["estimate"] is None and d["low"] is None and d["n_valid"] == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_boot": 0}, "n_boot"),
        ({"n_boot": 10.0}, "n_boot"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"level": 95}, "level"),
        ({"level": 1.0}, "level"),
    ],
)
def test_bad_parameters(kwargs, match, rng):
    t, p, g = dataset(rng, n_records=2)
    with pytest.raises(InvalidParameterError, match=match):
        bootstrap_ci(t, p, g, "accuracy", **kwargs)


def test_bad_inputs(rng):
    t, p, g = dataset(rng, n_records=2)
    with pytest.raises(UnknownMethodError):
        bootstrap_ci(t, p, g, "acc")
    with pytest.raises(InvalidParameterError, match="groups"):
        bootstrap_ci(t, p, g[:-1], "accuracy")
    with pytest.raises(InvalidParameterError, match="same length"):
        bootstrap_ci(t, p[:-1], g, "accuracy")
    with pytest.raises(InvalidParameterError, match="metric_fn"):
        bootstrap_ci(t, p, g, 3)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="record_confusion"):
        bootstrap_ci_from_confusions(np.ones((5, 5)), "accuracy")

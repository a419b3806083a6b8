"""Temperature scaling, loss options and the seeded training loop (synthetic data)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch
from scipy.special import log_softmax

from cardiostream.errors import InvalidParameterError, InvalidSignalError
from cardiostream.models import create_model
from cardiostream.training import (
    TensorSet,
    TrainConfig,
    apply_temperature,
    fit_model,
    fit_temperature,
    negative_log_likelihood,
)
from cardiostream.training.loop import FocalLoss, class_weights


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _miscalibrated(rng: np.random.Generator, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from softmax(z), logits reported as scale * z."""
    z = rng.normal(0.0, 1.5, size=(4000, 3))
    p = np.exp(log_softmax(z, axis=1))
    y = np.array([rng.choice(3, p=row) for row in p])
    return scale * z, y


@pytest.mark.parametrize("scale", [0.3, 4.0])
def test_temperature_scaling_recovers_the_scale_and_lowers_nll(
    rng: np.random.Generator, scale: float
) -> None:
    logits, y = _miscalibrated(rng, scale)
    t = fit_temperature(logits, y)
    assert abs(t / scale - 1) < 0.15  # the true temperature is `scale`
    assert negative_log_likelihood(logits, y, t) < negative_log_likelihood(logits, y) - 0.02
    # Independent check: a dense grid search finds the same optimum.
    grid = np.exp(np.linspace(np.log(0.05), np.log(20), 2001))
    nll = [negative_log_likelihood(logits, y, g) for g in grid]
    assert abs(np.log(grid[int(np.argmin(nll))]) - np.log(t)) < 0.01
    # Scaling never changes the predicted class.
    assert np.array_equal(apply_temperature(logits, t).argmax(1), logits.argmax(1))


def test_temperature_rejects_bad_input() -> None:
    with pytest.raises(InvalidSignalError, match="'logits'"):
        fit_temperature(np.zeros((3, 2)), np.array([0, 1, 2]))
    with pytest.raises(InvalidSignalError, match="'logits'"):
        fit_temperature(np.full((2, 2), np.nan), np.array([0, 1]))


def test_class_weights_match_scikit_learn(rng: np.random.Generator) -> None:
    from sklearn.utils.class_weight import compute_class_weight

    y = rng.choice(4, size=500, p=[0.7, 0.2, 0.07, 0.03])
    ref = compute_class_weight("balanced", classes=np.arange(4), y=y)
    np.testing.assert_allclose(class_weights(y, 4, "balanced"), ref, rtol=1e-12)
    np.testing.assert_allclose(class_weights(y, 4, "sqrt"), np.sqrt(ref), rtol=1e-12)
    assert class_weights(y, 4, "none") is None
    w = class_weights(np.array([0, 0, 2]), 3, "balanced")
    assert w is not None and w[1] == 0.0
    with pytest.raises(InvalidParameterError, match="'class_weighting'"):
        class_weights(y, 4, "inverse")


def test_focal_loss_reduces_to_cross_entropy(rng: np.random.Generator) -> None:
    logits = torch.tensor(rng.normal(size=(64, 5)))
    y = torch.tensor(rng.integers(0, 5, size=64))
    ce = torch.nn.functional.cross_entropy(logits, y)
    torch.testing.assert_close(FocalLoss(gamma=0.0)(logits, y), ce, rtol=1e-12, atol=1e-12)
    # With gamma > 0 easy examples are down-weighted, so the loss is smaller.
    assert FocalLoss(gamma=2.0)(logits, y) < ce
    w = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=torch.float64)
    ref = torch.nn.functional.cross_entropy(logits, y, weight=w, reduction="none").mean()
    torch.testing.assert_close(FocalLoss(0.0, w)(logits, y), ref)


def _toy_sets(rng: np.random.Generator) -> tuple[TensorSet, TensorSet]:
    """Three classes separated by the mean of 9 'RR features'."""

    def make(n: int) -> TensorSet:
        y = rng.integers(0, 3, size=n)
        x = (rng.normal(size=(n, 1, 9)) + 1.5 * y[:, None, None]).astype(np.float32)
        return TensorSet(x, y.astype(np.int64), np.full(n, "100"), np.arange(n))

    return make(600), make(200)


def _fit(train: TensorSet, val: TensorSet, **kw: object) -> tuple[object, object]:
    cfg = TrainConfig(model="gru", input_kind="rr", batch_size=64, **kw)  # type: ignore[arg-type]
    torch.manual_seed(cfg.seed)
    model = create_model("gru", num_classes=3, input_kind="rr", hidden_size=8, dense_size=8)
    return model, fit_model(model, train, val, cfg, progress=False)


def test_training_is_seeded_and_learns(rng: np.random.Generator) -> None:
    train, val = _toy_sets(rng)
    m1, r1 = _fit(train, val, epochs=4, patience=0, seed=5, lr=1e-2)
    m2, r2 = _fit(train, val, epochs=4, patience=0, seed=5, lr=1e-2)
    for a, b in zip(m1.state_dict().values(), m2.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert [h.train_loss for h in r1.history] == [h.train_loss for h in r2.history]
    assert r1.stop_reason == "max_epochs" and len(r1.history) == 4
    assert r1.history[-1].train_loss < r1.history[0].train_loss
    assert r1.val_macro_f1 > 0.6  # chance is 1/3


def test_early_stopping_keeps_the_best_epoch(rng: np.random.Generator) -> None:
    train, val = _toy_sets(rng)
    # A learning rate of ~0 leaves the monitored loss flat, so patience stops training.
    _, r = _fit(train, val, epochs=20, patience=2, lr=1e-12, monitor="val_loss", loss="focal")
    assert r.stop_reason == "patience" and len(r.history) < 20
    best = min(r.history, key=lambda h: h.val_loss)
    assert r.best_epoch == best.epoch and r.val_loss == best.val_loss


def test_fit_rejects_empty_sets(rng: np.random.Generator) -> None:
    train, _ = _toy_sets(rng)
    empty = TensorSet(
        np.zeros((0, 1, 9), np.float32),
        np.zeros(0, np.int64),
        np.zeros(0, str),
        np.zeros(0, np.int64),
    )
    with pytest.raises(InvalidParameterError, match="non-empty"):
        _fit(train, empty, epochs=1)

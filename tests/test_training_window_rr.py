"""The ``window_rr`` input: window then standardised RR features; checkpoint round trip."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from cardiostream.errors import InvalidParameterError
from cardiostream.models import count_parameters, default_input_spec
from cardiostream.training import (
    WINDOW_S,
    Preprocessing,
    TrainConfig,
    fit_preprocessing,
    input_window_s,
    load_checkpoint,
)
from cardiostream.training.checkpoint import RunMeta, save_checkpoint
from cardiostream.training.data import subset_beats
from cardiostream.training.run import build_model
from cardiostream.types import Beats

CLASSES = ("N", "S", "V")


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _beats(rng: np.random.Generator, n: int = 30) -> Beats:
    windows = rng.normal(0.0, 0.3, size=(n, 256))
    rr = rng.normal([0.8, 0.8, 0.8, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0], 0.2, size=(n, 9))
    rr[:2] = np.nan  # the first beats of a record have no RR features
    return Beats(
        r_peaks=np.arange(n) * 300 + 400,
        record_ids=np.array(["101"] * n),
        fs=360.0,
        windows=windows,
        labels=np.array(list("NSV") * (n // 3)),
        rr_features=rr,
        params={"window_s": list(WINDOW_S), "causal_rr": False},
    )


def _fit(beats: Beats, normalize: str = "auto") -> Preprocessing:
    cfg = TrainConfig(
        model="cnn1d_rr", input_kind="window_rr", classes="nsv", normalize=normalize
    )
    probe = Preprocessing("window_rr", CLASSES, window_s=input_window_s("window_rr"))
    usable = probe.usable(beats)
    assert usable.sum() == len(beats) - 2  # RR features undefined ⇒ unusable
    return fit_preprocessing(cfg, subset_beats(beats, np.flatnonzero(usable)))


def test_window_part_is_unchanged_and_rr_part_standardised(rng: np.random.Generator) -> None:
    beats = _beats(rng)
    prep = _fit(beats)
    assert input_window_s("window_rr") == WINDOW_S
    assert prep.length == default_input_spec("window_rr").length == 265
    assert prep.normalize == "none" and prep.mean is None  # auto: the window is left as is
    x = prep.transform(beats)[2:]
    assert x.shape == (len(beats) - 2, 1, 265) and x.dtype == np.float32
    np.testing.assert_array_equal(x[:, 0, :256], beats.windows[2:].astype(np.float32))
    rr = beats.rr_features[2:].astype(np.float64)  # Beats stores float32
    np.testing.assert_allclose(prep.rr_mean, rr.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(prep.rr_std, rr.std(axis=0), rtol=1e-12)
    np.testing.assert_allclose(x[:, 0, 256:].mean(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(x[:, 0, 256:].std(axis=0), 1.0, atol=1e-5)
    assert np.isnan(prep.transform(beats)[:2]).any(axis=(1, 2)).all()


def test_feature_normalisation_covers_the_window_part_only(rng: np.random.Generator) -> None:
    beats = _beats(rng)
    prep = _fit(beats, normalize="feature")
    assert len(prep.mean) == len(prep.std) == 256 and len(prep.rr_mean) == 9
    w = beats.windows[2:]
    x = prep.transform(beats)[2:, 0]
    np.testing.assert_allclose(x[:, :256], (w - w.mean(axis=0)) / w.std(axis=0), atol=1e-5)
    np.testing.assert_allclose(x[:, 256:].mean(axis=0), 0.0, atol=1e-6)


def test_rr_statistics_are_required_and_checked(rng: np.random.Generator) -> None:
    beats = _beats(rng)
    bare = Preprocessing("window_rr", CLASSES, window_s=WINDOW_S)
    with pytest.raises(InvalidParameterError, match="'rr_mean/rr_std'"):
        bare.transform(beats)
    with pytest.raises(InvalidParameterError, match="'rr_mean/rr_std'"):
        Preprocessing("window_rr", CLASSES, window_s=WINDOW_S, rr_mean=(0.0,) * 9)
    with pytest.raises(InvalidParameterError, match="'rr_mean/rr_std'"):
        Preprocessing("window", CLASSES, window_s=WINDOW_S, rr_mean=(0.0,) * 9, rr_std=(1.0,) * 9)
    with pytest.raises(InvalidParameterError, match="'rr_mean/rr_std'"):
        Preprocessing(
            "window_rr", CLASSES, window_s=WINDOW_S, rr_mean=(0.0,) * 9, rr_std=(0.0,) * 9
        )


def test_checkpoint_round_trip_keeps_weights_and_rr_statistics(
    rng: np.random.Generator, tmp_path: Path
) -> None:
    beats = _beats(rng)
    prep = _fit(beats)
    again = Preprocessing.from_dict(json.loads(json.dumps(prep.to_dict())))
    assert again == prep
    cfg = TrainConfig(model="cnn1d_rr", input_kind="window_rr", classes="nsv")
    model = build_model(cfg, prep)
    assert model.input_spec == default_input_spec("window_rr")
    meta = RunMeta(
        model_config=model.model_config(),
        preprocessing=prep,
        train_config=cfg,
        split={},
        metrics={},
        command="pytest",
        n_params=count_parameters(model),
    )
    save_checkpoint(tmp_path / "run", model, meta)
    loaded, meta2 = load_checkpoint(tmp_path / "run")
    assert meta2.preprocessing == prep and meta2.train_config == cfg
    x = meta2.preprocessing.transform(beats)[2:]
    p_saved = model.predict_proba(x)
    np.testing.assert_array_equal(loaded.predict_proba(x), p_saved)
    assert p_saved.shape == (len(beats) - 2, 3)

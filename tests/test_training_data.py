"""Beats → model inputs: lengths, resampling onto the 360 Hz grid, normalisation, labels."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cardiostream.beats import window_samples
from cardiostream.errors import InvalidParameterError, InvalidSignalError
from cardiostream.models import default_input_spec
from cardiostream.training import (
    WINDOW_S,
    Preprocessing,
    TensorSet,
    TrainConfig,
    fit_preprocessing,
    input_window_s,
)
from cardiostream.training.data import encode_labels, subset_beats
from cardiostream.types import Beats


def _beats(
    fs: float, window_s: tuple[float, float], rng: np.random.Generator, n: int = 40
) -> Beats:
    before, after = (int(np.ceil(w * fs - 1e-9)) for w in window_s)
    t = np.arange(-before, after + 1) / fs
    freq = rng.uniform(1.0, 8.0, size=(n, 1))
    windows = np.sin(2 * np.pi * freq * t[None, :])
    labels = np.array(list("NSVFQ") * (n // 5))
    rr = rng.normal(1.0, 0.2, size=(n, 9))
    rr[:3] = np.nan  # the first beats of a record have no RR features
    return Beats(
        r_peaks=np.arange(n) * 400 + 500,
        record_ids=np.array(["100"] * (n // 2) + ["101"] * (n - n // 2)),
        fs=fs,
        windows=windows,
        labels=labels,
        rr_features=rr,
        params={"window_s": list(window_s), "causal_rr": False},
    ), freq


@pytest.mark.parametrize("kind", ["rr", "morph", "wavelet", "window"])
def test_input_lengths_agree_with_the_model_zoo(kind: str) -> None:
    prep = Preprocessing(kind, ("N", "S", "V"), window_s=input_window_s(kind))
    assert prep.length == default_input_spec(kind).length
    assert prep.length == {"rr": 9, "morph": 181, "wavelet": 28, "window": 256}[kind]


def test_window_input_is_256_samples_centred_on_the_r_peak(rng: np.random.Generator) -> None:
    beats, _ = _beats(360.0, WINDOW_S, rng)
    assert beats.windows.shape[1] == 256
    prep = Preprocessing("window", ("N", "S", "V"), window_s=WINDOW_S)
    x = prep.transform(beats)
    assert x.shape == (len(beats), 1, 256) and x.dtype == np.float32
    np.testing.assert_array_equal(x[:, 0, :], beats.windows)  # 360 Hz: unchanged
    assert window_samples(360.0, WINDOW_S) == (128, 127)  # R-peak is sample 128


def test_window_input_from_130_hz_lands_on_the_360_hz_grid(rng: np.random.Generator) -> None:
    beats, freq = _beats(130.0, WINDOW_S, rng)
    x = Preprocessing("window", ("N", "S", "V"), window_s=WINDOW_S).transform(beats)[:, 0, :]
    t = np.arange(-128, 128) / 360.0
    expected = np.sin(2 * np.pi * freq * t[None, :])  # analytic signal on the target grid
    assert np.max(np.abs(x - expected)) < 2e-3  # cubic spline of <= 8 Hz sines at 130 Hz


def test_window_length_mismatch_is_rejected(rng: np.random.Generator) -> None:
    beats, _ = _beats(360.0, (0.25, 0.25), rng)
    with pytest.raises(InvalidSignalError, match="'beats' windows"):
        Preprocessing("window", ("N",), window_s=WINDOW_S).transform(beats)


def test_rr_features_are_standardised_with_training_statistics(rng: np.random.Generator) -> None:
    beats, _ = _beats(360.0, (0.25, 0.25), rng)
    cfg = TrainConfig(model="lstm256", input_kind="rr", classes="aami5")
    usable = Preprocessing("rr", cfg.class_names).usable(beats)
    assert usable.sum() == len(beats) - 3
    train_rows = np.flatnonzero(usable)[:20]
    prep = fit_preprocessing(cfg, subset_beats(beats, train_rows))
    assert prep.normalize == "feature"
    xt = prep.transform(subset_beats(beats, train_rows))[:, 0, :]
    np.testing.assert_allclose(xt.mean(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(xt.std(axis=0), 1.0, atol=1e-5)
    again = Preprocessing.from_dict(json.loads(json.dumps(prep.to_dict())))
    assert again == prep
    np.testing.assert_array_equal(again.transform(beats), prep.transform(beats))


def test_tensor_set_keeps_only_known_classes_and_usable_beats(rng: np.random.Generator) -> None:
    beats, _ = _beats(360.0, (0.25, 0.25), rng)
    prep = Preprocessing("morph", ("N", "S", "V"))
    keep, codes = encode_labels(beats.labels, prep.classes)
    rows = np.flatnonzero(keep)
    ts = TensorSet.from_beats(beats, prep, rows)
    assert ts.x.shape == (rows.size, 1, 181) and set(ts.y) == {0, 1, 2}
    np.testing.assert_array_equal(np.asarray(prep.classes)[ts.y], beats.labels[rows])
    assert np.all(codes[~keep] == -1) and set(beats.labels[~keep]) == {"F", "Q"}
    with pytest.raises(InvalidParameterError, match="'rows'"):
        TensorSet.from_beats(beats, prep, np.arange(len(beats)))  # F and Q beats
    with pytest.raises(InvalidParameterError, match="'rows'"):
        TensorSet.from_beats(beats, Preprocessing("rr", ("N", "S", "V", "F", "Q")), np.arange(3))


def test_preprocessing_validation() -> None:
    with pytest.raises(InvalidParameterError, match="'input_kind'"):
        Preprocessing("ecg12", ("N",))
    with pytest.raises(InvalidParameterError, match="'normalize'"):
        Preprocessing("rr", ("N",), normalize="auto")
    with pytest.raises(InvalidParameterError, match="mean/std"):
        Preprocessing("rr", ("N",), normalize="feature", mean=(0.0,) * 9, std=(0.0,) * 9)

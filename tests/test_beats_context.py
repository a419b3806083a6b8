"""Running templates, template scale and rhythm-context features (cardiostream.beats.context)."""

from __future__ import annotations

import numpy as np
import pytest

from cardiostream.beats import (
    CONTEXT_FEATURE_NAMES,
    StreamingTemplate,
    context_features,
    running_templates,
    template_scale,
)
from cardiostream.errors import CardiostreamError


def _windows(n: int, m: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, m))


def test_template_is_median_of_previous_beats() -> None:
    w = _windows(50)
    rid = np.array(["a"] * 50)
    t = running_templates(w, rid, k=8)
    np.testing.assert_array_equal(t[0], w[0])
    np.testing.assert_allclose(t[1], w[0])
    np.testing.assert_allclose(t[5], np.median(w[0:5], axis=0))
    np.testing.assert_allclose(t[30], np.median(w[22:30], axis=0))


def test_template_restarts_per_record() -> None:
    w = _windows(20)
    rid = np.array(["a"] * 10 + ["b"] * 10)
    t = running_templates(w, rid, k=4)
    np.testing.assert_array_equal(t[10], w[10])
    np.testing.assert_allclose(t[12], np.median(w[10:12], axis=0))


def test_streaming_template_equals_offline() -> None:
    w = _windows(40)
    offline = running_templates(w, np.zeros(40, int), k=6)
    s = StreamingTemplate(k=6)
    online = np.stack([s.push(x) for x in w])
    np.testing.assert_array_equal(online, offline)
    s.reset()
    np.testing.assert_array_equal(s.push(w[5]), w[5])


def test_template_resists_a_minority_of_ectopic_beats() -> None:
    base = np.sin(np.linspace(0, np.pi, 64))
    w = np.tile(base, (40, 1))
    w[::5] = -3 * base  # every fifth beat looks nothing like the others
    t = running_templates(w, np.zeros(40, int), k=16)
    np.testing.assert_allclose(t[20:], np.tile(base, (20, 1)))


def test_scale_is_qrs_peak_to_peak_with_floor() -> None:
    fs = 360.0
    t = np.zeros((2, 257))
    t[0, 128] = 1.5
    t[0, 120] = -0.5
    t[0, 0] = 10.0  # outside ±75 ms: ignored
    np.testing.assert_allclose(template_scale(t, fs)[:, 0], [2.0, 0.05])


def test_context_features_expected_values() -> None:
    rr = np.array([[0.5, 1.0, 1.5, 0.5, -2.0, 1.0, 2.0, 1.5, 3.0]])
    got = context_features(rr)
    assert got.shape == (1, len(CONTEXT_FEATURE_NAMES))
    want = [*np.log([0.5, 1.0, 2.0, 1.5, 3.0]).tolist(), -2.0 / 3.0]
    np.testing.assert_allclose(got[0], want)
    clipped = context_features(np.array([[1, 1, 1, 1, 50.0, 1, 1, 1, 1]]))
    assert clipped[0, 5] == pytest.approx(10 / 3)
    assert np.isnan(context_features(np.full((1, 9), np.nan))).all()


@pytest.mark.parametrize(
    "bad",
    [np.zeros((3,)), np.full((2, 8), np.nan), np.array([[np.inf, 0.0]])],
)
def test_bad_windows_raise(bad: np.ndarray) -> None:
    with pytest.raises(CardiostreamError, match="windows"):
        running_templates(bad, np.zeros(len(bad)))


def test_bad_parameters_raise() -> None:
    with pytest.raises(CardiostreamError, match="'k'"):
        running_templates(_windows(3), np.zeros(3), k=0)
    with pytest.raises(CardiostreamError, match="record_ids"):
        running_templates(_windows(3), np.zeros(4))
    with pytest.raises(CardiostreamError, match="'rr'"):
        context_features(np.zeros((2, 5)))
    s = StreamingTemplate(k=3)
    s.push(np.zeros(10))
    with pytest.raises(CardiostreamError, match="window"):
        s.push(np.zeros(11))

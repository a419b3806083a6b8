"""Pipeline chaining, delays, and the standard preprocessing chain offline and streaming."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np
import pytest

from cardiostream import signal as cs


def test_pipeline_equals_steps_run_one_after_another(rng):
    x = np.cumsum(rng.standard_normal(2000)) * 0.05
    pipe = cs.Pipeline(
        cs.StreamingResampler(130.0, 360.0), cs.StreamingBaseline(360.0), cs.StreamingNotch(360.0)
    )
    manual = cs.StreamingResampler(130.0, 360.0).run(x)
    manual = cs.StreamingBaseline(360.0).run(manual)
    manual = cs.StreamingNotch(360.0).run(manual)
    assert np.array_equal(pipe.run(x), manual)
    assert pipe.delay_samples == 28 + 142
    assert pipe.rate_ratio == Fraction(36, 13)


def test_delay_is_converted_through_later_resamplers():
    pipe = cs.Pipeline(cs.StreamingBaseline(360.0), cs.StreamingResampler(360.0, 130.0))
    assert pipe.delay_exact == Fraction(142 * 13, 36) + 11
    assert pipe.delay_samples == pytest.approx(142 * 13 / 36 + 11)
    assert isinstance(pipe.delay_samples, float)
    assert isinstance(
        cs.Pipeline(cs.RunningZScore(), cs.StreamingBaseline(360.0)).delay_samples, int
    )


def test_preprocess_is_the_documented_offline_chain(rng):
    x = np.cumsum(rng.standard_normal(3000)) * 0.05 + rng.standard_normal(3000) * 0.02
    cfg = cs.PreprocessConfig(
        fs_out=360.0, notch_hz=60.0, wavelet="db8", wavelet_level=5, zscore=True
    )
    y = cs.resample(x, 130.0, 360.0)
    y = cs.notch(y, 360.0, 60.0)
    y = cs.remove_baseline(y, 360.0)
    y = cs.bandpass(y, 360.0, 0.5, 40.0, order=4)
    y = cs.zscore(cs.wavelet_denoise(y, "db8", 5))
    assert np.array_equal(cs.preprocess(x, 130.0, cfg), y)
    assert cfg.output_fs(130.0) == 360.0
    default = cs.preprocess(x, 360.0)
    assert np.array_equal(default, cs.bandpass(cs.remove_baseline(x, 360.0), 360.0, 0.5, 40.0))


def test_streaming_preprocessor_interior_equals_offline(rng):
    # Resampler (stream = resample_poly to 1e-12) then baseline (stream = offline exactly): away
    # from the start, where the resampler's pre-roll zeros enter the medians, the chains agree.
    x = np.cumsum(rng.standard_normal(3000)) * 0.05 + 0.5
    cfg = cs.PreprocessConfig(fs_out=360.0, bandpass_hz=None)
    pipe = cs.streaming_preprocessor(130.0, cfg)
    assert [type(s) for s in pipe.steps] == [cs.StreamingResampler, cs.StreamingBaseline]
    y = pipe.run(x)[pipe.delay_samples :]
    expected = cs.preprocess(x, 130.0, cfg)
    assert y.size == expected.size
    interior = slice(2 * pipe.delay_samples, -2 * pipe.delay_samples)
    np.testing.assert_allclose(y[interior], expected[interior], rtol=0, atol=1e-12)


def test_streaming_preprocessor_builds_every_configured_step():
    cfg = cs.PreprocessConfig(
        fs_out=360.0, notch_hz=50.0, wavelet="db8", zscore=True, zscore_window=500
    )
    pipe = cs.streaming_preprocessor(130.0, cfg)
    kinds = [type(s) for s in pipe.steps]
    assert kinds == [
        cs.StreamingResampler,
        cs.StreamingNotch,
        cs.StreamingBaseline,
        cs.StreamingBandpass,
        cs.StreamingWaveletDenoiser,
        cs.RunningZScore,
    ]
    assert pipe.delay_samples == 28 + 0 + 142 + 0 + 703 + 0
    off = cs.PreprocessConfig(baseline_windows_s=None, bandpass_hz=None)
    identity = cs.streaming_preprocessor(360.0, off)
    assert identity.run([1.0, 2.0, 3.0]).tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.zscore = False  # type: ignore[misc]

"""The streaming contract, checked on every streaming step of cardiostream.signal.

For each step: a stream fed in random chunk sizes (1 sample up to the whole signal) gives exactly
(np.array_equal) the output of one push; output counts follow the rate; pre-roll is zeros; a
rejected chunk leaves the state untouched; flush ends and resets the stream.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest

from cardiostream.errors import InvalidSignalError
from cardiostream.signal import (
    Pipeline,
    PreprocessConfig,
    RunningZScore,
    StreamingBandpass,
    StreamingBaseline,
    StreamingNotch,
    StreamingResampler,
    StreamingStep,
    StreamingWaveletDenoiser,
    streaming_preprocessor,
)

FS = 360.0

STEPS: dict[str, Callable[[], StreamingStep]] = {
    "resample_130_360": lambda: StreamingResampler(130.0, 360.0),
    "resample_360_130": lambda: StreamingResampler(360.0, 130.0),
    "resample_500_100": lambda: StreamingResampler(500.0, 100.0),
    "resample_130.16_360": lambda: StreamingResampler(130.16, 360.0),
    "resample_identity": lambda: StreamingResampler(FS, FS),
    "bandpass": lambda: StreamingBandpass(FS, 0.5, 40.0, order=4),
    "notch": lambda: StreamingNotch(FS, 60.0, 25.0),
    "baseline": lambda: StreamingBaseline(FS),
    "wavelet": lambda: StreamingWaveletDenoiser("db8", fs=FS),
    "wavelet_small_blocks": lambda: StreamingWaveletDenoiser(
        "sym4", fs=FS, block_len=128, hop=50
    ),
    "zscore": lambda: RunningZScore(window=500),
    "zscore_cumulative": lambda: RunningZScore(window=None),
    "pipeline": lambda: Pipeline(
        StreamingResampler(130.0, FS), StreamingBaseline(FS), StreamingBandpass(FS, 0.5, 40.0)
    ),
    "preprocessor_paper": lambda: streaming_preprocessor(
        130.0, PreprocessConfig(fs_out=FS, bandpass_hz=None, wavelet="db8", zscore=True)
    ),
}

SINGLE_STEPS = sorted(name for name, make in STEPS.items() if not isinstance(make(), Pipeline))


def ecg_like(n: int, rng: np.random.Generator) -> np.ndarray:
    """Spiky, drifting, noisy test signal in mV-like units."""
    t = np.arange(n)
    spikes = (t % 290 == 40) * 1.5
    spikes = np.convolve(spikes, np.hanning(9), mode="same")
    drift = 0.4 * np.sin(2 * np.pi * t / 1300.0) + 0.3
    return spikes + drift + 0.05 * rng.standard_normal(n)


def random_sizes(n: int, rng: np.random.Generator) -> list[int]:
    """Chunk sizes covering n samples, log-uniform between 1 and n."""
    sizes = []
    left = n
    while left:
        k = int(np.exp(rng.uniform(0.0, np.log(n + 1))))
        k = min(max(k, 1), left)
        sizes.append(k)
        left -= k
    return sizes


def stream(step: StreamingStep, x: np.ndarray, sizes: list[int]) -> tuple[np.ndarray, list[int]]:
    """Push ``x`` in the given chunk sizes then flush; return the output and per-push counts."""
    outs, counts, pos = [], [], 0
    for k in sizes:
        y = step.push(x[pos : pos + k])
        outs.append(y)
        counts.append(y.size)
        pos += k
    assert pos == x.size
    outs.append(step.flush())
    return np.concatenate(outs), counts


@pytest.fixture(params=sorted(STEPS))
def make_step(request: pytest.FixtureRequest) -> Callable[[], StreamingStep]:
    return STEPS[request.param]


def test_random_chunkings_equal_one_push(make_step, rng):
    x = ecg_like(3000, rng)
    one_shot = make_step().run(x)
    assert np.all(np.isfinite(one_shot))
    step = make_step()
    chunkings = [random_sizes(x.size, rng) for _ in range(4)]
    chunkings += [[x.size], [1, x.size - 1], [x.size - 1, 1], list(rng.integers(1, 8, 600))]
    for sizes in chunkings:
        sizes = [int(s) for s in sizes]
        total = sum(sizes)
        y, _ = stream(step, x[:total], sizes)
        expected = one_shot if total == x.size else make_step().run(x[:total])
        assert np.array_equal(y, expected), f"chunk sizes {sizes[:10]}..."


def test_one_sample_pushes_equal_one_push(make_step, rng):
    x = ecg_like(900, rng)
    y, _ = stream(make_step(), x, [1] * x.size)
    assert np.array_equal(y, make_step().run(x))


def test_output_counts_follow_rate_and_delay(make_step, rng):
    x = ecg_like(2000, rng)
    step = make_step()
    sizes = random_sizes(x.size, rng)
    y, counts = stream(step, x, sizes)
    ratio = step.rate_ratio
    done = np.cumsum(sizes)
    expected = [int(np.ceil(Fraction(int(n)) * ratio)) for n in done]
    assert list(np.cumsum(counts)) == expected
    assert y.size == expected[-1] + int(np.ceil(step.delay_samples))


@pytest.mark.parametrize("name", SINGLE_STEPS)
def test_preroll_is_zero(name, rng):
    # Single steps only: a pipeline's pre-roll zeros are input to its later steps.
    step = STEPS[name]()
    y = step.run(ecg_like(1500, rng) + 3.0)
    d = step.delay_samples
    assert np.all(y[:d] == 0.0)
    assert d == 0 or np.any(y[d:] != 0.0)


def test_rejected_chunk_keeps_state(make_step, rng):
    x = ecg_like(1500, rng)
    expected = make_step().run(x)
    step = make_step()
    head = step.push(x[:700])
    bad = x[700:720].copy()
    bad[3] = np.nan
    with pytest.raises(InvalidSignalError, match="sample 3"):
        step.push(bad)
    with pytest.raises(InvalidSignalError, match="1-D"):
        step.push(x[700:720].reshape(2, 10))
    rest = step.push(x[700:])
    assert np.array_equal(np.concatenate((head, rest, step.flush())), expected)


def test_flush_resets_for_a_new_stream(make_step, rng):
    x1, x2 = ecg_like(1200, rng), ecg_like(800, rng) - 1.0
    step = make_step()
    first = np.concatenate((step.push(x1), step.flush()))
    second = np.concatenate((step.push(x2), step.flush()))
    assert np.array_equal(first, make_step().run(x1))
    assert np.array_equal(second, make_step().run(x2))
    assert step.flush().size == 0  # flushing an empty stream yields nothing


def test_empty_and_list_chunks(make_step, rng):
    x = ecg_like(600, rng)
    step = make_step()
    assert step.push([]).size == 0
    head = step.push(list(x[:300]))
    assert step.push(np.empty(0)).size == 0
    y = np.concatenate((head, step.push(tuple(x[300:])), step.flush()))
    assert y.dtype == np.float64 and y.ndim == 1
    assert np.array_equal(y, make_step().run(x))


def test_integer_input_is_accepted(make_step):
    x = (np.arange(700) % 97).astype(np.int16)
    assert np.array_equal(make_step().run(x), make_step().run(x.astype(np.float64)))

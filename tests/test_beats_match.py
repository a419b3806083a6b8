"""The one beat matcher: EC57's 150 ms window is inclusive at every sampling rate."""

from __future__ import annotations

import numpy as np
import pytest

from cardiostream.beats import match_beats, match_window_samples


@pytest.mark.parametrize(("fs", "max_dt"), [(360.0, 54), (130.0, 19), (250.0, 37), (1000.0, 150)])
def test_pairs_exactly_150_ms_apart_match_and_one_sample_more_does_not(
    fs: float, max_dt: int
) -> None:
    assert match_window_samples(fs) == max_dt + 1
    ref = np.array([1000, 5000])
    ref_idx, det_idx = match_beats(ref, ref + np.array([max_dt, max_dt + 1]), fs)
    assert ref_idx.tolist() == [0] and det_idx.tolist() == [0]

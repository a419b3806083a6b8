"""Beats and features: segmentation, RR features, morphology and wavelet vectors, MIT-BIH beat sets.

Features follow Pramukantoro et al. 2025 (../shared/papers/001), section 3.2 and Table 1.
"""

from __future__ import annotations

from ._match import MATCH_WINDOW_S, match_beats, match_window_samples
from .context import (
    CONTEXT_FEATURE_NAMES,
    DEFAULT_TEMPLATE_BEATS,
    StreamingTemplate,
    context_features,
    running_templates,
    template_scale,
)
from .dataset import BeatDataset, RecordBeatSummary, build_mitdb_beats, build_mitdb_dataset
from .morphology import MORPHOLOGY_FS, morphology_features
from .preprocess import DEFAULT_PREPROCESS, PREPROCESS_METHODS, preprocess_ecg
from .rr import (
    CAUSAL_RR_FEATURE_NAMES,
    N_AVG_BEATS,
    RR_FEATURE_NAMES,
    RRFeatures,
    StreamingRRFeatures,
    rr_features,
)
from .segment import BeatWindows, refine_rpeaks, segment_beats, window_samples
from .wavelet_features import DEFAULT_WAVELET, DEFAULT_WAVELET_LEVEL, wavelet_features

__all__ = [
    "CAUSAL_RR_FEATURE_NAMES",
    "CONTEXT_FEATURE_NAMES",
    "DEFAULT_PREPROCESS",
    "DEFAULT_TEMPLATE_BEATS",
    "DEFAULT_WAVELET",
    "DEFAULT_WAVELET_LEVEL",
    "MATCH_WINDOW_S",
    "MORPHOLOGY_FS",
    "N_AVG_BEATS",
    "PREPROCESS_METHODS",
    "RR_FEATURE_NAMES",
    "BeatDataset",
    "BeatWindows",
    "RRFeatures",
    "RecordBeatSummary",
    "StreamingRRFeatures",
    "StreamingTemplate",
    "build_mitdb_beats",
    "build_mitdb_dataset",
    "context_features",
    "match_beats",
    "match_window_samples",
    "morphology_features",
    "preprocess_ecg",
    "refine_rpeaks",
    "rr_features",
    "running_templates",
    "segment_beats",
    "template_scale",
    "wavelet_features",
    "window_samples",
]

"""Small beat classifiers shared by the live-pipeline and service tests (not a test module)."""

from __future__ import annotations

import torch

from cardiostream.classify import BeatClassifier
from cardiostream.models import create_model
from cardiostream.training import Preprocessing
from cardiostream.training.data import WINDOW_S


def untrained_beatnet(seed: int = 0, temperature: float = 1.0) -> BeatClassifier:
    """A seeded, untrained ``beatnet`` on ``beat_ctx`` inputs with identity RR scaling."""
    torch.manual_seed(seed)
    model = create_model("beatnet", input_kind="beat_ctx").eval()
    prep = Preprocessing(
        input_kind="beat_ctx",
        classes=("N", "S", "V"),
        window_s=WINDOW_S,
        preprocess="causal",
        rr_mean=(0.0,) * 6,
        rr_std=(1.0,) * 6,
    )
    return BeatClassifier(model, prep, temperature=temperature, name="untrained")

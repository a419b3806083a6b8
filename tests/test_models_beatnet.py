"""BeatNet: rhythm-only rows of the head stay rhythm-only through training; augmentation."""

from __future__ import annotations

import pytest
import torch

from cardiostream.errors import CardiostreamError
from cardiostream.models import count_parameters, create_model
from cardiostream.models._base import CTX_LENGTH


def _x(batch: int = 8, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 1, 2 * 256 + CTX_LENGTH, generator=g)


def test_default_size() -> None:
    m = create_model("beatnet", input_kind="beat_ctx")
    assert count_parameters(m) == 39_445
    assert m.num_features == 64 + 32 + CTX_LENGTH


def test_rhythm_rows_ignore_morphology_after_training() -> None:
    torch.manual_seed(0)
    m = create_model("beatnet", input_kind="beat_ctx")
    opt = torch.optim.Adam(m.parameters(), 1e-2)
    x, y = _x(32), torch.randint(0, 3, (32,))
    for _ in range(3):
        loss = torch.nn.functional.cross_entropy(m(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    m.eval()
    # changing the signal part must not move the N and S logits, only V's
    x2 = x.clone()
    x2[:, :, : 2 * 256] += torch.randn(32, 1, 2 * 256)
    a, b = m(x), m(x2)
    torch.testing.assert_close(a[:, :2], b[:, :2])
    assert not torch.allclose(a[:, 2], b[:, 2])


def test_reset_classifier_keeps_the_mask() -> None:
    m = create_model("beatnet", input_kind="beat_ctx")
    m.reset_classifier(5)
    assert m.head.mask.shape == (5, m.num_features)
    assert m.head.mask[1].sum().item() == CTX_LENGTH
    assert m.head.mask[0].sum().item() == CTX_LENGTH
    assert m.head.mask[2].sum().item() == m.num_features


def test_augmentation_only_in_training() -> None:
    m = create_model("beatnet", input_kind="beat_ctx").eval()
    x = _x()
    torch.testing.assert_close(m(x), m(x))
    m.train()
    torch.manual_seed(1)
    a = m.forward_features(x)
    torch.manual_seed(2)
    b = m.forward_features(x)
    assert not torch.allclose(a[:, :64], b[:, :64])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"rhythm_classes": [3]}, "rhythm_classes"),
        ({"rhythm_classes": [1, 1]}, "rhythm_classes"),
        ({"aug_gain": 1.5}, "aug_gain"),
        ({"rhythm_gain": 0}, "rhythm_gain"),
        ({"input_length": 265}, "input_length"),
    ],
)
def test_bad_hyperparameters_raise(kwargs: dict, field: str) -> None:
    with pytest.raises(CardiostreamError, match=field):
        create_model("beatnet", input_kind="beat_ctx", **kwargs)

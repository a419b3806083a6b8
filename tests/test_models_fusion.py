"""RRFusion (``cnn1d_rr``): the window goes to the backbone, the RR features to their branch."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch

from cardiostream.beats import RR_FEATURE_NAMES
from cardiostream.errors import InvalidParameterError, InvalidSignalError
from cardiostream.models import (
    ECGModel,
    count_parameters,
    create_model,
    default_input_spec,
    model_info,
)
from cardiostream.models.fusion import RR_SUBSETS, RRFusion


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_window_rr_input_is_the_window_then_nine_rr_features() -> None:
    spec = default_input_spec("window_rr")
    assert spec.shape == (1, default_input_spec("window").length + 9) == (1, 265)
    assert spec.fs is None  # the axis is not uniformly sampled time throughout
    info = model_info("cnn1d_rr")
    assert info.cls is RRFusion and info.input_kinds == ("window_rr",)
    assert dict(info.fixed) == {"backbone": "cnn1d"} and dict(info.hparams) == {
        "rr_hidden": 32,
        "rr_features": "all",
    }
    assert info.default_num_classes == 3


def test_parameter_count_is_cnn1d_body_plus_rr_branch_and_wider_head() -> None:
    model = create_model("cnn1d_rr")
    cnn = create_model("cnn1d")
    body = count_parameters(cnn) - count_parameters(cnn.head)
    assert count_parameters(model) == body + (9 * 32 + 32) + ((128 + 32) * 3 + 3) == 188_451
    assert model.num_features == 160
    assert not isinstance(model.backbone.head, torch.nn.Linear)  # the backbone's head is gone


def test_window_and_rr_parts_feed_their_own_branches() -> None:
    torch.manual_seed(0)
    model = create_model("cnn1d_rr").eval()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(4, 1, 265, generator=g)
    other_rr = x.clone()
    other_rr[:, :, 256:] = torch.randn(4, 1, 9, generator=g)
    other_window = x.clone()
    other_window[:, :, :256] = torch.randn(4, 1, 256, generator=g)
    with torch.no_grad():
        f, f_rr, f_win = (model.forward_features(v) for v in (x, other_rr, other_window))
        assert isinstance(model.backbone, ECGModel)
        cnn_part = model.backbone.forward_features(x[:, :, :256])
        rr_part = torch.relu(model.rr[0](x[:, 0, 256:]))
    torch.testing.assert_close(f[:, :128], cnn_part, rtol=0, atol=0)
    torch.testing.assert_close(f[:, 128:], rr_part, rtol=0, atol=0)
    torch.testing.assert_close(f_rr[:, :128], f[:, :128], rtol=0, atol=0)  # RR: branch only
    assert not torch.allclose(f_rr[:, 128:], f[:, 128:])
    torch.testing.assert_close(f_win[:, 128:], f[:, 128:], rtol=0, atol=0)  # window: CNN only
    assert not torch.allclose(f_win[:, :128], f[:, :128])


def test_normalized_subset_reads_only_the_rr_ratios() -> None:
    torch.manual_seed(0)
    model = create_model("cnn1d_rr", rr_features="normalized").eval()
    assert model.rr[0].in_features == len(RR_SUBSETS["normalized"]) == 5
    assert [RR_FEATURE_NAMES[i] for i in RR_SUBSETS["normalized"]] == [
        "RR0/avgRR",
        "RR-1/avgRR",
        "RR-1/RR0",
        "RR+1/avgRR",
        "RR+1/RR0",
    ]
    x = torch.randn(3, 1, 265, generator=torch.Generator().manual_seed(2))
    absolute = x.clone()
    absolute[:, 0, 256 + np.array([0, 1, 2, 4])] = 9.0  # RR0, RR-1, RR+1, tRR0: ignored
    ratio = x.clone()
    ratio[:, 0, 256 + 3] = 9.0  # RR0/avgRR: read
    with torch.no_grad():
        torch.testing.assert_close(model(absolute), model(x), rtol=0, atol=0)
        assert not torch.allclose(model(ratio), model(x))
    assert count_parameters(model) == 188_451 - 4 * 32 == 188_323


def test_shorter_windows_and_bad_configurations() -> None:
    model = create_model("cnn1d_rr", input_length=128 + 9, rr_hidden=4, num_classes=5)
    with torch.no_grad():
        assert model.eval()(torch.zeros(2, 1, 137)).shape == (2, 5)
    with pytest.raises(InvalidSignalError, match="'x'"):
        model(torch.zeros(2, 1, 265))
    with pytest.raises(InvalidParameterError, match="'input_channels'"):
        create_model("cnn1d_rr", input_channels=2)
    with pytest.raises(InvalidParameterError, match="'input_length'"):
        create_model("cnn1d_rr", input_length=9 + 8)  # CNN1D needs 16 window samples
    with pytest.raises(InvalidParameterError, match="'rr_hidden'"):
        create_model("cnn1d_rr", rr_hidden=0)
    with pytest.raises(InvalidParameterError, match="'rr_features'"):
        create_model("cnn1d_rr", rr_features="absolute")
    with pytest.raises(InvalidParameterError, match="'input_kind'"):
        create_model("cnn1d_rr", input_kind="window")
    with pytest.raises(InvalidParameterError, match="'backbone'"):
        create_model("cnn1d_rr", backbone="gru")  # fixed by the variant

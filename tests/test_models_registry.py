"""Registry, configuration validation and error messages of cardiostream.models."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from cardiostream.errors import (
    CardiostreamError,
    InvalidParameterError,
    UnknownMethodError,
)
from cardiostream.models import (
    InputSpec,
    create_model,
    default_input_spec,
    list_models,
    model_info,
    register_model,
)
from cardiostream.models.lstm import LSTMSequential


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """One intra-op thread: tiny tensors gain nothing from more, and CI cores are shared."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_unknown_name_lists_the_valid_names() -> None:
    with pytest.raises(UnknownMethodError, match="'name'") as e:
        create_model("lstm1024")
    for name in list_models():
        assert repr(name) in str(e.value)
    with pytest.raises(UnknownMethodError):
        model_info(None)  # type: ignore[arg-type]


def test_list_models_filters() -> None:
    assert list_models("lstm*") == ["lstm256", "lstm512", "lstm_fcn"]
    assert list_models(paper="002") == [
        "bilstm2x128",
        "cnn1d",
        "cnn_lstm_attn",
        "conv_transformer",
        "resnet1d_attn",
        "resnet1d_se_attn",
    ]
    assert list_models(framework="sklearn") == ["decision_tree", "random_forest", "svm"]
    assert list_models("*attn", framework="torch") == [
        "cnn_lstm_attn",
        "resnet1d_attn",
        "resnet1d_se_attn",
    ]
    assert list_models() == sorted(list_models())
    with pytest.raises(InvalidParameterError, match="'framework'"):
        list_models(framework="keras")


def test_model_info_describes_the_entry() -> None:
    info = model_info("lstm512")
    assert info.cls is LSTMSequential and info.framework == "torch" and info.paper == "001"
    assert dict(info.fixed) == {"hidden_size": 512}
    assert dict(info.hparams) == {"dense_size": 128, "dropout": 0.2}
    assert info.default_input_kind == "wavelet" and info.default_num_classes == 5
    assert info.summary.startswith("LSTM-Sequential (paper 001")
    assert model_info("cnn1d").default_num_classes == 3


@pytest.mark.parametrize(
    ("cfg", "param"),
    [
        ({"hidden_size": 512}, "hidden_size"),  # fixed by the variant
        ({"bogus": 1}, "bogus"),
        ({"input_kind": "ecg12"}, "input_kind"),
        ({"input_kind": "spectrogram"}, "input_kind"),
        ({"input_length": 0}, "input_length"),
        ({"input_length": 9.0}, "input_length"),
        ({"input_channels": -1}, "input_channels"),
        ({"input_fs": -360.0}, "input_fs"),
        ({"num_classes": 0}, "num_classes"),
        ({"num_classes": True}, "num_classes"),
        ({"dropout": 1.0}, "dropout"),
        ({"dense_size": "128"}, "dense_size"),
    ],
)
def test_bad_configuration_names_the_parameter(cfg: dict, param: str) -> None:
    with pytest.raises(InvalidParameterError, match=f"'{param}'"):
        create_model("lstm256", **cfg)


@pytest.mark.parametrize(
    ("name", "cfg", "param"),
    [
        ("cnn1d", {"input_kind": "wavelet", "input_length": 15}, "input_length"),  # 4 pools
        ("cnn_lstm", {"input_length": 3}, "input_length"),
        ("lstm_fcn", {"permute": "yes"}, "permute"),
        ("lstm_fcn", {"lstm_dropout": -0.1}, "lstm_dropout"),
        ("resnet1d_attn", {"blocks_per_stage": 0}, "blocks_per_stage"),
        ("random_forest", {"class_weight": "auto"}, "class_weight"),
        ("random_forest", {"max_depth": 0}, "max_depth"),
        ("svm", {"kernel": "cubic"}, "kernel"),
        ("svm", {"c": 0.0}, "c"),
        ("svm", {"gamma": -1.0}, "gamma"),
    ],
)
def test_bad_model_specific_configuration(name: str, cfg: dict, param: str) -> None:
    with pytest.raises(InvalidParameterError, match=f"'{param}'"):
        create_model(name, **cfg)


def test_duplicate_registration_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match="already registered"):
        register_model("lstm256", paper="001", input_kinds=("rr",))
    with pytest.raises(InvalidParameterError, match="'input_kinds'"):
        register_model("new_model", paper="001", input_kinds=("audio",))
    assert "new_model" not in list_models()


def test_model_config_needs_a_registry_built_model() -> None:
    m = LSTMSequential(num_classes=5, input_spec=default_input_spec("rr"))
    with torch.no_grad():
        assert m.eval()(torch.zeros(1, 1, 9)).shape == (1, 5)
    with pytest.raises(CardiostreamError, match="create_model"):
        m.model_config()


def test_input_spec_validation_and_defaults() -> None:
    spec = InputSpec("morph", 181, fs=360)
    assert spec.fs == 360.0 and isinstance(spec.fs, float) and spec.shape == (1, 181)
    with pytest.raises(InvalidParameterError, match="'input_kind'"):
        InputSpec("image", 10)
    with pytest.raises(InvalidParameterError, match="'input_length'"):
        InputSpec("rr", 0)
    with pytest.raises(InvalidParameterError, match="'input_fs'"):
        InputSpec("rr", 9, fs=float("nan"))
    assert default_input_spec("rr") == InputSpec("rr", 9)
    assert default_input_spec("window") == InputSpec("window", 256, fs=360.0)
    assert default_input_spec("ecg12").channels == 12
    with pytest.raises(InvalidParameterError, match="'input_kind'"):
        default_input_spec("audio")

"""TrainConfig validation, JSON round trip and configuration files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cardiostream.errors import CardiostreamError, DataNotFoundError, InvalidParameterError
from cardiostream.training import TrainConfig, load_config


def _cfg(**kw: object) -> TrainConfig:
    return TrainConfig(**{"model": "cnn1d", "input_kind": "window", **kw})  # type: ignore[arg-type]


def test_defaults_follow_paper_001() -> None:
    c = _cfg()
    assert (c.lr, c.batch_size, c.epochs, c.test_fraction) == (1e-3, 256, 50, 0.3)
    assert c.class_names == ("N", "S", "V", "F", "Q")
    assert _cfg(classes="nsv").class_names == ("N", "S", "V")
    assert _cfg().resolved_normalize == "none"
    assert _cfg(model="lstm256", input_kind="rr").resolved_normalize == "feature"


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"model": "nope"}, "'model'"),
        ({"input_kind": "ecg12"}, "'input_kind'"),
        ({"classes": "nsvf"}, "'classes'"),
        ({"protocol": "cross"}, "'protocol'"),
        ({"epochs": 0}, "'epochs'"),
        ({"batch_size": 2.5}, "'batch_size'"),
        ({"lr": -1.0}, "'lr'"),
        ({"lr": float("nan")}, "'lr'"),
        ({"val_fraction": 1.0}, "'val_fraction'"),
        ({"test_fraction": 0}, "'test_fraction'"),
        ({"patience": -1}, "'patience'"),
        ({"seed": True}, "'seed'"),
        ({"monitor": "val_acc"}, "'monitor'"),
        ({"loss": "hinge"}, "'loss'"),
        ({"class_weighting": "inverse"}, "'class_weighting'"),
        ({"max_train_beats": 1}, "'max_train_beats'"),
        ({"max_minutes": 0}, "'max_minutes'"),
        ({"train_records": ("100", "999")}, "'train_records'"),
        ({"train_records": ("100", "100")}, "'train_records'"),
        ({"protocol": "intra", "test_records": ("100",)}, "'test_records'"),
        ({"train_records": ("100", "101"), "test_records": ("101",)}, "'test_records'"),
        ({"model_kwargs": {1: 2}}, "'model_kwargs'"),
    ],
)
def test_invalid_settings_name_the_parameter(change: dict, name: str) -> None:
    with pytest.raises(InvalidParameterError, match=name):
        _cfg(**change)


def test_dict_round_trip_and_replace() -> None:
    c = _cfg(train_records=["106", "119"], test_records="233,100", model_kwargs={"dropout": 0.1})
    assert c.train_records == ("106", "119") and c.test_records == ("233", "100")
    d = json.loads(json.dumps(c.to_dict()))
    assert TrainConfig.from_dict(d) == c
    assert c.replace(epochs=3).epochs == 3
    with pytest.raises(InvalidParameterError, match="'epochs'"):
        c.replace(epochs=-3)


def test_from_dict_rejects_unknown_and_missing_keys() -> None:
    with pytest.raises(InvalidParameterError, match="'learning_rate'"):
        TrainConfig.from_dict({"model": "cnn1d", "input_kind": "window", "learning_rate": 1})
    with pytest.raises(InvalidParameterError, match="'input_kind'"):
        TrainConfig.from_dict({"model": "cnn1d"})
    with pytest.raises(InvalidParameterError, match="mapping"):
        TrainConfig.from_dict([("model", "cnn1d")])  # type: ignore[arg-type]


def test_load_config_files(tmp_path: Path) -> None:
    p = tmp_path / "c.json"
    p.write_text(json.dumps({"model": "gru", "input_kind": "rr", "epochs": 7}))
    assert TrainConfig.from_dict(load_config(p)).epochs == 7
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InvalidParameterError, match="not valid JSON"):
        load_config(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(InvalidParameterError, match="mapping"):
        load_config(tmp_path / "list.json")
    (tmp_path / "c.toml").write_text("")
    with pytest.raises(InvalidParameterError, match=r"\.json"):
        load_config(tmp_path / "c.toml")
    with pytest.raises(DataNotFoundError):
        load_config(tmp_path / "absent.json")


def test_yaml_config_needs_pyyaml(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("model: gru\ninput_kind: rr\nepochs: 4\n")
    try:
        import yaml  # noqa: F401
    except ImportError:
        with pytest.raises(CardiostreamError, match="PyYAML"):
            load_config(p)
    else:
        assert load_config(p)["epochs"] == 4

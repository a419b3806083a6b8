"""``create_model``: build a registered model from its name and a flat configuration."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import InvalidParameterError, check_param
from ._base import ECGModel, InputSpec, default_input_spec
from ._registry import model_info

if TYPE_CHECKING:
    from .classical import ClassicalModel

__all__ = ["INPUT_KEYS", "create_model"]

#: Configuration keys describing the input, accepted by every model.
INPUT_KEYS = ("input_kind", "input_length", "input_channels", "input_fs")


def create_model(name: str, **cfg: Any) -> ECGModel | ClassicalModel:
    """Build the registered model ``name``.

    Parameters
    ----------
    name : str
        A name from :func:`list_models`; unknown names raise :class:`UnknownMethodError`
        listing the valid ones.
    **cfg
        ``num_classes``; the input (``input_kind``, one of the model's
        :attr:`ModelInfo.input_kinds`, and optionally ``input_length``, ``input_channels``,
        ``input_fs`` overriding :func:`default_input_spec`); and any of the variant's
        hyperparameters (:attr:`ModelInfo.hparams`). Anything else raises
        :class:`InvalidParameterError` naming the parameter.

    Returns
    -------
    ECGModel or ClassicalModel
        A torch model (``framework == "torch"``) or a scikit-learn wrapper. Its
        ``model_config()`` holds ``name`` and every resolved setting, so
        ``create_model(**model.model_config())`` rebuilds the same architecture.
    """
    info = model_info(name)
    cfg = dict(cfg)
    num_classes = cfg.pop("num_classes", info.default_num_classes)
    kind = cfg.pop("input_kind", info.default_input_kind)
    check_param("input_kind", kind, kind in info.input_kinds, f"one of {list(info.input_kinds)}")
    base = default_input_spec(kind)
    spec = InputSpec(
        kind,
        cfg.pop("input_length", base.length),
        cfg.pop("input_channels", base.channels),
        cfg.pop("input_fs", base.fs),
    )
    unknown = sorted(set(cfg) - set(info.hparams))
    if unknown:
        raise InvalidParameterError(
            f"The {unknown[0]!r} parameter is not accepted by model {name!r}; it accepts "
            f"{['num_classes', *INPUT_KEYS, *info.hparams]}."
        )
    hparams = {**info.hparams, **cfg}
    model = info.cls(num_classes=num_classes, input_spec=spec, **info.fixed, **hparams)
    model._bind_config(name, hparams)
    return model

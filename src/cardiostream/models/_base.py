"""The interface every torch model of the zoo shares, and the declared input it consumes.

Every model is an :class:`ECGModel`: a feature extractor ``forward_features(x) -> (B, F)``
followed by one linear head ``forward_head(f) -> (B, num_classes)`` (logits; the papers' softmax
is applied by the loss or at inference). Inputs are always ``(B, channels, length)`` tensors, as
described by the model's :class:`InputSpec`; recurrent models transpose internally. The shape of
this interface follows timm (``forward_features`` / ``forward_head`` / ``reset_classifier``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from ..beats import (
    CONTEXT_FEATURE_NAMES,
    MORPHOLOGY_FS,
    RR_FEATURE_NAMES,
    wavelet_features,
    window_samples,
)
from ..errors import CardiostreamError, InvalidParameterError, InvalidSignalError, check_param

__all__ = [
    "INPUT_KINDS",
    "ECGModel",
    "InputSpec",
    "count_parameters",
    "default_input_spec",
]

#: Kinds of model input: RR-interval features, morphology vector, DWT approximation of the
#: morphology vector, a raw single-lead window, that window followed by the RR features, a
#: 12-lead record.
INPUT_KINDS: tuple[str, ...] = (
    "rr",
    "morph",
    "wavelet",
    "window",
    "window_rr",
    "beat_ctx",
    "ecg12",
)

#: Paper 002 classifies 256-sample single-lead MIT-BIH windows (360 Hz).
WINDOW_LENGTH = 256
WINDOW_FS = 360.0
#: RR features appended to the window of the ``window_rr`` input (paper 001, Table 1).
RR_LENGTH = len(RR_FEATURE_NAMES)
#: Rhythm-context features at the end of the ``beat_ctx`` input.
CTX_LENGTH = len(CONTEXT_FEATURE_NAMES)

_BATCHNORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


@dataclass(frozen=True)
class InputSpec:
    """What a model consumes: a ``(batch, channels, length)`` float tensor of one kind.

    Errors name the fields as :func:`create_model` spells them (``input_kind``, ...).

    Attributes
    ----------
    kind : str
        One of :data:`INPUT_KINDS`.
    length : int
        Timesteps (samples, coefficients or features) per channel.
    channels : int
        Channels (leads, or features per timestep).
    fs : float or None
        Sampling rate of the time axis in Hz; None where the axis is not uniformly sampled time
        (RR features, wavelet coefficients).
    """

    kind: str
    length: int
    channels: int = 1
    fs: float | None = None

    def __post_init__(self) -> None:
        ok = self.kind in INPUT_KINDS
        check_param("input_kind", self.kind, ok, f"one of {list(INPUT_KINDS)}")
        for name in ("length", "channels"):
            v = getattr(self, name)
            ok = isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= 1
            check_param(f"input_{name}", v, ok, "a positive integer")
            object.__setattr__(self, name, int(v))
        if self.fs is not None:
            ok = isinstance(self.fs, int | float) and math.isfinite(self.fs) and self.fs > 0
            check_param("input_fs", self.fs, ok, "None or a positive sampling rate in Hz")
            object.__setattr__(self, "fs", float(self.fs))

    @property
    def shape(self) -> tuple[int, int]:
        """``(channels, length)``: the shape of one example."""
        return (self.channels, self.length)


def default_input_spec(kind: str) -> InputSpec:
    """The project's input of ``kind`` as :mod:`cardiostream.beats` produces it.

    ``rr``: the 9 RR features of paper 001 (Table 1); ``morph``: 181 samples (0.25 s each side of
    the R-peak at 360 Hz, paper 001 section 3.2.2); ``wavelet``: the db4 level-3 approximation of
    the morphology vector (28 coefficients); ``window``: 256 samples at 360 Hz (paper 002);
    ``window_rr``: those 256 samples followed by the 9 RR features (265 values; ``fs`` None
    because the axis is not uniformly sampled time throughout); ``beat_ctx``: the window and its
    difference from the patient's running template, both divided by the template's QRS amplitude,
    then the 6 rhythm-context features (2 × 256 + 6 = 518 values,
    :mod:`cardiostream.beats.context`); ``ecg12``: a record-level window, by default 2.5 s of
    12 leads at 100 Hz (the training crop of Strodthoff et al. 2021 on PTB-XL's low-rate
    records); a single-lead student sets ``input_channels=1``.
    """
    check_param("input_kind", kind, kind in INPUT_KINDS, f"one of {list(INPUT_KINDS)}")
    if kind == "rr":
        return InputSpec("rr", len(RR_FEATURE_NAMES))
    before, after = window_samples(MORPHOLOGY_FS, (0.25, 0.25))
    n_morph = before + 1 + after
    if kind == "morph":
        return InputSpec("morph", n_morph, fs=MORPHOLOGY_FS)
    if kind == "wavelet":
        return InputSpec("wavelet", int(wavelet_features(np.zeros((1, n_morph))).shape[1]))
    if kind == "window":
        return InputSpec("window", WINDOW_LENGTH, fs=WINDOW_FS)
    if kind == "window_rr":
        return InputSpec("window_rr", WINDOW_LENGTH + RR_LENGTH)
    if kind == "beat_ctx":
        return InputSpec("beat_ctx", 2 * WINDOW_LENGTH + CTX_LENGTH)
    return InputSpec("ecg12", 250, channels=12, fs=100.0)


def count_parameters(module: nn.Module, *, keras: bool = False) -> int:
    """Number of parameters of ``module``.

    With ``keras=True`` the count follows Keras's ``model.summary()`` "Param #", which also
    counts the moving mean and variance of batch-normalisation layers (4 per channel instead of
    torch's 2 trainable), so paper 001's tables can be compared layer by layer.
    """
    n = sum(p.numel() for p in module.parameters())
    if keras:
        for m in module.modules():
            if isinstance(m, _BATCHNORMS) and m.running_mean is not None:
                n += m.running_mean.numel() + m.running_var.numel()
    return int(n)


def check_int(name: str, value: object, low: int = 1) -> int:
    """Validate an integer hyperparameter ``>= low`` and return it as ``int``."""
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= low
    check_param(name, value, ok, f"an integer >= {low}")
    return int(value)  # type: ignore[arg-type]


def check_rate(name: str, value: object) -> float:
    """Validate a dropout rate in ``[0, 1)`` and return it as ``float``."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1
    check_param(name, value, ok, "a dropout rate in [0, 1)")
    return float(value)  # type: ignore[arg-type]


class ECGModel(nn.Module):
    """Base class of every torch model in the zoo.

    Subclasses build their layers in ``__init__``, assign ``self.head`` with
    :meth:`_new_head` and implement :meth:`forward_features`. Models are built by
    :func:`cardiostream.models.create_model`, which records the name and configuration that
    :meth:`model_config` returns.

    Parameters
    ----------
    num_classes : int
        Outputs of the head.
    input_spec : InputSpec
        The input the model consumes; its length must be at least :attr:`min_length`.
    """

    #: Shortest input length the architecture supports (pooling stages).
    min_length: ClassVar[int] = 1
    head: nn.Linear

    def __init__(self, *, num_classes: int, input_spec: InputSpec) -> None:
        super().__init__()
        check_int("num_classes", num_classes)
        if not isinstance(input_spec, InputSpec):
            raise InvalidParameterError(
                f"The 'input_spec' parameter must be an InputSpec, got {input_spec!r} instead."
            )
        check_param(
            "input_length",
            input_spec.length,
            input_spec.length >= self.min_length,
            f"at least {self.min_length} for {type(self).__name__}",
        )
        self._input_spec = input_spec
        self._num_classes = int(num_classes)
        self._name: str | None = None
        self._hparams: dict[str, Any] = {}

    # -- interface -------------------------------------------------------------------------
    @property
    def input_spec(self) -> InputSpec:
        """The declared input: ``(B, input_spec.channels, input_spec.length)`` tensors."""
        return self._input_spec

    @property
    def num_classes(self) -> int:
        """Outputs of the head."""
        return self._num_classes

    @property
    def num_features(self) -> int:
        """Width ``F`` of :meth:`forward_features`' output (the head's input)."""
        return int(self.head.in_features)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Features ``(B, num_features)`` of inputs ``x`` of shape ``(B, channels, length)``."""
        raise NotImplementedError

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, num_classes)`` from features ``(B, num_features)``."""
        return self.head(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, num_classes)``; ``x`` must match :attr:`input_spec`."""
        self._check_input(x)
        return self.forward_head(self.forward_features(x))

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the head by a freshly initialised one with ``num_classes`` outputs.

        The feature extractor is untouched (its parameters keep their values and identity).
        """
        num_classes = check_int("num_classes", num_classes)
        old = self.head.weight
        self.head = self._new_head(self.num_features, num_classes).to(
            device=old.device, dtype=old.dtype
        )
        self._num_classes = num_classes

    def model_config(self) -> dict[str, Any]:
        """JSON-serialisable configuration; ``create_model(**model_config())`` rebuilds it."""
        if self._name is None:
            raise CardiostreamError(
                f"{type(self).__name__} was not built by create_model(), so it has no registry "
                "name; build models with cardiostream.models.create_model(name, **cfg)."
            )
        spec = self._input_spec
        return {
            "name": self._name,
            "num_classes": self._num_classes,
            "input_kind": spec.kind,
            "input_length": spec.length,
            "input_channels": spec.channels,
            "input_fs": spec.fs,
            **self._hparams,
        }

    @torch.no_grad()
    def predict_proba(self, x: np.ndarray | torch.Tensor, batch_size: int = 1024) -> np.ndarray:
        """Class probabilities (softmax of the logits) in eval mode, as float64 ``(B, C)``.

        The module's train/eval mode is restored afterwards.
        """
        batch_size = check_int("batch_size", batch_size)
        p = next(self.parameters())
        xt = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
        xt = xt.to(device=p.device, dtype=p.dtype)
        self._check_input(xt)
        was_training = self.training
        self.eval()
        try:
            out = [
                torch.softmax(self(xt[i : i + batch_size]), dim=1)
                for i in range(0, xt.shape[0], batch_size)
            ]
        finally:
            self.train(was_training)
        if not out:
            return np.zeros((0, self._num_classes))
        return torch.cat(out).double().cpu().numpy()

    # -- for subclasses ----------------------------------------------------------------------
    def _new_head(self, num_features: int, num_classes: int) -> nn.Linear:
        """A new classifier layer; subclasses override to change its initialisation."""
        return nn.Linear(num_features, num_classes)

    def _check_input(self, x: torch.Tensor) -> None:
        c, n = self._input_spec.shape
        if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[1] != c or x.shape[2] != n:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise InvalidSignalError(
                f"The 'x' parameter must be a tensor of shape (batch, {c}, {n}) for input kind "
                f"{self._input_spec.kind!r}, got {shape} instead."
            )

    def _bind_config(self, name: str, hparams: dict[str, Any]) -> None:
        """Called by ``create_model``: remember the registry name and resolved configuration."""
        self._name = name
        self._hparams = dict(hparams)

    def extra_repr(self) -> str:
        return f"name={self._name!r}, input={self._input_spec}, num_classes={self._num_classes}"

"""BeatNet: a small inter-patient beat classifier on the ``beat_ctx`` input.

Designed for the inter-patient protocol (train DS1, test DS2, de Chazal et al. 2004) and for a
chest strap at 130 Hz, where models that learn the training patients' beat shapes fail. Two
ideas carry it:

* **Morphology relative to the patient.** The CNN sees the beat and its difference from the
  patient's running template (both divided by the template's QRS amplitude,
  :mod:`cardiostream.beats.context`), so a ventricular beat stands out as a large, wide
  deviation whatever the patient's normal QRS looks like.
* **Supraventricular beats from rhythm only.** An S beat has a normal QRS; what marks it is
  prematurity relative to the local rhythm. A network free to use morphology for S learns the
  few DS1 patients' P waves and misses most S beats of new patients (our cnn1d_rr: S Se 19 %
  on DS2). BeatNet's head therefore makes the ``rhythm_classes`` logits (N and S) *linear*
  functions of the six standardised rhythm-context features only, so the S-versus-N decision is
  a linear rhythm model, as de Chazal et al. found to generalise; the other logits (V, and F and
  Q for five classes) read the CNN and an RR branch, so "is it ventricular?" is a question of
  morphology relative to the patient. (With only S restricted, the N logit still reads
  morphology and the S/N boundary drifts with the training patients' beat shapes.)

The feature vector is ``[CNN (64) | RR branch (32) | context (6)]``; the head is a
:class:`MaskedLinear` whose rows for ``rhythm_classes`` are zero outside the context columns.
Designed on DS1 only; the class-weight factors of the shipped configuration were chosen by
validation macro-F1 on DS1 records (``configs/beatnet_inter.json``).
39,445 parameters for 3 classes (default widths).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..errors import check_param
from ._base import CTX_LENGTH, ECGModel, InputSpec, check_int, check_rate
from ._registry import register_model

__all__ = ["BeatNet", "MaskedLinear"]


class MaskedLinear(nn.Linear):
    """A linear layer whose weight is multiplied by a fixed 0/1 ``mask`` (same shape)."""

    mask: torch.Tensor

    def __init__(self, in_features: int, out_features: int, mask: torch.Tensor) -> None:
        super().__init__(in_features, out_features)
        check_param("mask", tuple(mask.shape), tuple(mask.shape) == (out_features, in_features),
                    f"shape ({out_features}, {in_features})")
        self.register_buffer("mask", mask.to(self.weight.dtype))
        with torch.no_grad():
            self.weight.mul_(self.mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.weight * self.mask, self.bias)


def _block(c_in: int, c_out: int, k: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv1d(c_in, c_out, k, stride=2, padding=k // 2),
        nn.BatchNorm1d(c_out),
        nn.ReLU(),
    )


@register_model(
    "beatnet",
    paper="cardiostream",
    input_kinds=("beat_ctx",),
    num_classes=3,
    reference="patient-relative morphology CNN + linear rhythm head for S (this project)",
)
class BeatNet(ECGModel):
    """Template-relative CNN + RR branch, with S decided by rhythm context (module docstring).

    Parameters
    ----------
    width : int
        Channels of the first two conv blocks; the last two have twice as many (32).
    rr_hidden : int
        Width of the RR branch (32).
    dropout : float
        Dropout on the CNN features (0.3).
    rhythm_classes : sequence of int
        Output indices whose logits read only the context features: ``(0, 1)``, N and S in both
        AAMI label sets (``nsv`` and ``aami5``); ``()`` lets every class read everything.
    aug_gain, aug_noise : float
        Training-time augmentation of the two signal channels (a no-op in eval mode): a random
        gain ``1 + aug_gain · N(0, 1)`` per beat and white noise of standard deviation
        ``aug_noise`` (in template-QRS units), so the CNN cannot memorise the training
        patients' exact amplitudes (0.2, 0.03).
    rhythm_gain : float
        Constant factor on the context features the head reads directly. Adam moves each
        weight by about the learning rate per step whatever the gradient's size, so the linear S
        logit would need many epochs to reach the log-odds it needs while the CNN overfits the
        training patients after one or two; the gain lets both converge in the same epochs (10).
    """

    def __init__(
        self,
        *,
        num_classes: int,
        input_spec: InputSpec,
        width: int = 32,
        rr_hidden: int = 32,
        dropout: float = 0.3,
        rhythm_classes: Sequence[int] = (0, 1),
        aug_gain: float = 0.2,
        aug_noise: float = 0.03,
        rhythm_gain: float = 10.0,
    ) -> None:
        super().__init__(num_classes=num_classes, input_spec=input_spec)
        c = check_int("width", width)
        rr_hidden = check_int("rr_hidden", rr_hidden)
        dropout = check_rate("dropout", dropout)
        n_sig = input_spec.length - CTX_LENGTH
        ok = input_spec.channels == 1 and n_sig > 0 and n_sig % 2 == 0
        check_param("input_length", input_spec.length, ok,
                    f"2 × window + {CTX_LENGTH} on one channel (the beat_ctx input)")
        rc = tuple(int(i) for i in rhythm_classes)
        ok = all(0 <= i < num_classes for i in rc) and len(set(rc)) == len(rc)
        check_param("rhythm_classes", rhythm_classes, ok, f"distinct indices < {num_classes}")
        self._rhythm = rc
        for name, v in (("aug_gain", aug_gain), ("aug_noise", aug_noise)):
            ok = isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v < 1
            check_param(name, v, ok, "a number in [0, 1)")
        self._aug = (float(aug_gain), float(aug_noise))
        ok = isinstance(rhythm_gain, int | float) and not isinstance(rhythm_gain, bool)
        check_param("rhythm_gain", rhythm_gain, ok and 0 < rhythm_gain <= 1000, "in (0, 1000]")
        self._rhythm_gain = float(rhythm_gain)
        self._n_window = n_sig // 2
        self.body = nn.Sequential(
            _block(2, c, 7),
            _block(c, c, 7),
            _block(c, 2 * c, 5),
            _block(2 * c, 2 * c, 5),
            nn.AdaptiveAvgPool1d(1),
            nn.Flatten(),
            nn.Dropout(dropout),
        )
        self.rr = nn.Sequential(nn.Linear(CTX_LENGTH, rr_hidden), nn.ReLU())
        self._n_features = 2 * c + rr_hidden + CTX_LENGTH
        self.head = self._new_head(self._n_features, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        n = 2 * self._n_window
        signal = x[:, 0, :n].reshape(x.shape[0], 2, self._n_window)
        ctx = x[:, 0, n:]
        if self.training and (self._aug[0] > 0 or self._aug[1] > 0):
            noise = torch.randn(x.shape[0], 1, 1, dtype=x.dtype, device=x.device)
            gain = 1.0 + self._aug[0] * noise
            signal = signal * gain + self._aug[1] * torch.randn_like(signal)
        return torch.cat([self.body(signal), self.rr(ctx), self._rhythm_gain * ctx], dim=1)

    def _new_head(self, num_features: int, num_classes: int) -> nn.Linear:
        mask = torch.ones(num_classes, num_features)
        for i in getattr(self, "_rhythm", ()):
            if i < num_classes:
                mask[i, : num_features - CTX_LENGTH] = 0.0
        return MaskedLinear(num_features, num_classes, mask)

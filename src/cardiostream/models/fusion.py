"""Morphology + rhythm: a window backbone whose head also sees the beat's RR features.

Supraventricular (S) beats differ from normal ones mainly in timing (a premature RR interval
followed by a longer one), hardly in shape, so window-only networks miss most of them across
patients. De Chazal et al. (IEEE TBME 51(7), 2004) and Mondéjar-Guerra et al. (BSPC 47, 2019)
reach inter-patient S sensitivity by combining morphology with RR intervals normalised to the
patient's local average; :class:`RRFusion` does the same for any window model of the zoo.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import check_param
from ._base import RR_LENGTH, ECGModel, InputSpec, check_int
from ._factory import create_model
from ._registry import register_model

__all__ = ["RR_SUBSETS", "RRFusion"]

#: Which of the nine RR features the RR branch reads: ``all``, or ``normalized``, the five that
#: are ratios (RR0/avgRR, RR-1/avgRR, RR-1/RR0, RR+1/avgRR, RR+1/RR0), free of the patient's
#: heart rate as de Chazal et al. (2004) and Mondéjar-Guerra et al. (2019) recommend.
RR_SUBSETS: dict[str, tuple[int, ...]] = {
    "all": tuple(range(RR_LENGTH)),
    "normalized": (3, 5, 6, 7, 8),
}


@register_model(
    "cnn1d_rr",
    paper="dechazal2004",
    input_kinds=("window_rr",),
    num_classes=3,
    fixed={"backbone": "cnn1d"},
    reference="paper 002 CNN1D on the window plus RR features (de Chazal et al. 2004)",
)
class RRFusion(ECGModel):
    """Window backbone ⊕ RR branch (Dense ReLU) → linear head, on the ``window_rr`` input.

    The input ``(B, 1, W + 9)`` is split by position: the first ``W`` values are the beat window
    fed to ``backbone`` (a zoo model built with ``input_kind="window"``, its own head removed),
    the last 9 are the standardised RR features of paper 001 (Table 1: RR0, RR-1, RR+1 and their
    ratios to the local average and to RR0), passed through one Dense + ReLU layer. The two
    feature vectors are concatenated before the linear head. ``cnn1d_rr`` (backbone ``cnn1d``)
    has 188,451 parameters for 3 classes: CNN1D's 187,648 body, 320 in the RR branch, 483 in the
    head (188,323 with ``rr_features="normalized"``, whose branch reads 5 features).

    Parameters
    ----------
    backbone : str
        Registry name of the window model (fixed by the variant).
    rr_hidden : int
        Width of the RR branch (32).
    rr_features : {"all", "normalized"}
        RR features the branch reads (:data:`RR_SUBSETS`); the input keeps all nine.
    """

    min_length = RR_LENGTH + 1

    def __init__(
        self,
        *,
        num_classes: int,
        input_spec: InputSpec,
        backbone: str = "cnn1d",
        rr_hidden: int = 32,
        rr_features: str = "all",
    ) -> None:
        super().__init__(num_classes=num_classes, input_spec=input_spec)
        c = input_spec.channels
        check_param("input_channels", c, c == 1, "1 (RR features are appended to one lead)")
        rr_hidden = check_int("rr_hidden", rr_hidden)
        ok = isinstance(rr_features, str) and rr_features in RR_SUBSETS
        check_param("rr_features", rr_features, ok, f"one of {list(RR_SUBSETS)}")
        self._rr_index = list(RR_SUBSETS[rr_features])
        body = create_model(
            backbone,
            num_classes=num_classes,
            input_kind="window",
            input_length=input_spec.length - RR_LENGTH,
        )
        check_param("backbone", backbone, isinstance(body, ECGModel), "a torch window model")
        n_body = body.num_features
        body.head = nn.Identity()  # type: ignore[assignment]  # unused; keeps every param learning
        self.backbone = body
        self.rr = nn.Sequential(nn.Linear(len(self._rr_index), rr_hidden), nn.ReLU())
        self.head = self._new_head(n_body + rr_hidden, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        window, rr = x[:, :, :-RR_LENGTH], x[:, 0, -RR_LENGTH:][:, self._rr_index]
        return torch.cat([self.backbone.forward_features(window), self.rr(rr)], dim=1)

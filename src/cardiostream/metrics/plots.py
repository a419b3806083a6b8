"""Confusion-matrix figure: counts and row-normalised percentages (per reference class).

Drawn with matplotlib's object API on an Agg canvas (no pyplot, no global state), so it works
headless, in threads and inside servers. Cell colour is the row-normalised fraction (the
per-class sensitivity on the diagonal); rows of absent classes are left blank.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..errors import check_param
from ..types import AAMI_CLASSES
from ._confusion import check_classes, check_confusion, safe_div

__all__ = ["confusion_figure", "plot_confusion_matrix"]


def confusion_figure(
    confusion: object, classes: Sequence[str] = AAMI_CLASSES, *, title: str | None = None
) -> Figure:
    """A :class:`~matplotlib.figure.Figure` of the ``(k, k)`` matrix (rows reference).

    Each cell reads ``count`` over ``row %`` (the share of that reference class); absent
    reference classes show ``0`` and ``–``.
    """
    classes = check_classes(classes)
    cm = check_confusion(confusion, len(classes))
    check_param("confusion", cm.shape, cm.ndim == 2, "one (k, k) matrix")
    k = len(classes)
    frac = safe_div(cm, cm.sum(axis=1, keepdims=True))
    size = 1.2 + 0.95 * k
    fig = Figure(figsize=(size + 1.2, size), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    image = ax.imshow(np.nan_to_num(frac), cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="fraction of reference class")
    for i in range(k):
        for j in range(k):
            count = int(cm[i, j])
            share = "–" if np.isnan(frac[i, j]) else f"{100 * frac[i, j]:.1f}%"
            dark = not np.isnan(frac[i, j]) and frac[i, j] > 0.5
            ax.text(
                j,
                i,
                f"{count}\n{share}",
                ha="center",
                va="center",
                fontsize=9,
                color="white" if dark else "black",
            )
    ax.set_xticks(range(k), labels=list(classes))
    ax.set_yticks(range(k), labels=list(classes))
    ax.set_xlabel("predicted")
    ax.set_ylabel("reference")
    n = int(cm.sum())
    acc = safe_div(np.trace(cm), cm.sum())
    acc_txt = "–" if np.isnan(acc) else f"{100 * acc:.2f}%"
    ax.set_title(title or f"Confusion matrix (n = {n}, accuracy {acc_txt})")
    return fig


def plot_confusion_matrix(
    confusion: object,
    path: str | os.PathLike[str],
    classes: Sequence[str] = AAMI_CLASSES,
    *,
    title: str | None = None,
    dpi: int = 120,
) -> Path:
    """Write the confusion-matrix figure of :func:`confusion_figure` to ``path`` as PNG."""
    check_param("dpi", dpi, isinstance(dpi, int) and dpi > 0, "a positive int")
    fig = confusion_figure(confusion, classes, title=title)
    out = Path(path)
    fig.savefig(out, format="png", dpi=dpi)
    return out

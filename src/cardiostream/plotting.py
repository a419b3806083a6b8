"""PNG strip plot of an analysis: ECG strips on paper-style grid, R-peaks, unusable stretches, HR.

Drawn with matplotlib's object API on an Agg canvas (no pyplot, no global backend change), so it
works headless and inside servers. The grid follows ECG paper: minor lines every 0.04 s and
0.1 mV, major lines every 0.2 s and 0.5 mV.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MultipleLocator

from .errors import check_param
from .types import INCONCLUSIVE

if TYPE_CHECKING:
    from .analyze import AnalysisResult

__all__ = ["CLASS_COLOURS", "choose_strips", "plot_analysis"]

_MINOR_COLOUR, _MAJOR_COLOUR = "#f7d9d9", "#eaa5a5"
_UNUSABLE_COLOUR = "#7f7f7f"
#: Beat-class colours from the Okabe–Ito palette (distinguishable with common colour-vision
#: deficiencies); the class letter is drawn too, so colour is never the only cue.
CLASS_COLOURS: dict[str, str] = {
    "N": "#0072B2",
    "S": "#E69F00",
    "V": "#D55E00",
    "F": "#CC79A7",
    "Q": "#009E73",
    INCONCLUSIVE: "#7f7f7f",
}


def choose_strips(
    duration_s: float, unusable_spans_s: np.ndarray, n_strips: int = 3, strip_s: float = 10.0
) -> list[tuple[float, float]]:
    """Pick up to ``n_strips`` strip windows ``(start, stop)`` in seconds.

    Strips are spread evenly over the recording (first at 0, last at the end); when the signal has
    unusable stretches, the middle strip is centred on the first one so it is shown.
    """
    check_param("n_strips", n_strips, isinstance(n_strips, int) and n_strips >= 1, "an int >= 1")
    check_param("strip_s", strip_s, strip_s > 0, "a positive duration in seconds")
    length = min(strip_s, duration_s)
    n = max(1, min(n_strips, int(duration_s // length)))
    starts = list(np.linspace(0.0, duration_s - length, n)) if n > 1 else [0.0]
    spans = np.asarray(unusable_spans_s, dtype=np.float64).reshape(-1, 2)
    if spans.size and n >= 2:
        centre = 0.5 * (spans[0, 0] + spans[0, 1])
        starts[n // 2] = float(np.clip(centre - length / 2, 0.0, duration_s - length))
        starts.sort()
    return [(float(s), float(s + length)) for s in starts]


def plot_analysis(
    signal: np.ndarray,
    result: AnalysisResult,
    path: str | os.PathLike[str],
    *,
    n_strips: int = 3,
    strip_s: float = 10.0,
    dpi: int = 100,
) -> Path:
    """Write the strip plot of ``result`` to ``path`` (PNG).

    Parameters
    ----------
    signal : ndarray, shape (n,)
        The lead to draw (mV), normally preprocessed (baseline removed).
    result : AnalysisResult
        Detected peaks, quality and heart rate of the same lead.
    path : path
        Output file.
    n_strips, strip_s : int, float
        Number and length (s) of the ECG strips.
    dpi : int

    Returns
    -------
    Path
    """
    x = np.asarray(signal, dtype=np.float64)
    fs = result.fs
    spans = result.quality.unusable_spans / fs
    strips = choose_strips(x.size / fs, spans, n_strips, strip_s)
    fig = Figure(figsize=(14, 2.4 * len(strips) + 2.6), dpi=dpi)
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.06, top=0.94, hspace=0.45)
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(strips) + 1, 1, height_ratios=[1.0] * len(strips) + [0.9])
    title = f"{result.record_id} — lead {result.lead}, {fs:g} Hz, {result.duration_s:.0f} s"
    if result.heart_rate is not None:
        title += f", mean HR {result.heart_rate.mean_bpm:.0f} bpm"
    fig.suptitle(title)
    for ax, (t0, t1) in zip(axes[:-1], strips, strict=True):
        _strip(ax, x, fs, t0, t1, result, spans)
    _hr_panel(axes[-1], result, spans)
    out = Path(path)
    fig.savefig(out, format="png")
    return out


def _strip(
    ax: Axes,
    x: np.ndarray,
    fs: float,
    t0: float,
    t1: float,
    result: AnalysisResult,
    spans: np.ndarray,
) -> None:
    a, b = round(t0 * fs), min(round(t1 * fs), x.size)
    t = np.arange(a, b) / fs
    seg = x[a:b]
    finite = seg[np.isfinite(seg)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
    lo, hi = max(min(lo - 0.2, -0.5), -6.0), min(max(hi + 0.3, 0.5), 6.0)  # R markers fit
    y0, y1 = np.floor(lo * 2) / 2, np.ceil(hi * 2) / 2
    ax.set_xlim(t0, t1)
    ax.set_ylim(y0, y1)
    # ECG paper grid as line collections (far faster to draw than per-tick grid lines).
    minor_x = np.arange(np.ceil(t0 / 0.04) * 0.04, t1, 0.04)
    major_x = np.arange(np.ceil(t0 / 0.2) * 0.2, t1, 0.2)
    minor_y = np.arange(y0, y1 + 1e-9, 0.1)
    major_y = np.arange(y0, y1 + 1e-9, 0.5)
    ax.vlines(minor_x, y0, y1, colors=_MINOR_COLOUR, linewidth=0.4, zorder=0)
    ax.hlines(minor_y, t0, t1, colors=_MINOR_COLOUR, linewidth=0.4, zorder=0)
    ax.vlines(major_x, y0, y1, colors=_MAJOR_COLOUR, linewidth=0.8, zorder=0)
    ax.hlines(major_y, t0, t1, colors=_MAJOR_COLOUR, linewidth=0.8, zorder=0)
    ax.xaxis.set_major_locator(MultipleLocator(1.0))
    ax.yaxis.set_major_locator(MultipleLocator(0.5))
    ax.set_axisbelow(True)
    for s0, s1 in spans:
        if s1 > t0 and s0 < t1:
            ax.axvspan(max(s0, t0), min(s1, t1), color=_UNUSABLE_COLOUR, alpha=0.25, lw=0)
    ax.plot(t, seg, color="black", linewidth=0.8)
    p = result.r_peaks
    sel = (p >= a) & (p < b)
    if result.beats is not None:
        _class_marks(ax, x, fs, p, sel, result.beats.labels, y1)
    else:
        good = sel & result.beat_usable
        bad = sel & ~result.beat_usable
        ax.plot(p[good] / fs, x[p[good]], "v", color="#d62728", markersize=5, label="R-peak")
        ax.plot(p[bad] / fs, x[p[bad]], "v", color=_UNUSABLE_COLOUR, markersize=5)
    ax.set_ylabel("mV")
    ax.set_title(f"{t0:.1f}–{t1:.1f} s", fontsize=9, loc="left")
    ax.tick_params(labelsize=8)


def _class_marks(
    ax: Axes,
    x: np.ndarray,
    fs: float,
    p: np.ndarray,
    sel: np.ndarray,
    labels: np.ndarray,
    top: float,
) -> None:
    """R-peak markers coloured by beat class, with the class letter above each beat."""
    for cls, colour in CLASS_COLOURS.items():
        m = sel & (labels == cls)
        if not m.any():
            continue
        ax.plot(p[m] / fs, x[p[m]], "v", color=colour, markersize=6, label=cls)
        letter = "?" if cls == INCONCLUSIVE else cls
        for t in p[m] / fs:
            ax.text(t, top - 0.05, letter, color=colour, fontsize=8, ha="center", va="top",
                    fontweight="bold")
    ax.legend(loc="lower right", fontsize=7, ncol=6, framealpha=0.8, handletextpad=0.2)


def _hr_panel(ax: Axes, result: AnalysisResult, spans: np.ndarray) -> None:
    minutes = result.rr_end_s / 60.0
    for s0, s1 in spans:
        ax.axvspan(s0 / 60, s1 / 60, color=_UNUSABLE_COLOUR, alpha=0.25, lw=0)
    if result.rr_s.size:
        inst = 60.0 / result.rr_s
        ax.plot(minutes, inst, ".", color="#1f77b4", markersize=2, alpha=0.6, label="beat-to-beat")
        # 8-interval running mean within each run of adjacent usable intervals (gaps stay gaps).
        k = 8
        gap = np.diff(result.rr_end_s) > result.rr_s[1:] + 0.5 / result.fs
        bounds = np.concatenate([[0], np.flatnonzero(gap) + 1, [inst.size]])
        label = "8-beat mean"
        for a, b in itertools.pairwise(bounds.tolist()):
            if b - a >= k:
                smooth = np.convolve(inst[a:b], np.ones(k) / k, mode="valid")
                ax.plot(minutes[a + k - 1 : b], smooth, color="#1f77b4", lw=1.2, label=label)
                label = "_nolegend_"
        ax.legend(loc="upper right", fontsize=8)
    ax.set_xlim(0, result.duration_s / 60.0)
    ax.set_xlabel("time (min)")
    ax.set_ylabel("HR (bpm)")
    ax.set_title("Heart rate (usable intervals; grey: unusable signal)", fontsize=9, loc="left")
    ax.grid(True, color="#dddddd", linewidth=0.5)
    ax.tick_params(labelsize=8)

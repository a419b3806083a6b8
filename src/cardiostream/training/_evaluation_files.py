"""Files of an evaluation: metrics.json, report.md, confusion.png, coverage.png, predictions.npz."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..metrics import CoverageCurve, plot_confusion_matrix
from ..types import Beats
from .checkpoint import environment_versions
from .data import TensorSet

if TYPE_CHECKING:
    from .evaluate import Evaluation

__all__ = ["write_evaluation"]


def write_evaluation(
    ev: Evaluation,
    out: Path,
    run_dir: object,
    test: TensorSet,
    beats: Beats,
    y_pred: np.ndarray,
    conf: np.ndarray,
    usable: np.ndarray | None,
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    classes = ev.report.classes
    doc = {
        "run": str(run_dir),
        **ev.to_dict(),
        "versions": environment_versions(),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    (out / "metrics.json").write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n")
    title = f"{ev.protocol} · n = {ev.report.n_beats}"
    plot_confusion_matrix(ev.report.confusion, out / "confusion.png", classes, title=title)
    _plot_coverage(ev.coverage, out / "coverage.png", title)
    np.savez_compressed(
        out / "predictions.npz",
        record_ids=np.asarray(test.record_ids),
        r_peaks=np.asarray(beats.r_peaks)[test.rows],
        y_true=np.asarray(classes)[test.y],
        y_pred=y_pred,
        confidence=conf,
        quality_usable=usable if usable is not None else np.ones(len(test), bool),
    )
    (out / "report.md").write_text(_markdown(ev, str(run_dir)), encoding="utf-8")


def _plot_coverage(curve: CoverageCurve, path: Path, title: str) -> None:
    fig = Figure(figsize=(5.0, 4.0), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(100 * curve.coverage, 100 * curve.accuracy, lw=1.5)
    ax.set_xlabel("coverage (%)")
    ax.set_ylabel("accuracy on kept beats (%)")
    ax.set_title(f"Abstention: {title}")
    ax.grid(alpha=0.3)
    fig.savefig(path, format="png", dpi=120)


def _pct(x: object) -> str:
    v = float(np.asarray(x, dtype=float))
    return "–" if np.isnan(v) else f"{100 * v:.2f}"


def _markdown(ev: Evaluation, run_dir: str) -> str:
    c = ev.calibration
    lines = [
        f"# Evaluation of `{run_dir}` ({ev.protocol})",
        "",
        ev.report.to_markdown(),
        "## Record-bootstrap 95 % confidence intervals",
        "",
        "| metric | estimate | 95 % CI |",
        "|---|--:|--:|",
    ]
    for name, ci in ev.cis.items():
        lines.append(f"| {name} | {_pct(ci.estimate)} | {_pct(ci.low)} – {_pct(ci.high)} |")
    lines += [
        "",
        "## Calibration (temperature scaling on validation)",
        "",
        f"T = {c.temperature:.4f}; NLL validation {c.val_nll_before:.4f} → {c.val_nll_after:.4f}, "
        f"test {c.test_nll_before:.4f} → {c.test_nll_after:.4f} nats per beat.",
        "",
    ]
    if ev.abstain_report is not None:
        lines += [
            f"## Abstention (threshold {ev.abstain_threshold})",
            "",
            ev.abstain_report.to_markdown(),
        ]
    if ev.end_to_end is not None:
        e = ev.end_to_end
        lines += [
            "## End to end (unclassified reference beats counted as misses)",
            "",
            f"Accuracy {_pct(e.accuracy)} % · detection Se {_pct(e.detection_se)} % · +P "
            f"{_pct(e.detection_ppv)} % · false detections {e.n_false_detections}",
            "",
            "| class | reference | undetected | unclassified | Se | +P |",
            "|---|--:|--:|--:|--:|--:|",
        ]
        for i, cl in enumerate(e.classes):
            lines.append(
                f"| {cl} | {e.reference[i]} | {e.undetected[i]} | {e.unclassified[i]} | "
                f"{_pct(e.se[i])} | {_pct(e.ppv[i])} |"
            )
    return "\n".join(lines) + "\n"

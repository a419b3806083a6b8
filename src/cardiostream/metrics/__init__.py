"""Beat-classification metrics (pure numpy): reports, AAMI EC57 statistics, jκ, record bootstrap.

* :func:`classification_report` — accuracy, per-class precision / recall (Se) / specificity /
  F1, macro and weighted averages, Cohen's κ, EC57 Se / +P / FPR, jκ, confusion matrix, optional
  per-record matrices; ``.to_dict()``, ``.to_json()``, ``.to_markdown()``.
* :func:`ec57_statistics`, :func:`ec57_record_average` — ANSI/AAMI EC57 gross and averaged
  statistics with the standard's F/Q rules (see :mod:`.ec57`).
* :func:`cohen_kappa`, :func:`jk_index` — κ and the jκ index of Mar et al. 2011 (see
  :mod:`.agreement`).
* :func:`bootstrap_ci` and friends — percentile CIs resampling records, not beats.
* :func:`confusion_metric` — named metrics of (stacks of) confusion matrices.
* :func:`plot_confusion_matrix` — PNG with counts and row percentages.
* :func:`coverage_accuracy_curve` — for the abstain option.

All values are fractions in [0, 1]; undefined values are NaN (``None`` in JSON).
"""

from __future__ import annotations

from .abstain import CoverageCurve, coverage_accuracy_curve
from .agreement import JK_WEIGHTS, JKIndex, cohen_kappa, jk_index
from .bootstrap import (
    BootstrapCI,
    bootstrap_ci,
    bootstrap_ci_from_confusions,
    bootstrap_cis,
    bootstrap_cis_from_confusions,
)
from .classification import (
    AveragedMetrics,
    ClassificationReport,
    classification_report,
    confusion_matrix,
)
from .ec57 import (
    EC57_EXCLUDED,
    EC57ClassStats,
    EC57RecordAverage,
    EC57Statistics,
    ec57_record_average,
    ec57_statistics,
)
from .plots import confusion_figure, plot_confusion_matrix
from .registry import ConfusionMetric, confusion_metric, list_confusion_metrics

__all__ = [
    "EC57_EXCLUDED",
    "JK_WEIGHTS",
    "AveragedMetrics",
    "BootstrapCI",
    "ClassificationReport",
    "ConfusionMetric",
    "CoverageCurve",
    "EC57ClassStats",
    "EC57RecordAverage",
    "EC57Statistics",
    "JKIndex",
    "bootstrap_ci",
    "bootstrap_ci_from_confusions",
    "bootstrap_cis",
    "bootstrap_cis_from_confusions",
    "classification_report",
    "cohen_kappa",
    "confusion_figure",
    "confusion_matrix",
    "confusion_metric",
    "coverage_accuracy_curve",
    "ec57_record_average",
    "ec57_statistics",
    "jk_index",
    "list_confusion_metrics",
    "plot_confusion_matrix",
]

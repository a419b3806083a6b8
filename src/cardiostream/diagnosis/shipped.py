"""The diagnosis models shipped in package data, and which of them fits a record.

``data/models/diag_<task>_<leads>/`` holds run directories produced by
``scripts/ship_diagnosis_models.py`` (with a MODEL_CARD.md): 12-lead models for the
superdiagnostic and rhythm tasks and distilled single-lead students on leads I and II.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import DataNotFoundError, InvalidSignalError
from .config import PTBXL_LEADS
from .predict import _canonical

__all__ = ["SHIPPED_TASKS", "describe", "select_runs", "shipped_dir"]

#: Tasks ``cardiostream diagnose`` reports.
SHIPPED_TASKS: tuple[str, ...] = ("superdiagnostic", "rhythm")

_MEANING = {
    "NORM": "normal ECG",
    "MI": "myocardial infarction",
    "STTC": "ST/T change",
    "CD": "conduction disturbance",
    "HYP": "hypertrophy",
    "SR": "sinus rhythm",
    "AFIB": "atrial fibrillation",
    "STACH": "sinus tachycardia",
    "SARRH": "sinus arrhythmia",
    "SBRAD": "sinus bradycardia",
    "PACE": "normal functioning artificial pacemaker",
    "SVARR": "supraventricular arrhythmia",
    "BIGU": "bigeminal pattern",
    "AFLT": "atrial flutter",
    "SVTAC": "supraventricular tachycardia",
    "PSVT": "paroxysmal supraventricular tachycardia",
    "TRIGU": "trigeminal pattern",
}


def describe(label: str) -> str:
    """Plain-language meaning of a PTB-XL superclass or rhythm statement (SCP-ECG)."""
    return _MEANING.get(label, "")


def shipped_dir() -> Path:
    """Package-data folder of the shipped models."""
    return Path(__file__).resolve().parent.parent / "data" / "models"


def _run(task: str, leads: str) -> Path:
    p = shipped_dir() / f"diag_{task}_{leads}"
    if not (p / "run.json").is_file():
        raise DataNotFoundError(
            f"The shipped diagnosis model {p.name} is missing from {p.parent}; reinstall "
            "cardiostream or pass --run."
        )
    return p


def select_runs(leads: Sequence[str]) -> list[Path]:
    """Shipped runs for a record with ``leads``: 12-lead models when all 12 are present,
    otherwise the students of lead I (preferred) or II."""
    names = {_canonical(x) for x in leads}
    if set(PTBXL_LEADS) <= names:
        return [_run(t, "12lead") for t in SHIPPED_TASKS]
    for lead, tag in (("I", "lead1"), ("II", "lead2")):
        if lead in names:
            return [_run(t, tag) for t in SHIPPED_TASKS]
    raise InvalidSignalError(
        f"The record must hold the 12 standard leads or lead I or II, got {list(leads)}; for a "
        "single unnamed lead (e.g. a chest strap) pass --lead-as I."
    )

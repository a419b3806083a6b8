"""MIT-BIH Arrhythmia Database: records, AAMI-mapped beat annotations, rhythm and VF episodes.

Moody GB, Mark RG. The impact of the MIT-BIH Arrhythmia Database. IEEE Eng Med Biol
20(3):45-50 (2001). 48 half-hour two-channel excerpts, 360 Hz, reference annotations in ``atr``.

Beat symbols are mapped to the AAMI EC57 classes (ANSI/AAMI EC57:1998/(R)2008) as in the
inter-patient literature (de Chazal et al. 2004): N = N L R e j; S = A a J S; V = V E; F = F;
Q = / f Q. Every other annotation symbol (rhythm changes ``+``, noise ``~``, flutter waves ``!``,
comments, ``[``/``]``, ``x``, ``|`` ...) is not a beat and is dropped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import wfdb

from ..errors import DataNotFoundError, InvalidParameterError, InvalidSignalError
from ..types import BeatAnnotations, Record
from ._root import dataset_dir
from .wfdb_io import load_wfdb_record, wfdb_record_path

__all__ = [
    "AAMI_SYMBOL_MAP",
    "MITDB_DS1",
    "MITDB_DS2",
    "MITDB_GROUP_CITATIONS",
    "MITDB_PACED",
    "MITDB_RECORDS",
    "RhythmEpisode",
    "load_mitdb_annotations",
    "load_mitdb_record",
    "load_mitdb_rhythm",
    "load_wfdb_annotations",
    "mitdb_record_group",
    "mitdb_vf_episodes",
]

#: All 48 records of the database, as in its ``RECORDS`` file.
MITDB_RECORDS: tuple[str, ...] = (
    "100", "101", "102", "103", "104", "105", "106", "107", "108", "109",
    "111", "112", "113", "114", "115", "116", "117", "118", "119",
    "121", "122", "123", "124",
    "200", "201", "202", "203", "205", "207", "208", "209", "210",
    "212", "213", "214", "215", "217", "219", "220", "221", "222", "223",
    "228", "230", "231", "232", "233", "234",
)  # fmt: skip

#: Records with paced rhythm; AAMI EC57 excludes them from most evaluations.
MITDB_PACED: tuple[str, ...] = ("102", "104", "107", "217")

#: Training set DS1 of de Chazal, O'Dwyer & Reilly, IEEE TBME 51(7):1196-1206 (2004).
MITDB_DS1: tuple[str, ...] = (
    "101", "106", "108", "109", "112", "114", "115", "116", "118", "119", "122",
    "124", "201", "203", "205", "207", "208", "209", "215", "220", "223", "230",
)  # fmt: skip

#: Test set DS2 of de Chazal, O'Dwyer & Reilly, IEEE TBME 51(7):1196-1206 (2004).
MITDB_DS2: tuple[str, ...] = (
    "100", "103", "105", "111", "113", "117", "121", "123", "200", "202", "210",
    "212", "213", "214", "219", "221", "222", "228", "231", "232", "233", "234",
)  # fmt: skip

_DE_CHAZAL = (
    "de Chazal P, O'Dwyer M, Reilly RB. Automatic classification of heartbeats using ECG "
    "morphology and heartbeat interval features. IEEE Trans Biomed Eng 51(7):1196-1206 (2004)."
)
_MOODY_MARK = (
    "Moody GB, Mark RG. The impact of the MIT-BIH Arrhythmia Database. IEEE Eng Med Biol "
    "20(3):45-50 (2001)."
)
_AAMI = "ANSI/AAMI EC57:1998/(R)2008, paced records excluded from most evaluations."

#: Where each named group comes from.
MITDB_GROUP_CITATIONS: dict[str, str] = {
    "all": _MOODY_MARK + " Paced records excluded unless include_paced=True (" + _AAMI + ")",
    "ds1": _DE_CHAZAL + " DS1 (training), 22 records.",
    "ds2": _DE_CHAZAL + " DS2 (test), 22 records.",
    "paced": _AAMI + " Records 102, 104, 107, 217.",
}

#: MIT-BIH beat symbol → AAMI class. Symbols not listed are non-beats and are dropped.
AAMI_SYMBOL_MAP: dict[str, str] = {
    **dict.fromkeys("NLRej", "N"),
    **dict.fromkeys("AaJS", "S"),
    **dict.fromkeys("VE", "V"),
    "F": "F",
    **dict.fromkeys("/fQ", "Q"),
}


@dataclass(frozen=True)
class RhythmEpisode:
    """A stretch of one rhythm from the ``atr`` rhythm annotations (``+`` with aux ``(AFIB`` ...).

    Attributes
    ----------
    start : int
        Sample of the rhythm annotation.
    end : int
        Sample where the next rhythm annotation starts, or the record length (exclusive).
    label : str
        Rhythm label without the leading parenthesis, e.g. ``"AFIB"``, ``"N"``, ``"VT"``, ``"B"``.
    """

    start: int
    end: int
    label: str


def _record_id(record_id: str | int) -> str:
    rid = None
    if isinstance(record_id, str):
        rid = record_id.strip()
    elif isinstance(record_id, int | np.integer) and not isinstance(record_id, bool):
        rid = str(int(record_id))
    if rid not in MITDB_RECORDS:
        raise InvalidParameterError(
            "The 'record_id' parameter must be one of the 48 MIT-BIH Arrhythmia record ids "
            "(see cardiostream.datasets.MITDB_RECORDS or `cardiostream data info`), "
            f"got {record_id!r} instead."
        )
    return rid


def _record_path(record_id: str | int, data_dir: str | os.PathLike[str] | None) -> Path:
    rid = _record_id(record_id)
    p = dataset_dir("mitdb", data_dir) / rid
    if not p.with_name(rid + ".hea").is_file():
        raise DataNotFoundError(
            f"MIT-BIH record {rid} not found in {str(p.parent)!r} (no {rid}.hea). "
            f"Download the database with `cardiostream data download mitdb --data-dir DIR`."
        )
    return p


def _read_atr(path: Path) -> wfdb.Annotation:
    if not path.with_name(path.name + ".atr").is_file():
        raise DataNotFoundError(f"Annotation file {str(path) + '.atr'!r} not found.")
    return wfdb.rdann(os.fspath(path), "atr")


def mitdb_record_group(name: str, include_paced: bool = False) -> tuple[str, ...]:
    """Return a named group of MIT-BIH record ids.

    Parameters
    ----------
    name : {"all", "ds1", "ds2", "paced"}
        ``"all"``: the 48 records, without the 4 paced ones unless ``include_paced``;
        ``"ds1"`` / ``"ds2"``: the inter-patient split of de Chazal et al. 2004 (IEEE TBME
        51(7):1196-1206), which already leaves the paced records out; ``"paced"``: 102, 104, 107,
        217. Citations: :data:`MITDB_GROUP_CITATIONS`.
    include_paced : bool
        Only for ``"all"``: keep the paced records.
    """
    groups = {"ds1": MITDB_DS1, "ds2": MITDB_DS2, "paced": MITDB_PACED}
    key = name.lower() if isinstance(name, str) else name
    if key == "all":
        return (
            MITDB_RECORDS
            if include_paced
            else tuple(r for r in MITDB_RECORDS if r not in MITDB_PACED)
        )
    if key not in groups:
        raise InvalidParameterError(
            f"The 'name' parameter must be one of {('all', *groups)}, got {name!r} instead."
        )
    return groups[key]


def load_mitdb_record(
    record_id: str | int, data_dir: str | os.PathLike[str] | None = None
) -> Record:
    """Load both channels of an MIT-BIH record in mV (360 Hz, leads from the header).

    Parameters
    ----------
    record_id : str or int
        One of :data:`MITDB_RECORDS`, e.g. ``100`` or ``"100"``.
    data_dir : path, optional
        Data root (see :func:`~cardiostream.datasets.data_root`).
    """
    p = _record_path(record_id, data_dir)
    return replace(load_wfdb_record(p, record_id=p.name), source=f"mitdb:{p}")


def load_wfdb_annotations(
    path: str | os.PathLike[str], extension: str = "atr", fs: float | None = None
) -> BeatAnnotations:
    """Beat annotations of any WFDB record mapped to AAMI classes (non-beat symbols dropped).

    Parameters
    ----------
    path : path
        Record path with or without ``.hea``/``.dat``; ``<path>.<extension>`` is read.
    extension : str
        Annotator name (``"atr"`` for the reference annotations of PhysioNet databases).
    fs : float, optional
        Sampling rate of the indices when the annotation file does not state one.

    The mapping is :data:`AAMI_SYMBOL_MAP` (N: N L R e j; S: A a J S; V: V E; F: F; Q: / f Q).
    """
    base = wfdb_record_path(path)
    ann_file = base.with_name(f"{base.name}.{extension}")
    if not ann_file.is_file():
        raise DataNotFoundError(f"Annotation file {str(ann_file)!r} not found.")
    ann = wfdb.rdann(os.fspath(base), extension)
    keep = [i for i, s in enumerate(ann.symbol) if s in AAMI_SYMBOL_MAP]
    symbols = tuple(ann.symbol[i] for i in keep)
    return BeatAnnotations(
        samples=np.asarray(ann.sample, dtype=np.int64)[keep],
        symbols=symbols,
        aami=np.array([AAMI_SYMBOL_MAP[s] for s in symbols], dtype="<U1"),
        fs=float(ann.fs) if ann.fs else float(fs or 360.0),
        record_id=base.name,
    )


def load_mitdb_annotations(
    record_id: str | int, data_dir: str | os.PathLike[str] | None = None
) -> BeatAnnotations:
    """Reference beats of an MIT-BIH record mapped to AAMI classes (non-beats dropped).

    The mapping is :data:`AAMI_SYMBOL_MAP` (N: N L R e j; S: A a J S; V: V E; F: F; Q: / f Q).
    """
    return load_wfdb_annotations(_record_path(record_id, data_dir), "atr", fs=360.0)


def _sig_len(p: Path) -> int:
    return int(wfdb.rdheader(os.fspath(p)).sig_len)


def mitdb_vf_episodes(
    record_id: str | int, data_dir: str | os.PathLike[str] | None = None
) -> np.ndarray:
    """Ventricular flutter/fibrillation episodes, between ``[`` and ``]`` annotations.

    Returns
    -------
    ndarray of int64, shape (k, 2)
        ``[start, end]`` sample of each episode (the ``[`` and ``]`` samples). An episode still open
        at the end of the record ends at the last sample. Only record 207 has any (6 episodes).
    """
    p = _record_path(record_id, data_dir)
    ann = _read_atr(p)
    spans: list[tuple[int, int]] = []
    start: int | None = None
    for sym, smp in zip(ann.symbol, ann.sample, strict=True):
        if sym == "[":
            if start is not None:
                raise InvalidSignalError(f"Record {p.name}: '[' at {smp} inside an open episode.")
            start = int(smp)
        elif sym == "]":
            if start is None:
                raise InvalidSignalError(f"Record {p.name}: ']' at {smp} without a '['.")
            spans.append((start, int(smp)))
            start = None
    if start is not None:
        spans.append((start, _sig_len(p) - 1))
    return np.asarray(spans, dtype=np.int64).reshape(-1, 2)


def load_mitdb_rhythm(
    record_id: str | int, data_dir: str | os.PathLike[str] | None = None
) -> tuple[RhythmEpisode, ...]:
    """Rhythm episodes of an MIT-BIH record from its ``+`` annotations (aux ``(AFIB``, ``(B`` ...).

    Each episode runs from its rhythm annotation to the next one (exclusive), the last one to the
    end of the record; samples before the first rhythm annotation belong to no episode. Labels
    are the aux text without ``(`` and trailing NULs, e.g. ``"AFIB"``.
    """
    p = _record_path(record_id, data_dir)
    ann = _read_atr(p)
    aux = ann.aux_note or [""] * len(ann.sample)
    marks = [
        (int(s), a.strip("\x00 ").lstrip("("))
        for s, sym, a in zip(ann.sample, ann.symbol, aux, strict=True)
        if sym == "+" and a.strip("\x00 ").startswith("(")
    ]
    if not marks:
        return ()
    n = _sig_len(p)
    ends = [s for s, _ in marks[1:]] + [n]
    return tuple(
        RhythmEpisode(start=s, end=e, label=lab) for (s, lab), e in zip(marks, ends, strict=True)
    )

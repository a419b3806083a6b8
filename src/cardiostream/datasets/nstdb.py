"""MIT-BIH Noise Stress Test Database noise records (baseline wander `bw`, muscle artefact `ma`).

Moody GB, Muldrow WE, Mark RG. A noise stress test for arrhythmia detectors. Computers in
Cardiology 11:381-384 (1984). The noise records are 2 channels, 360 Hz, 30 min, format 212.

Their headers give an ADC gain of 0, which WFDB reads as "uncalibrated" and replaces by the
default 200 adu/mV; ``wfdb.rdrecord`` (and so this loader) therefore returns them in mV on the
same scale as MIT-BIH Arrhythmia signals, which is how the noise stress test mixes them.
"""

from __future__ import annotations

import os
from dataclasses import replace

from ..errors import DataNotFoundError, InvalidParameterError
from ..types import Record
from ._root import dataset_dir
from .wfdb_io import load_wfdb_record

__all__ = ["NSTDB_NOISE", "load_nstdb_noise"]

#: Noise records the loader knows: name → description. ``em`` (electrode motion) is part of
#: PhysioNet's nstdb but not of the copies in ../shared/data; it loads when downloaded.
NSTDB_NOISE: dict[str, str] = {
    "bw": "baseline wander",
    "ma": "muscle (EMG) artefact",
    "em": "electrode motion artefact",
}


def load_nstdb_noise(name: str, data_dir: str | os.PathLike[str] | None = None) -> Record:
    """Load a noise record of the MIT-BIH Noise Stress Test Database in mV (360 Hz, 2 channels).

    Parameters
    ----------
    name : {"bw", "ma", "em"}
        Baseline wander, muscle artefact or electrode motion.
    data_dir : path, optional
        Data root (see :func:`~cardiostream.datasets.data_root`).
    """
    key = name.lower().strip() if isinstance(name, str) else name
    if key not in NSTDB_NOISE:
        raise InvalidParameterError(
            f"The 'name' parameter must be one of {tuple(NSTDB_NOISE)}, got {name!r} instead."
        )
    d = dataset_dir("nstdb", data_dir)
    if not (d / f"{key}.hea").is_file():
        raise DataNotFoundError(
            f"Noise record {key!r} ({NSTDB_NOISE[key]}) not found in {str(d)!r}. "
            f"Download it with `cardiostream data download nstdb --data-dir DIR`."
        )
    return replace(load_wfdb_record(d / key, record_id=key), source=f"nstdb:{d / key}")

"""Datasets: MIT-BIH Arrhythmia, MIT-BIH Noise Stress Test, PTB-XL, Polar H10 recordings.

Every loader finds its data under the data root (``data_dir``, ``$CARDIOSTREAM_DATA``, then
``../shared/data``) and returns typed, frozen records; see ``docs/datasets.md``.
"""

from __future__ import annotations

from ._root import ENV_VAR, data_root, dataset_dir
from .csv_io import CSV_TIME_COLUMNS, load_csv_record
from .download import download_dataset
from .inventory import DatasetStatus, dataset_inventory
from .mitdb import (
    AAMI_SYMBOL_MAP,
    MITDB_DS1,
    MITDB_DS2,
    MITDB_GROUP_CITATIONS,
    MITDB_PACED,
    MITDB_RECORDS,
    RhythmEpisode,
    load_mitdb_annotations,
    load_mitdb_record,
    load_mitdb_rhythm,
    load_wfdb_annotations,
    mitdb_record_group,
    mitdb_vf_episodes,
)
from .nstdb import NSTDB_NOISE, load_nstdb_noise
from .polar import (
    PolarDeviceRR,
    load_polar_h10,
    load_polar_h10_device_rr,
    median_sampling_rate,
    timestamp_gaps,
)
from .ptbxl import PTBXL_FS, PTBXL_SPLITS, PtbxlDataset, load_ptbxl, load_ptbxl_record
from .ptbxl_labels import PTBXL_TASKS, ptbxl_classes, ptbxl_label_matrix, ptbxl_label_sets
from .wfdb_io import load_wfdb_record, wfdb_record_path

__all__ = [
    "AAMI_SYMBOL_MAP",
    "CSV_TIME_COLUMNS",
    "ENV_VAR",
    "MITDB_DS1",
    "MITDB_DS2",
    "MITDB_GROUP_CITATIONS",
    "MITDB_PACED",
    "MITDB_RECORDS",
    "NSTDB_NOISE",
    "PTBXL_FS",
    "PTBXL_SPLITS",
    "PTBXL_TASKS",
    "DatasetStatus",
    "PolarDeviceRR",
    "PtbxlDataset",
    "RhythmEpisode",
    "data_root",
    "dataset_dir",
    "dataset_inventory",
    "download_dataset",
    "load_csv_record",
    "load_mitdb_annotations",
    "load_mitdb_record",
    "load_mitdb_rhythm",
    "load_nstdb_noise",
    "load_polar_h10",
    "load_polar_h10_device_rr",
    "load_ptbxl",
    "load_ptbxl_record",
    "load_wfdb_annotations",
    "load_wfdb_record",
    "median_sampling_rate",
    "mitdb_record_group",
    "mitdb_vf_episodes",
    "ptbxl_classes",
    "ptbxl_label_matrix",
    "ptbxl_label_sets",
    "timestamp_gaps",
    "wfdb_record_path",
]

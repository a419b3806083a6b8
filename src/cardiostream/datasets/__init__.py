"""Datasets: MIT-BIH Arrhythmia, MIT-BIH Noise Stress Test, PTB-XL, Polar H10 recordings."""

from __future__ import annotations

from ._root import ENV_VAR, data_root, dataset_dir

__all__ = ["ENV_VAR", "data_root", "dataset_dir"]

"""Shared fixtures: a seeded RNG and data-directory fixtures that skip with a reason when absent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cardiostream.datasets import data_root
from cardiostream.errors import DataNotFoundError

SEED = 20261122


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator; tests must pass for any seed, this one keeps runs reproducible."""
    return np.random.default_rng(SEED)


def _dataset(name: str) -> Path:
    try:
        root = data_root()
    except DataNotFoundError as e:
        pytest.skip(f"real data not available ({e}); CI provides ../shared/data")
    p = root / name
    if not p.is_dir():
        pytest.skip(f"dataset {name!r} not found under {root}; CI provides it")
    return p


@pytest.fixture(scope="session")
def mitdb_dir() -> Path:
    return _dataset("mitdb")


@pytest.fixture(scope="session")
def nstdb_dir() -> Path:
    return _dataset("nstdb")


@pytest.fixture(scope="session")
def ptbxl_dir() -> Path:
    return _dataset("ptbxl")


@pytest.fixture(scope="session")
def polar_dir() -> Path:
    return _dataset("polar_h10")

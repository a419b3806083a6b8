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


@pytest.fixture(scope="session")
def synthetic_ptbxl():  # type: ignore[no-untyped-def]
    """A learnable stand-in for PTB-XL splits (classes A, B, C; 160/60/60 records, 100 Hz).

    Class c is present when lead c (I, II, III) carries a 12 Hz burst, and weaker in V1-V6 too.
    """
    from cardiostream.diagnosis import PTBXL_LEADS, PtbxlSplits

    rng = np.random.default_rng(7)
    t = np.arange(1000) / 100.0
    burst = np.sin(2 * np.pi * 12 * t).astype(np.float32)
    x, y, ids = {}, {}, {}
    for i, (name, n) in enumerate((("train", 160), ("val", 60), ("test", 60))):
        xs = 0.1 * rng.standard_normal((n, 1000, 12)).astype(np.float32)
        ys = (rng.random((n, 3)) < 0.4).astype(np.float32)
        for c in range(3):
            xs[:, :, c] += ys[:, c, None] * burst
            xs[:, :, 3:] += 0.3 * ys[:, c, None, None] * burst[None, :, None]
        x[name], y[name], ids[name] = xs, ys, np.arange(n) + 1000 * i
    return PtbxlSplits(("A", "B", "C"), PTBXL_LEADS, x, y, ids)


@pytest.fixture
def store(tmp_path: Path):
    """A migrated SQLite :class:`cardiostream.store.Store` in the test's temporary folder."""
    from cardiostream.store import Store

    s = Store(f"sqlite:///{tmp_path / 'test.db'}")
    s.migrate()
    yield s
    s.close()

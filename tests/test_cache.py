"""Disk cache: keys, hits, misses, invalidation, corruption, atomic writes."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np
import pytest

from cardiostream.cache import (
    CACHE_ENV_VAR,
    cache_path,
    cached_arrays,
    default_cache_dir,
    file_fingerprint,
    files_fingerprint,
    stable_hash,
)
from cardiostream.errors import CardiostreamError, DataNotFoundError, InvalidParameterError


class Counter:
    """A compute function that counts its calls and returns seeded arrays."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.calls = 0
        self.x = rng.normal(size=(7, 3)).astype(np.float32)

    def __call__(self) -> dict[str, np.ndarray]:
        self.calls += 1
        return {"x": self.x, "labels": np.array(["N", "V", "S"]), "n": np.int64(self.calls)}


def test_second_call_reuses_cache(tmp_path: Path, rng: np.random.Generator) -> None:
    compute = Counter(rng)
    key = {"record": "100", "window_s": [0.25, 0.25], "fs": 360.0}
    first = cached_arrays("beats", key, compute, cache_dir=tmp_path)
    second = cached_arrays("beats", dict(reversed(key.items())), compute, cache_dir=tmp_path)
    assert compute.calls == 1
    assert set(second) == {"x", "labels", "n"}
    np.testing.assert_array_equal(second["x"], first["x"])
    assert second["x"].dtype == np.float32
    assert second["labels"].tolist() == ["N", "V", "S"]
    assert int(second["n"]) == 1
    assert cache_path("beats", key, cache_dir=tmp_path).is_file()


def test_changed_parameter_recomputes(tmp_path: Path, rng: np.random.Generator) -> None:
    compute = Counter(rng)
    cached_arrays("beats", {"fs": 360.0, "w": 0.25}, compute, cache_dir=tmp_path)
    cached_arrays("beats", {"fs": 360.0, "w": 0.30}, compute, cache_dir=tmp_path)
    cached_arrays("other", {"fs": 360.0, "w": 0.30}, compute, cache_dir=tmp_path)
    assert compute.calls == 3
    cached_arrays("beats", {"fs": 360.0, "w": 0.30}, compute, cache_dir=tmp_path)
    assert compute.calls == 3


@pytest.mark.parametrize("damage", ["garbage", "truncate", "empty", "npy"])
def test_corrupt_cache_file_recomputes(
    tmp_path: Path, rng: np.random.Generator, damage: str
) -> None:
    compute = Counter(rng)
    key = {"a": 1}
    cached_arrays("ns", key, compute, cache_dir=tmp_path)
    path = cache_path("ns", key, cache_dir=tmp_path)
    data = path.read_bytes()
    if damage == "npy":  # a valid numpy file, but not an .npz archive
        with path.open("wb") as f:
            np.save(f, np.arange(3))
    else:
        damaged = {"garbage": b"not a zip file at all", "truncate": data[: len(data) // 2]}
        path.write_bytes(damaged.get(damage, b""))
    out = cached_arrays("ns", key, compute, cache_dir=tmp_path)
    assert compute.calls == 2
    np.testing.assert_array_equal(out["x"], compute.x)
    # The entry was rewritten and is good again.
    cached_arrays("ns", key, compute, cache_dir=tmp_path)
    assert compute.calls == 2


def test_entry_with_other_key_is_not_trusted(tmp_path: Path, rng: np.random.Generator) -> None:
    compute = Counter(rng)
    cached_arrays("ns", {"a": 1}, compute, cache_dir=tmp_path)
    # Simulate a hash collision: the file for key {"a": 2} holds key {"a": 1}.
    cache_path("ns", {"a": 1}, cache_dir=tmp_path).rename(
        cache_path("ns", {"a": 2}, cache_dir=tmp_path)
    )
    cached_arrays("ns", {"a": 2}, compute, cache_dir=tmp_path)
    assert compute.calls == 2


def test_no_temporary_files_left(tmp_path: Path, rng: np.random.Generator) -> None:
    cached_arrays("ns", {"a": 1}, Counter(rng), cache_dir=tmp_path)
    assert [p.name for p in (tmp_path / "ns").iterdir()] == [
        cache_path("ns", {"a": 1}, cache_dir=tmp_path).name
    ]


def test_failed_compute_leaves_no_entry(tmp_path: Path) -> None:
    def boom() -> dict[str, np.ndarray]:
        raise RuntimeError("compute failed")

    with pytest.raises(RuntimeError, match="compute failed"):
        cached_arrays("ns", {"a": 1}, boom, cache_dir=tmp_path)
    assert not cache_path("ns", {"a": 1}, cache_dir=tmp_path).exists()


def test_log_lines_on_miss_and_hit(
    tmp_path: Path, rng: np.random.Generator, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="cardiostream.cache"):
        cached_arrays("ns", {"a": 1}, Counter(rng), cache_dir=tmp_path)
        cached_arrays("ns", {"a": 1}, Counter(rng), cache_dir=tmp_path)
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0].startswith("cache miss: ns/")
    assert messages[1].startswith("cache hit: ns/")


def test_env_var_sets_default_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator
) -> None:
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    cached_arrays("ns", {"a": 1}, Counter(rng))
    assert len(list((tmp_path / "c" / "ns").glob("*.npz"))) == 1
    monkeypatch.delenv(CACHE_ENV_VAR)
    assert default_cache_dir() == Path.home() / ".cache" / "cardiostream"


def test_stable_hash_properties() -> None:
    a = stable_hash({"x": 1, "y": [1.5, "a"], "z": {"b": None, "a": True}})
    b = stable_hash({"z": {"a": True, "b": None}, "y": (1.5, "a"), "x": np.int64(1)})
    assert a == b
    assert len(a) == 64
    assert stable_hash({"x": 1}) != stable_hash({"x": 2})
    assert stable_hash({"x": Path("/a/b")}) == stable_hash({"x": "/a/b"})
    arr = np.arange(6)
    assert stable_hash({"x": arr}) == stable_hash({"x": arr.copy()})
    assert stable_hash({"x": arr}) != stable_hash({"x": arr.reshape(2, 3)})
    # A fixed value guards against accidental changes of the key format (invalidating caches).
    assert (
        stable_hash({"x": 1}) == "02bbf71df9f4070ee4243e4f865f79b1c5dd29ef878a9e083bf9020f67aff969"
    )


def test_file_fingerprint(tmp_path: Path) -> None:
    f = tmp_path / "table.csv"
    f.write_bytes(b"a,b\n1,2\n")
    fp = file_fingerprint(f)
    assert fp["name"] == "table.csv" and fp["size"] == 8 and isinstance(fp["mtime_ns"], int)
    assert "sha256" not in fp
    full = file_fingerprint(f, content=True)
    assert full["sha256"] == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    before = files_fingerprint([f])
    f.write_bytes(b"a,b\n1,3\n")  # same size and name: only the modification time tells
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert files_fingerprint([f]) != before
    with pytest.raises(DataNotFoundError):
        file_fingerprint(tmp_path / "absent.csv")


@pytest.mark.parametrize(
    ("namespace", "key", "compute"),
    [
        ("../up", {"a": 1}, lambda: {"x": np.zeros(1)}),
        ("", {"a": 1}, lambda: {"x": np.zeros(1)}),
        ("ns", {"a": object()}, lambda: {"x": np.zeros(1)}),
        ("ns", {1: "a"}, lambda: {"x": np.zeros(1)}),
        ("ns", {"a": 1}, lambda: [np.zeros(1)]),
        ("ns", {"a": 1}, lambda: {"x": np.array([{}, 1], dtype=object)}),
        ("ns", {"a": 1}, lambda: {"bad name": np.zeros(1)}),
    ],
)
def test_bad_arguments_raise(tmp_path: Path, namespace: str, key: dict, compute) -> None:
    with pytest.raises(InvalidParameterError) as err:
        cached_arrays(namespace, key, compute, cache_dir=tmp_path)
    assert isinstance(err.value, CardiostreamError)
    assert "parameter must" in str(err.value)

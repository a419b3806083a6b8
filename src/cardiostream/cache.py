"""Disk cache for derived arrays (PTB-XL signal stacks, beat windows, features).

Arrays are stored as ``<cache dir>/<namespace>/<hash>.npz`` where ``hash`` is the SHA-256 of the
key serialised as JSON with sorted keys, so the same inputs and parameters always map to the same
file. The key must therefore contain everything the arrays depend on: input file fingerprints
(:func:`file_fingerprint`, :func:`files_fingerprint`) and every parameter. Writes are atomic (a
temporary file in the same directory, then :func:`os.replace`), and an unreadable or mismatching
cache file is recomputed rather than trusted.

The cache directory is ``cache_dir`` when given, else ``$CARDIOSTREAM_CACHE``, else
``~/.cache/cardiostream``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataNotFoundError, InvalidParameterError, check_param

__all__ = [
    "CACHE_ENV_VAR",
    "cache_path",
    "cached_arrays",
    "default_cache_dir",
    "file_fingerprint",
    "files_fingerprint",
    "stable_hash",
]

CACHE_ENV_VAR = "CARDIOSTREAM_CACHE"
#: Bumped when the on-disk layout changes, so old entries are never read back.
_FORMAT_VERSION = 1
#: Name of the array inside each .npz holding the JSON key (checked on every hit).
_KEY_FIELD = "__cardiostream_cache_key__"
_NAMESPACE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """Return ``$CARDIOSTREAM_CACHE`` when set, else ``~/.cache/cardiostream``."""
    env = os.environ.get(CACHE_ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "cardiostream"


def _jsonable(obj: Any) -> Any:
    """Convert ``obj`` to plain JSON types, failing loudly on anything ambiguous."""
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return float(obj)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, Mapping):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, str):
                raise InvalidParameterError(
                    f"The 'key' parameter must use str dictionary keys, got {k!r} instead."
                )
            out[k] = _jsonable(v)
        return out
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            raise InvalidParameterError(
                "The 'key' parameter must not contain object arrays, got dtype object instead."
            )
        digest = hashlib.sha256(np.ascontiguousarray(obj).tobytes()).hexdigest()
        return {"ndarray_sha256": digest, "dtype": obj.dtype.str, "shape": list(obj.shape)}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    raise InvalidParameterError(
        "The 'key' parameter must contain only JSON-like values (str, int, float, bool, None, "
        f"paths, lists, dicts, numpy arrays), got {type(obj).__name__} {obj!r} instead."
    )


def _canonical_json(key: Mapping[str, Any]) -> str:
    return json.dumps(_jsonable(key), sort_keys=True, separators=(",", ":"), allow_nan=True)


def stable_hash(key: Mapping[str, Any]) -> str:
    """SHA-256 hex digest of ``key`` serialised as JSON with sorted keys.

    Tuples and lists hash alike, numpy scalars hash like Python numbers, paths like strings and
    arrays by the SHA-256 of their bytes (with dtype and shape).
    """
    check_param("key", key, isinstance(key, Mapping), "a dict")
    text = _canonical_json({"__format__": _FORMAT_VERSION, "key": key})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_fingerprint(path: str | os.PathLike[str], *, content: bool = False) -> dict[str, Any]:
    """Describe a file cheaply for a cache key: name, size and modification time (ns).

    Parameters
    ----------
    path : path
        An existing file.
    content : bool
        Also include the SHA-256 of the bytes (use for small files, e.g. metadata tables).
    """
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError as e:
        raise DataNotFoundError(f"Cannot fingerprint {str(p)!r}: the file does not exist.") from e
    fp: dict[str, Any] = {"name": p.name, "size": int(st.st_size), "mtime_ns": int(st.st_mtime_ns)}
    if content:
        fp["sha256"] = hashlib.sha256(p.read_bytes()).hexdigest()
    return fp


def files_fingerprint(paths: Iterable[str | os.PathLike[str]]) -> str:
    """One SHA-256 over the :func:`file_fingerprint` of every file, in the given order.

    Use it for long file lists (a PTB-XL signal stack) so the key stays small.
    """
    h = hashlib.sha256()
    n = 0
    for p in paths:
        fp = file_fingerprint(p)
        h.update(f"{Path(p).as_posix()}\0{fp['size']}\0{fp['mtime_ns']}\n".encode())
        n += 1
    h.update(f"count={n}".encode())
    return h.hexdigest()


def cache_path(
    namespace: str, key: Mapping[str, Any], *, cache_dir: str | os.PathLike[str] | None = None
) -> Path:
    """Path of the ``.npz`` file that stores ``key`` in ``namespace`` (it may not exist yet)."""
    check_param(
        "namespace",
        namespace,
        isinstance(namespace, str) and bool(_NAMESPACE_RE.match(namespace)),
        "a non-empty name of letters, digits, '_', '.' or '-' (no path separators)",
    )
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    return root / namespace / f"{stable_hash(key)}.npz"


def _read(path: Path, key_json: str) -> dict[str, np.ndarray] | None:
    """Load a cache entry, or None when it is missing, unreadable or stores another key."""
    if not path.is_file():
        return None
    try:
        # Open the file ourselves: np.load leaks its handle when the archive is corrupt.
        with path.open("rb") as fh:
            npz = np.load(fh, allow_pickle=False)
            if not isinstance(npz, np.lib.npyio.NpzFile):
                log.warning("cache entry %s is not an .npz archive; recomputing", path)
                return None
            with npz:
                if _KEY_FIELD not in npz.files or str(npz[_KEY_FIELD][()]) != key_json:
                    log.warning("cache entry %s stores a different key; recomputing", path)
                    return None
                return {name: npz[name] for name in npz.files if name != _KEY_FIELD}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        log.warning("cache entry %s is unreadable (%s); recomputing", path, e)
        return None


def _write(path: Path, arrays: Mapping[str, np.ndarray], key_json: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **{_KEY_FIELD: np.array(key_json)}, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_arrays(result: object) -> dict[str, np.ndarray]:
    if not isinstance(result, Mapping) or not result:
        raise InvalidParameterError(
            "The 'compute' parameter must return a non-empty dict of str → numpy array, "
            f"got {type(result).__name__} instead."
        )
    out: dict[str, np.ndarray] = {}
    for name, value in result.items():
        if not isinstance(name, str) or not name.isidentifier() or name == _KEY_FIELD:
            raise InvalidParameterError(
                "The 'compute' parameter must return arrays named by Python identifiers, "
                f"got the name {name!r} instead."
            )
        arr = np.asarray(value)
        if arr.dtype == object:
            raise InvalidParameterError(
                f"The 'compute' parameter must return numeric or string arrays, got dtype object "
                f"for {name!r} instead."
            )
        out[name] = arr
    return out


def cached_arrays(
    namespace: str,
    key: Mapping[str, Any],
    compute: Callable[[], Mapping[str, np.ndarray]],
    *,
    cache_dir: str | os.PathLike[str] | None = None,
) -> dict[str, np.ndarray]:
    """Return the arrays stored for ``key``, computing and storing them on a miss.

    Parameters
    ----------
    namespace : str
        Sub-directory of the cache (e.g. ``"ptbxl_signals"``); one per kind of derived data.
    key : dict
        Everything the arrays depend on: input fingerprints and all parameters. Hashed with
        :func:`stable_hash`; it is also stored in the file and compared on every hit.
    compute : callable
        Called without arguments on a miss; returns a dict of named numpy arrays.
    cache_dir : path, optional
        Cache root; defaults to :func:`default_cache_dir`.

    Returns
    -------
    dict of str to ndarray
        The arrays, read back fully into memory on a hit, as returned by ``compute`` on a miss.
    """
    path = cache_path(namespace, key, cache_dir=cache_dir)
    key_json = _canonical_json(key)
    hit = _read(path, key_json)
    if hit is not None:
        log.info("cache hit: %s/%s", namespace, path.name)
        return hit
    log.info("cache miss: %s/%s; computing", namespace, path.name)
    arrays = _check_arrays(compute())
    try:
        _write(path, arrays, key_json)
    except OSError as e:  # a read-only or full disk must not lose the computed result
        log.warning("could not write cache entry %s (%s); continuing without caching", path, e)
    return arrays

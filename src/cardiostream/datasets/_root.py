"""Where datasets live: ``--data-dir``, then ``$CARDIOSTREAM_DATA``, then ``../shared/data``."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import DataNotFoundError

ENV_VAR = "CARDIOSTREAM_DATA"
_REPO_ROOT = Path(__file__).resolve().parents[3]


def _fallbacks() -> list[Path]:
    # ../shared/data next to the working directory, then next to this repository's checkout.
    return [Path.cwd().parent / "shared" / "data", _REPO_ROOT.parent / "shared" / "data"]


def data_root(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the data root directory.

    Parameters
    ----------
    data_dir : path, optional
        Explicit directory (the CLI's ``--data-dir``). Takes precedence when given.

    Returns
    -------
    Path
        The first existing candidate: ``data_dir``, ``$CARDIOSTREAM_DATA``, ``../shared/data``.

    Raises
    ------
    DataNotFoundError
        When an explicit directory does not exist or no candidate exists.
    """
    if data_dir is not None:
        p = Path(data_dir).expanduser()
        if not p.is_dir():
            raise DataNotFoundError(
                f"The data directory {str(p)!r} (from --data-dir) does not exist."
            )
        return p
    env = os.environ.get(ENV_VAR)
    if env:
        p = Path(env).expanduser()
        if not p.is_dir():
            raise DataNotFoundError(f"${ENV_VAR} points to {str(p)!r}, which is not a directory.")
        return p
    for p in _fallbacks():
        if p.is_dir():
            return p.resolve()
    raise DataNotFoundError(
        "No data directory: pass --data-dir, set $CARDIOSTREAM_DATA, or place the datasets in "
        "../shared/data. Download them with `cardiostream data download mitdb --data-dir DIR`."
    )


def dataset_dir(name: str, data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return ``<data root>/<name>`` or raise :class:`DataNotFoundError` naming what is missing."""
    root = data_root(data_dir)
    p = root / name
    if not p.is_dir():
        raise DataNotFoundError(
            f"Dataset {name!r} not found in {str(root)!r}. "
            f"Download it with `cardiostream data download {name} --data-dir {root}`."
        )
    return p

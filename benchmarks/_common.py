"""Helpers shared by the benchmarks: provenance (machine, versions, date, command) and output.

Every benchmark writes ``<name>.json`` and ``<name>.md`` with the same provenance block, so a
number can always be traced to the machine, package versions and exact command that produced it.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shlex
import sys
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

#: Distributions whose versions are recorded (distribution names on PyPI).
DEFAULT_PACKAGES: tuple[str, ...] = (
    "cardiostream",
    "numpy",
    "scipy",
    "wfdb",
    "neurokit2",
    "py-ecg-detectors",
)


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (Linux), else :func:`platform.processor`."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, Any]:
    """Platform, CPU model, logical core count and Python version."""
    return {
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
    }


def package_versions(packages: Iterable[str] = DEFAULT_PACKAGES) -> dict[str, str]:
    """Installed version of each distribution (``"not installed"`` when missing)."""
    out: dict[str, str] = {}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def utc_now() -> str:
    """Current UTC time, ISO 8601 to the second."""
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command as typed: ``python <script> <args>`` (script path relative to the cwd)."""
    args = list(sys.argv if argv is None else argv)
    if args:
        p = Path(args[0])
        try:
            args[0] = str(p.resolve().relative_to(Path.cwd()))
        except ValueError:
            args[0] = str(p)
    return shlex.join(["python", *args])


def provenance(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """The ``machine``, ``versions``, ``date`` and ``command`` keys of every result file."""
    return {
        "machine": machine_info(),
        "versions": package_versions(),
        "date": utc_now(),
        "command": command_line(argv),
    }


def provenance_md(prov: dict[str, Any]) -> str:
    """Markdown block describing where and how the results were produced."""
    m, v = prov["machine"], prov["versions"]
    versions = ", ".join(f"{k} {val}" for k, val in v.items())
    return "\n".join(
        [
            f"- Command: `{prov['command']}`",
            f"- Date (UTC): {prov['date']}",
            f"- Machine: {m['cpu']}, {m['cores']} logical cores, {m['platform']}, "
            f"Python {m['python']}",
            f"- Versions: {versions}",
        ]
    )


def md_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_results(out_dir: str | os.PathLike[str], name: str, data: dict[str, Any],
                  markdown: str) -> tuple[Path, Path]:
    """Write ``<out_dir>/<name>.json`` (indented, keys in insertion order) and ``<name>.md``."""
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    pj, pm = d / f"{name}.json", d / f"{name}.md"
    pj.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n")
    pm.write_text(markdown.rstrip() + "\n")
    return pj, pm

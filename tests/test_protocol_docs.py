"""The Python examples in docs/protocol.md run as written (no data needed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).parents[1] / "docs" / "protocol.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_doc_has_examples() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_doc_example_runs(index: int) -> None:
    code = compile(BLOCKS[index], f"docs/protocol.md block {index}", "exec")
    if not BLOCKS[index].startswith("# not run"):
        exec(code, {})


def test_layout_table_matches_the_code() -> None:
    """Offsets and sizes in the table agree with the header struct."""
    from cardiostream.service import protocol as p

    rows = re.findall(r"^\| (\d+) \| (\d+) \| (\w+) \| `(\w+)` \|", DOC.read_text("utf-8"), re.M)
    table = {name: (int(off), int(size)) for off, size, _, name in rows}
    expected = {
        "magic": (0, 2),
        "version": (2, 1),
        "flags": (3, 1),
        "stream_id": (4, 4),
        "seq": (8, 4),
        "fs_mhz": (12, 4),
        "t0_ns": (16, 8),
        "n_samples": (24, 2),
    }
    assert {k: table[k] for k in expected} == expected
    assert p.HEADER_SIZE == 28

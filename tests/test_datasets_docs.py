"""The Python examples in docs/datasets.md run as written (on the real data)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).parents[1] / "docs" / "datasets.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_doc_has_examples() -> None:
    assert len(BLOCKS) >= 4


@pytest.mark.data
@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_doc_example_runs(
    index: int, mitdb_dir: Path, ptbxl_dir: Path, polar_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = BLOCKS[index]
    if code.startswith("# not run"):
        compile(code, f"docs/datasets.md block {index}", "exec")  # at least valid Python
        return
    monkeypatch.setenv("CARDIOSTREAM_DATA", str(mitdb_dir.parent))
    exec(compile(code, f"docs/datasets.md block {index}", "exec"), {})

"""Confusion-matrix PNG: written without pyplot, cells show counts and row percentages."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from cardiostream.errors import InvalidParameterError
from cardiostream.metrics import confusion_figure, plot_confusion_matrix

CM = np.array(
    [
        [90, 5, 5, 0, 0],
        [2, 6, 0, 0, 0],
        [1, 0, 9, 0, 0],
        [0, 0, 0, 0, 0],  # F absent
        [0, 0, 1, 0, 1],
    ]
)


def test_png_written(tmp_path):
    out = plot_confusion_matrix(CM, tmp_path / "cm.png", dpi=80)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert 300 < width < 1000 and 300 < height < 1000


def test_cells_show_counts_and_row_percentages():
    fig = confusion_figure(CM, title="DS2")
    ax = fig.axes[0]
    cells = [t.get_text() for t in ax.texts]
    assert len(cells) == CM.size
    assert cells[0] == "90\n90.0%"  # N→N: 90 of 100 N beats
    assert cells[1 * 5 + 1] == "6\n75.0%"  # S→S: 6 of 8
    assert cells[3 * 5 + 3] == "0\n–"  # absent reference class F
    assert ax.get_title() == "DS2"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["N", "S", "V", "F", "Q"]
    default = confusion_figure(CM).axes[0].get_title()
    assert "n = 120" in default and "accuracy 88.33%" in default


def test_no_pyplot_global_state(tmp_path):
    """Drawing must not import pyplot (global figure manager, backend switching)."""
    code = (
        "import sys; import numpy as np; "
        "from cardiostream.metrics import plot_confusion_matrix; "
        f"plot_confusion_matrix(np.eye(5, dtype=int), {str(tmp_path / 'e.png')!r}); "
        "print('matplotlib.pyplot' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert (tmp_path / "e.png").stat().st_size > 0


def test_bad_input(tmp_path):
    with pytest.raises(InvalidParameterError, match="confusion"):
        plot_confusion_matrix(np.ones((3, 3)), tmp_path / "x.png")  # 3x3 vs 5 classes
    with pytest.raises(InvalidParameterError, match="dpi"):
        plot_confusion_matrix(CM, tmp_path / "x.png", dpi=0)

"""Regenerate ``datasets_mitdb_aami_counts.json`` from the data folder's SOURCE.md.

One-off, kept for provenance: the per-record table in ``<data root>/mitdb/SOURCE.md`` was computed
by the people who prepared the data copy (wfdb 4.3.1, independent of cardiostream). This script
only transcribes it so the test does not depend on SOURCE.md being present::

    .venv/bin/python tests/data/datasets_make_expected.py [DATA_ROOT]
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

_INT = r" \| (\d+)"
ROW = re.compile(r"^\| (\d{3}) \| (\S+)" + _INT * 8 + r" \|$")


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[3] / "shared" / "data"
    source = root / "mitdb" / "SOURCE.md"
    records = {}
    for line in source.read_text().splitlines():
        m = ROW.match(line.strip())
        if m:
            rid, leads, n, fs, beats, *counts = m.groups()
            records[rid] = {
                "leads": leads.split("/"),
                "samples": int(n),
                "fs": int(fs),
                "beats": int(beats),
                "aami": dict(zip("NSVFQ", map(int, counts), strict=True)),
            }
    if len(records) != 48:
        raise SystemExit(f"expected 48 table rows in {source}, found {len(records)}")
    out = {
        "source": "mitdb/SOURCE.md per-record table (wfdb 4.3.1 rdann, AAMI: N=NLRej S=AaJS "
        "V=VE F=F Q=/fQ), transcribed by tests/data/datasets_make_expected.py",
        "totals": {c: sum(r["aami"][c] for r in records.values()) for c in "NSVFQ"},
        "records": records,
    }
    target = Path(__file__).with_name("datasets_mitdb_aami_counts.json")
    target.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {target}: totals {out['totals']}")


if __name__ == "__main__":
    main()

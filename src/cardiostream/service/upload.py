"""Batch analysis of an uploaded recording (``POST /api/v1/records``).

Accepted bodies:

* ``multipart/form-data`` with the files of a WFDB record (``NAME.hea`` and its signal file,
  e.g. ``NAME.dat``; ``NAME.atr`` optional, then Se/+P and label agreement are reported) or one
  ``.csv`` file, and an optional ``fs`` field (needed for a CSV without a time column);
* ``text/csv`` with ``?fs=`` in the query.

Multipart bodies are parsed with the standard library's MIME parser (RFC 7578 form data is a
MIME multipart message), so the service needs no extra dependency. The recording goes through
the offline path, :func:`cardiostream.analyze.analyze_record` with the service's classifier.
"""

from __future__ import annotations

import email.parser
import email.policy
import re
import tempfile
from pathlib import Path
from typing import Any

from ..analyze import analyze_record, load_input
from ..classify import BeatClassifier
from ..errors import CardiostreamError

__all__ = ["UploadError", "analyze_upload", "parse_form"]

_SAFE_NAME = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_SUFFIXES = (".hea", ".dat", ".atr", ".csv", ".flac", ".mat")


class UploadError(CardiostreamError):
    """The upload is malformed (HTTP 400)."""


def parse_form(content_type: str, body: bytes) -> tuple[dict[str, bytes], dict[str, str]]:
    """Files (by file name) and text fields of a ``multipart/form-data`` body."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not msg.is_multipart():
        raise UploadError("expected a multipart/form-data body with a boundary")
    files: dict[str, bytes] = {}
    fields: dict[str, str] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        if filename:
            base = Path(str(filename)).name
            if not _SAFE_NAME.match(base) or not base.lower().endswith(_SUFFIXES):
                raise UploadError(f"file name {base!r} is not a WFDB/CSV file name")
            files[base] = payload
        elif name:
            fields[str(name)] = payload.decode("utf-8", "replace").strip()
    return files, fields


def analyze_upload(files: dict[str, bytes], fs: float | None,
                   classifier: BeatClassifier | None) -> dict[str, Any]:
    """Write the files to a temporary folder, analyse them, return the JSON summary."""
    csvs = [n for n in files if n.lower().endswith(".csv")]
    heads = [n for n in files if n.lower().endswith(".hea")]
    if len(csvs) + len(heads) != 1:
        raise UploadError("upload exactly one .csv file or one WFDB record (.hea + signal)")
    with tempfile.TemporaryDirectory(prefix="cardiostream-upload-") as tmp:
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        path = Path(tmp) / (csvs[0] if csvs else heads[0])
        inp = load_input(path, fs=fs)
        result = analyze_record(
            inp.record,
            reference=inp.reference,
            reference_description=inp.reference_description,
            input_description=f"upload {path.name}",
            classifier=classifier,
        )
    out = result.to_json_dict()
    out["input"] = f"upload {path.name}"
    return out

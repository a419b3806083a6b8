"""R-peak (QRS) detection, offline and streaming, from a registry of methods.

``detect_rpeaks(signal, fs, method=...)`` runs a detector over a whole signal;
``StreamingDetector(fs, method)`` runs the same detector chunk by chunk and reports exactly the
same peaks (true sample indices, refined on the ECG) after at most ``delay_s``;
``list_detectors()`` names the methods:

- ``"cardiostream"`` (default): Pan–Tompkins with RMS-scale thresholds, bounded look-ahead
  decisions and ventricular-flutter recognition (:mod:`cardiostream.detect.lookahead`).
- ``"pan_tompkins"``: Pan J, Tompkins WJ. A real-time QRS detection algorithm. IEEE Trans Biomed
  Eng 32(3):230–236, 1985 (:mod:`cardiostream.detect.pan_tompkins`).

Any sampling rate from 100 to 1000 Hz works: filters are designed per rate and every window is
given in seconds.
"""

from __future__ import annotations

from . import lookahead as _lookahead  # noqa: F401  (registers "cardiostream")
from . import pan_tompkins as _pan_tompkins  # noqa: F401  (registers "pan_tompkins")
from ._api import DEFAULT_METHOD, FS_RANGE, MIN_DURATION_S, StreamingDetector, detect_rpeaks
from ._registry import list_detectors

__all__ = [
    "DEFAULT_METHOD",
    "FS_RANGE",
    "MIN_DURATION_S",
    "StreamingDetector",
    "detect_rpeaks",
    "list_detectors",
]

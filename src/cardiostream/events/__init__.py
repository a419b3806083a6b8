"""Rhythm events from a stream of labelled beats: rate, pauses, ectopy patterns, AF, signal loss.

Input is a beat stream, independent of how beats were found or labelled: beat times in seconds
(strictly increasing), one label per beat (``"N" "S" "V" "F" "Q"`` or ``"inconclusive"``), a
per-beat *usable* flag from the signal-quality gate, and gaps (``start_s, end_s``) where no data
arrived. :func:`detect_events` handles a whole recording; :class:`StreamingEventDetector` the
same stream chunk by chunk, with exactly the same events (it is what :func:`detect_events` runs).

Rules (thresholds in :class:`EventConfig`, per patient):

- **RR intervals** exist only between two consecutive *usable* beats with no gap between them.
  A gap, or a run of ``poor_min_beats`` unusable beats, restarts every RR-based window, so no
  event is ever built across one.
- **Labels** count only on usable beats; an unusable or ``inconclusive`` beat is "unknown" and
  ends every label run and pattern (nothing is guessed).
- **Bradycardia / tachycardia**: the rate at a beat is ``60 / mean`` of the last
  ``rate_window_beats`` (8) RR intervals, every beat type included (a premature beat and its
  compensatory pause average out). Windows below ``brady_bpm`` (50) / above ``tachy_bpm`` (100)
  are merged while they overlap; an episode (first beat of its first window to last beat of
  its last) is reported when it lasts ``brady_min_s`` / ``tachy_min_s`` (10 s) or more.
- **Pause**: one RR interval longer than ``pause_s`` (2 s).
- **Ventricular runs** (maximal runs of V): 2 beats = couplet; 3 or more at a mean rate above
  ``vt_bpm`` (100) = VT, which takes precedence over the triplet; exactly 3 at or below it =
  triplet; 4 or more at or below it = ventricular run (slow VT / idioventricular rhythm). The
  rate is ``60 (n - 1) / (t_last - t_first)`` over the run's own intervals.
- **Supraventricular runs**: 3 or more S beats; above ``svt_bpm`` (100) = SVT, else SV run.
- **Bigeminy / trigeminy**: ``pattern_min_cycles`` (3) or more consecutive cycles of N-V /
  N-N-V; the episode runs from the first N of the first cycle to the last V.
- **AF suspicion** (irregularly irregular rhythm): in a sliding window of ``af_window_beats``
  (64) RR intervals (those touching S, V or F beats left out), after dropping the
  ``af_trim_beats`` (4) largest and smallest, the RMSSD / mean RR must exceed ``af_nrmssd``
  (0.1), the turning-point count must be within ``af_tpr_z`` (1.96) standard deviations of its
  value for a random sequence, and the normalised Shannon entropy of the 16-bin RR histogram
  must reach ``af_entropy`` (0.7): the three statistics of Dash et al., Ann Biomed Eng
  37:1701-1709 (2009), on a shorter window. The window's intervals must start within the last
  3 window lengths of beats (so minutes of bigeminy are never bridged). Flagged windows merge
  while they overlap; episodes of ``af_min_s`` (30 s) or more are reported.
- **Poor signal**: ``poor_min_beats`` (3) or more consecutive unusable beats;
  **signal loss**: every reported gap.

Every event covers consecutive beats: :attr:`Event.beats` is a ``range`` of stream indices.
An event is returned by ``push`` once it can no longer change (its run or window has moved on,
a gap or poor signal intervened, or the stream was flushed); :meth:`StreamingEventDetector.
ongoing` shows episodes still open (e.g. VT in progress) for alerts. A pause is only known when
the beat that ends it arrives.
"""

from __future__ import annotations

from ._detector import StreamingEventDetector, detect_events
from ._irregularity import Irregularity, rr_irregularity
from ._types import BEAT_LABELS, INCONCLUSIVE, Event, EventConfig, EventKind

__all__ = [
    "BEAT_LABELS",
    "INCONCLUSIVE",
    "Event",
    "EventConfig",
    "EventKind",
    "Irregularity",
    "StreamingEventDetector",
    "detect_events",
    "rr_irregularity",
]

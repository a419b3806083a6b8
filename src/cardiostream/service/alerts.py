"""Which rhythm events raise an alert, and how severe it is.

Severities follow the usual bedside-monitor practice (IEC 60601-2-27 distinguishes high-priority
"lethal arrhythmia" alarms — asystole/long pause, ventricular tachycardia — from medium-priority
rate and rhythm alarms and low-priority technical alarms such as poor signal):

============  ===========================================================
critical      ventricular tachycardia; pause of 3 s or more
warning       pause (> ``pause_s``, < 3 s); AF suspicion; bradycardia;
              tachycardia; SVT
info          poor signal (technical alarm)
============  ===========================================================

Other events (couplets, triplets, bigeminy, ...) are stored and published but raise no alert.
"""

from __future__ import annotations

from ..events import Event, EventKind

__all__ = ["CRITICAL_PAUSE_S", "alert_for"]

#: A pause at least this long is a critical alert (asystole-like), shorter ones a warning.
CRITICAL_PAUSE_S = 3.0


def alert_for(event: Event) -> tuple[str, str] | None:
    """``(severity, message)`` for an event that raises an alert, else None."""
    kind = event.kind
    rate = f" at {event.rate_bpm:.0f} bpm" if event.rate_bpm is not None else ""
    if kind is EventKind.VT:
        return "critical", f"Ventricular tachycardia: {event.n_beats} beats{rate}"
    if kind is EventKind.PAUSE:
        rr = event.detail("rr_s", event.duration_s) or event.duration_s
        sev = "critical" if rr >= CRITICAL_PAUSE_S else "warning"
        return sev, f"Pause of {rr:.1f} s"
    if kind is EventKind.AF:
        return "warning", f"Irregularly irregular rhythm (AF suspicion){rate}"
    if kind is EventKind.BRADYCARDIA:
        return "warning", f"Bradycardia{rate}"
    if kind is EventKind.TACHYCARDIA:
        return "warning", f"Tachycardia{rate}"
    if kind is EventKind.SVT:
        return "warning", f"Supraventricular tachycardia: {event.n_beats} beats{rate}"
    if kind is EventKind.POOR_SIGNAL:
        return "info", "Poor signal quality / lead off"
    return None

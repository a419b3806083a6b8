"""Why a segment or a beat is unusable: a small bit-flag enum."""

from __future__ import annotations

import enum

__all__ = ["Reason", "reason_names"]


class Reason(enum.IntFlag):
    """Reasons a segment or beat is unusable; combined as bit flags (0 means usable).

    Each follows a signal-quality index of the literature (Clifford et al. 2012, Physiol. Meas.
    33:1419; Li, Mark & Clifford 2008, Physiol. Meas. 29:15; Orphanidou et al. 2015, IEEE JBHI
    19:832), adapted as described in :mod:`cardiostream.quality`.
    """

    FLAT_LINE = 1  #: (near) constant signal: lead off, disconnected electrode
    CLIPPING = 2  #: amplifier or ADC saturation: plateaus at the segment's extreme
    HF_NOISE = 4  #: noise between QRS complexes too strong for the QRS amplitude (EMG)
    BASELINE = 8  #: baseline excursion large relative to the QRS amplitude
    IMPLAUSIBLE_RR = 16  #: RR < 0.2 s, > 3 s, or an abrupt beat-to-beat change (needs peaks)
    MISSING = 32  #: non-finite (NaN / inf) samples


def reason_names(flags: int) -> tuple[str, ...]:
    """Names of the reasons set in ``flags``, e.g. ``("HF_NOISE", "BASELINE")``."""
    return tuple(r.name for r in Reason if r.name is not None and int(flags) & int(r))

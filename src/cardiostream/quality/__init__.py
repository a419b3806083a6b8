"""Signal-quality index: which stretches of an ECG (and which beats) are usable.

:func:`assess_quality` cuts a lead into 2 s segments and flags each one that is a flat line,
clipped, drowned in high-frequency noise, carried away by its baseline, or (given R-peaks)
holds implausible RR intervals; :func:`gate_peaks` drops the beats inside unusable stretches.
:class:`StreamingQuality` gives the same decisions chunk by chunk. :func:`noise_stress` adds
MIT-BIH Noise Stress Test noise at a calibrated SNR, for stress tests and calibration.

References: Clifford et al. 2012, Physiol. Meas. 33:1419 (signal quality indices); Li, Mark &
Clifford 2008, Physiol. Meas. 29:15 (bSQI, kSQI, pSQI, basSQI); Orphanidou et al. 2015,
IEEE JBHI 19:832 (RR plausibility); Moody, Muldrow & Mark 1984 (noise stress test).
"""

from __future__ import annotations

from ._nst import NoisyECG, noise_stress
from ._offline import assess_quality, gate_peaks
from ._params import QualityParams
from ._reasons import Reason
from ._report import QualityReport, SegmentQuality
from ._streaming import StreamingQuality

__all__ = [
    "NoisyECG",
    "QualityParams",
    "QualityReport",
    "Reason",
    "SegmentQuality",
    "StreamingQuality",
    "assess_quality",
    "gate_peaks",
    "noise_stress",
]

"""Recordings a simulated device streams: MIT-BIH, the real Polar H10 file, or synthetic ECG.

A source spec is a short string, as on the command line:

* ``mitdb:RECORD`` — MIT-BIH Arrhythmia record ``RECORD``, lead 0 (MLII in most records),
  resampled from 360 Hz to ``fs`` with :func:`cardiostream.signal.resample`.
* ``polar`` or ``polar:FILE`` — a Polar H10 CSV (default: the example recording in the data
  root), streamed at its own rate (≈130.16 Hz) with its own per-sample time stamps unless
  ``fs`` differs from that rate by more than 1 %, in which case it is resampled.
* ``synthetic`` or ``synthetic:hr=80,pvc=0.1,emg=0.02,baseline=0.1,mains=0.02`` —
  :func:`cardiostream.synth.synthesize_ecg` (sum-of-Gaussians beats after McSharry et al.,
  IEEE TBME 2003) with its sinus and PVC beats. The generator has no atrial premature beats,
  so there is no APC rate.

Samples are integer microvolts, ready for :class:`cardiostream.service.protocol.Frame`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidParameterError, check_param
from ..service.protocol import fs_to_mhz, mv_to_uv
from ..signal import fill_missing, resample, resample_ratio

__all__ = ["SYNTHETIC_OPTIONS", "SourceSignal", "load_source", "parse_source_spec"]

#: ``synthetic:`` options and the :func:`~cardiostream.synth.synthesize_ecg` argument each sets.
SYNTHETIC_OPTIONS: dict[str, str] = {
    "hr": "heart_rate",
    "pvc": "ectopic_rate",
    "coupling": "coupling",
    "emg": "emg_mv",
    "baseline": "baseline_mv",
    "mains": "mains_mv",
    "seed": "seed",
}
_POLAR_NATIVE_TOLERANCE = 0.01


@dataclass(frozen=True, eq=False)
class SourceSignal:
    """One lead to stream, in integer microvolts.

    Attributes
    ----------
    samples_uv : ndarray of int32, read-only
    fs : float
        Sampling rate in Hz actually produced (the rational resampling ratio's rate).
    name : str
        The spec it was made from, e.g. ``"mitdb:100"``.
    timestamps_ns : ndarray of int64 or None
        Per-sample device time stamps, when the recording has them (Polar H10, native rate).
    r_peaks, labels : ndarray or None
        Ground-truth R-peak sample indices and AAMI labels (synthetic sources only).
    """

    samples_uv: np.ndarray
    fs: float
    name: str
    timestamps_ns: np.ndarray | None = None
    r_peaks: np.ndarray | None = None
    labels: np.ndarray | None = None

    def __post_init__(self) -> None:
        s = np.array(self.samples_uv, dtype=np.int32)
        check_param("samples_uv", s.shape, s.ndim == 1 and s.size > 0, "a non-empty 1-D array")
        s.flags.writeable = False
        object.__setattr__(self, "samples_uv", s)
        if self.timestamps_ns is not None:
            ts = np.array(self.timestamps_ns, dtype=np.int64)
            check_param(
                "timestamps_ns", ts.shape, ts.shape == s.shape, f"shape {s.shape} like the samples"
            )
            ts.flags.writeable = False
            object.__setattr__(self, "timestamps_ns", ts)
        fs_to_mhz(self.fs)  # validates

    @property
    def n_samples(self) -> int:
        return int(self.samples_uv.size)

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.fs

    @property
    def fs_mhz(self) -> int:
        return fs_to_mhz(self.fs)

    def window(self, start_s: float = 0.0, duration_s: float | None = None) -> SourceSignal:
        """The part from ``start_s`` lasting ``duration_s`` (to the end when ``None``)."""
        check_param(
            "start_s",
            start_s,
            math.isfinite(start_s) and 0 <= start_s < self.duration_s,
            f"in [0, {self.duration_s:g}) s",
        )
        i0 = round(start_s * self.fs)
        i1 = self.n_samples
        if duration_s is not None:
            check_param("duration_s", duration_s, duration_s > 0, "positive")
            i1 = min(i1, i0 + max(1, round(duration_s * self.fs)))
        if i0 == 0 and i1 == self.n_samples:
            return self

        def cut(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[i0:i1]

        peaks, labels = self.r_peaks, self.labels
        if peaks is not None:
            keep = (peaks >= i0) & (peaks < i1)
            peaks = peaks[keep] - i0
            labels = None if labels is None else labels[keep]
        return SourceSignal(
            self.samples_uv[i0:i1], self.fs, self.name, cut(self.timestamps_ns), peaks, labels
        )


def parse_source_spec(spec: str) -> tuple[str, str, dict[str, float]]:
    """Split ``"kind:arg"`` into ``(kind, arg, options)``; options only for ``synthetic``."""
    check_param("source", spec, isinstance(spec, str) and spec.strip() != "", "a source spec")
    kind, _, arg = spec.strip().partition(":")
    kind = kind.lower()
    if kind == "mitdb":
        check_param("source", spec, arg != "", "'mitdb:RECORD', e.g. 'mitdb:100'")
        return kind, arg, {}
    if kind == "polar":
        return kind, arg, {}
    if kind == "synthetic":
        opts: dict[str, float] = {}
        for item in filter(None, (p.strip() for p in arg.split(","))):
            key, eq, value = item.partition("=")
            if key not in SYNTHETIC_OPTIONS or not eq:
                raise InvalidParameterError(
                    f"Unknown synthetic option {item!r} in {spec!r}; use key=value with keys "
                    f"{sorted(SYNTHETIC_OPTIONS)} (the generator has no APC option)."
                )
            try:
                opts[key] = float(value)
            except ValueError:
                raise InvalidParameterError(
                    f"Synthetic option {key!r} must be a number, got {value!r}."
                ) from None
        return kind, "", opts
    raise InvalidParameterError(
        f"The 'source' parameter must be 'mitdb:RECORD', 'polar[:FILE]' or "
        f"'synthetic[:key=value,...]', got {spec!r} instead."
    )


def load_source(
    spec: str,
    fs: float | None = 130.0,
    *,
    duration_s: float | None = None,
    seed: int = 0,
    heart_rate: float = 72.0,
    pvc_rate: float = 0.0,
    data_dir: str | os.PathLike[str] | None = None,
) -> SourceSignal:
    """Load or generate the signal of a source spec (see the module docstring).

    Parameters
    ----------
    spec : str
        ``mitdb:RECORD``, ``polar[:FILE]`` or ``synthetic[:options]``.
    fs : float or None
        Target rate in Hz (100 to 1000 for the service). ``None`` keeps the recording's rate
        (360 Hz for MIT-BIH, ≈130.16 Hz for the Polar file); synthetic then uses 130 Hz.
    duration_s : float, optional
        Length of a synthetic recording (default 300 s); recordings are cut later with
        :meth:`SourceSignal.window`.
    seed, heart_rate, pvc_rate : synthetic defaults, overridden by options in ``spec``.
    data_dir : path, optional
        Data root for MIT-BIH and the default Polar file.
    """
    kind, arg, opts = parse_source_spec(spec)
    if fs is not None:
        check_param("fs", fs, isinstance(fs, int | float) and 50 <= fs <= 10000, "50 to 10000 Hz")
    if kind == "mitdb":
        from ..datasets import load_mitdb_record

        rec = load_mitdb_record(arg, data_dir)
        x, _ = fill_missing(rec.lead(0))
        if fs is not None and fs != rec.fs:
            x = resample(x, rec.fs, fs)
            out_fs = _resampled_fs(rec.fs, fs)
        else:
            out_fs = rec.fs
        return SourceSignal(mv_to_uv(x), out_fs, f"mitdb:{rec.record_id}")
    if kind == "polar":
        from ..datasets import load_polar_h10

        rec = load_polar_h10(arg or None, data_dir)
        x, _ = fill_missing(rec.lead(0))
        ts = rec.timestamps_ns
        if ts is None:  # the loader always sets them; a CSV without them is not a Polar file
            raise InvalidParameterError(f"Polar recording {rec.source!r} has no time stamps.")
        if fs is not None and abs(fs / rec.fs - 1) > _POLAR_NATIVE_TOLERANCE:
            x = resample(x, rec.fs, fs)
            out_fs = _resampled_fs(rec.fs, fs)
            ts = ts[0] + np.rint(np.arange(x.size) * (1e9 / out_fs)).astype(np.int64)
        else:
            out_fs = rec.fs
        return SourceSignal(mv_to_uv(x), out_fs, f"polar:{rec.record_id}", timestamps_ns=ts)
    from ..synth import synthesize_ecg

    kwargs: dict[str, float | int] = {
        "heart_rate": heart_rate,
        "ectopic_rate": pvc_rate,
        "seed": seed,
    }
    for key, value in opts.items():
        kwargs[SYNTHETIC_OPTIONS[key]] = int(value) if key == "seed" else value
    out_fs = 130.0 if fs is None else float(fs)
    syn = synthesize_ecg(
        300.0 if duration_s is None else duration_s,
        out_fs,
        record_id=spec,
        **kwargs,  # type: ignore[arg-type]
    )
    return SourceSignal(
        mv_to_uv(syn.record.lead(0)),
        out_fs,
        spec,
        r_peaks=syn.r_peaks,
        labels=syn.labels,
    )


def _resampled_fs(fs_in: float, fs_out: float) -> float:
    return resample_ratio(fs_in, fs_out).fs_out

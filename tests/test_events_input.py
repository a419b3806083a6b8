"""EventConfig validation and bad input: clear CardiostreamError subclasses naming the parameter."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cardiostream.errors import CardiostreamError, InvalidParameterError, InvalidSignalError
from cardiostream.events import (
    Event,
    EventConfig,
    EventKind,
    StreamingEventDetector,
    detect_events,
)

T = np.array([0.0, 0.8, 1.6, 2.4])
L = ["N", "N", "V", "N"]
U = np.ones(4, bool)


def test_default_config_values() -> None:
    c = EventConfig()
    assert (c.brady_bpm, c.tachy_bpm, c.pause_s, c.vt_bpm) == (50.0, 100.0, 2.0, 100.0)
    assert c.af_exclude_labels == ("F", "S", "V")
    assert isinstance(EventConfig(brady_bpm=45).brady_bpm, float)
    assert EventConfig(af_exclude_labels=["V", "V"]).af_exclude_labels == ("V",)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("brady_bpm", 0),
        ("brady_bpm", -5.0),
        ("brady_bpm", math.nan),
        ("brady_bpm", "50"),
        ("brady_bpm", True),
        ("tachy_bpm", 40.0),  # not above brady_bpm
        ("tachy_bpm", math.inf),
        ("brady_min_s", -1.0),
        ("tachy_min_s", math.inf),
        ("af_min_s", None),
        ("pause_s", 0.0),
        ("vt_bpm", 500.0),
        ("svt_bpm", -1),
        ("rate_window_beats", 0),
        ("rate_window_beats", 2.5),
        ("pattern_min_cycles", 0),
        ("af_window_beats", 8),
        ("af_trim_beats", -1),
        ("af_trim_beats", 30),  # leaves fewer than 10 of 64
        ("af_nrmssd", 0.0),
        ("af_tpr_z", -1.0),
        ("af_entropy", 1.5),
        ("af_exclude_labels", ("X",)),
        ("af_exclude_labels", "V"),
        ("poor_min_beats", 0),
    ],
)
def test_bad_config_names_the_parameter(name: str, value: object) -> None:
    with pytest.raises(InvalidParameterError, match=repr(name)):
        EventConfig(**{name: value})


def test_config_is_frozen() -> None:
    with pytest.raises(AttributeError):
        EventConfig().brady_bpm = 10.0  # type: ignore[misc]


def test_detector_rejects_a_wrong_config() -> None:
    with pytest.raises(InvalidParameterError, match="'config'"):
        StreamingEventDetector({"brady_bpm": 40})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("times", "labels", "usable", "param"),
    [
        (T[::-1], L, U, "times_s"),  # decreasing
        (np.array([0.0, 1.0, 1.0, 2.0]), L, U, "times_s"),  # repeated time
        (np.array([0.0, np.nan, 1.0, 2.0]), L, U, "times_s"),
        (np.array([0.0, np.inf, 1.0, 2.0]), L, U, "times_s"),
        (T.reshape(2, 2), L, U, "times_s"),
        (np.array(["a", "b", "c", "d"]), L, U, "times_s"),
        (T, L[:3], U, "labels"),
        (T, ["N", "N", "X", "N"], U, "labels"),
        (T, ["N", "N", "n", "N"], U, "labels"),  # case matters
        (T, "NNVN", U, "labels"),
        (T, [0, 1, 2, 3], U, "labels"),
        (T, L, U[:3], "usable"),
        (T, L, np.array([0.0, 1.0, 1.0, 1.0]), "usable"),
        (T, L, np.array([0, 1, 2, 1]), "usable"),
    ],
)
def test_bad_beats_name_the_parameter(times: object, labels: object, usable: object,
                                      param: str) -> None:
    with pytest.raises(InvalidSignalError, match=repr(param)) as info:
        detect_events(times, labels, usable)
    assert isinstance(info.value, CardiostreamError) and isinstance(info.value, ValueError)
    with pytest.raises(InvalidSignalError, match=repr(param)):
        StreamingEventDetector().push(times, labels, usable)


def test_integer_times_numpy_labels_and_01_flags_are_accepted() -> None:
    t = np.arange(0, 60, 2)  # int64 times, 30 bpm
    lab = np.array(["N"] * 30)
    ints = detect_events(t, lab, np.ones(30, np.int8))
    assert ints == detect_events(t.astype(float), list(lab), np.ones(30, bool))
    assert [e.kind for e in ints] == [EventKind.BRADYCARDIA]


@pytest.mark.parametrize(
    ("gaps", "param"),
    [
        ([(5.0, 4.0)], "end_s"),
        ([(5.0, 5.0)], "end_s"),
        ([(math.nan, 4.0)], "start_s"),
        ([(1.0, math.inf)], "end_s"),
        ([(1.0,)], "gaps"),
        ([(1.0, 2.0, 3.0)], "gaps"),
        ([(10.0, 20.0), (15.0, 25.0)], "gaps"),  # overlapping
        ([(0.5, 1.0)], "gaps"),  # beat at 0.8 inside
        (5, "gaps"),
    ],
)
def test_bad_gaps_name_the_parameter(gaps: object, param: str) -> None:
    with pytest.raises(InvalidParameterError, match=repr(param)):
        detect_events(T, L, U, gaps=gaps)  # type: ignore[arg-type]


def test_a_gap_between_two_beats_is_valid() -> None:
    assert [e.kind for e in detect_events(T, L, U, gaps=[(0.9, 1.0)])] == [EventKind.SIGNAL_LOSS]


def test_gaps_may_come_in_any_order_and_touch() -> None:
    ev = detect_events(T + 10.0, L, U, gaps=[(5.0, 8.0), (0.0, 5.0), (12.5, 13.0)])
    assert [(e.start_s, e.end_s) for e in ev if e.kind == EventKind.SIGNAL_LOSS] == [
        (0.0, 5.0), (5.0, 8.0), (12.5, 13.0)
    ]
    losses = [e for e in ev if e.kind == EventKind.SIGNAL_LOSS]
    assert [e.beats for e in losses] == [range(0, 0), range(0, 0), range(3, 3)]


def test_streaming_gap_arguments() -> None:
    det = StreamingEventDetector()
    with pytest.raises(InvalidParameterError, match="'end_s'"):
        det.gap(2.0, 1.0)
    with pytest.raises(InvalidParameterError, match="'start_s'"):
        det.gap("2", 3.0)  # type: ignore[arg-type]
    (loss,) = det.gap(np.float64(1.0), 2)
    assert loss == Event(EventKind.SIGNAL_LOSS, 1.0, 2.0, range(0, 0))

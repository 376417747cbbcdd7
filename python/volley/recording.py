"""Recordings read back from files: ``spikes.h5`` of ``volley sim`` and ``record.h5`` of
``volley eval --record`` (or ``volley.eval(..., record=DIR)``), as numpy arrays."""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Union

import numpy as np

from . import _volley
from .network import Rate, StateRecord, WeightRecord


class RecordedPopulation:
    """One population (or trained layer) of a :class:`Recording`.

    ``times`` (s, float64) and ``units`` (uint32) are its spikes; in a ``record.h5``
    ``samples[k]`` is the test sample of spike k (sample i occupies
    ``[i * sample_duration, (i + 1) * sample_duration)``). ``states`` are its state monitors as
    :class:`StateRecord` (``rec.state("layer0").u``: V − θ of the traced neurons, shape
    ``(neurons, samples)``), ``rates`` and ``weights`` its rate and weight monitors.
    """

    def __init__(self, d: Dict[str, Any], sample_duration: float, n_samples: int):
        self.name: str = d["name"]
        self.size: int = d["size"]
        self.times: np.ndarray = d["times"]
        self.units: np.ndarray = d["units"]
        self.samples: np.ndarray = d["samples"]
        self.removed: np.ndarray = d["removed"]
        self._sample_duration = sample_duration
        self._n_samples = n_samples
        self.states: Dict[str, StateRecord] = {}
        for s in d["states"]:
            rec = self.states.get(s["monitor"])
            # Stored [t, neurons]; Brian2's layout (neurons, t) is the transposed view (no copy).
            if rec is None or not np.array_equal(rec.t, s["t"]):
                rec = StateRecord({"t": s["t"], "indices": s["indices"], "population": self.name,
                                   "values": {}, "units": {}})
                self.states[s["monitor"]] = rec
            rec.values[s["variable"]] = s["values"].T
            rec.units[s["variable"]] = s["unit"]
        self.rates: Dict[str, Rate] = {r["monitor"]: Rate(r["t"], r["rate"]) for r in d["rates"]}
        self.weights: Dict[str, WeightRecord] = {
            w["monitor"]: WeightRecord(t=w["t"], pre=w["pre"], post=w["post"], w=w["w"].T,
                                       mean=w["mean"], unit=w["unit"], projection=w["projection"])
            for w in d["weights"]}

    def state(self, monitor: Optional[str] = None) -> StateRecord:
        """The state monitor ``monitor`` (default: the only one; record.h5 has ``"trace"``)."""
        if monitor is None:
            if len(self.states) != 1:
                raise KeyError(f"population '{self.name}' has {len(self.states)} state monitors "
                               f"({', '.join(self.states) or 'none'}); name one")
            return next(iter(self.states.values()))
        try:
            return self.states[monitor]
        except KeyError:
            raise KeyError(f"population '{self.name}' has no state monitor '{monitor}' (it has: "
                           f"{', '.join(self.states) or 'none'})") from None

    def counts(self) -> np.ndarray:
        """record.h5: spike counts per (test sample, neuron), shape ``(samples, size)``, uint32 —
        what tuning curves and selectivity are computed from."""
        if self._n_samples == 0:
            raise ValueError(f"population '{self.name}': counts need a record.h5 (per-sample spikes)")
        c = np.zeros((self._n_samples, self.size), dtype=np.uint32)
        np.add.at(c, (self.samples.astype(np.intp), self.units.astype(np.intp)), 1)
        return c

    def __repr__(self) -> str:
        return f"RecordedPopulation({self.name!r}, size={self.size}, spikes={len(self.times)})"


class Recording:
    """What a ``spikes.h5`` or ``record.h5`` holds: ``duration`` and ``dt`` (s), and
    ``populations`` ``{name: RecordedPopulation}`` (``rec["layer0"]`` for short); a record.h5
    also has ``labels`` and ``predictions`` (int64, one per test sample), ``class_names`` and
    ``sample_duration`` (s). Arrays are numpy arrays over the data read (not copied again)."""

    def __init__(self, d: Dict[str, Any], path: Optional[str] = None):
        self.path = path
        self.duration: float = d["duration"]
        self.dt: float = d["dt"]
        self.sample_duration: float = d["sample_duration"]
        self.labels: np.ndarray = d["labels"]
        self.predictions: np.ndarray = d["predictions"]
        self.class_names: List[str] = list(d["class_names"])
        n = len(self.labels)
        self.populations: Dict[str, RecordedPopulation] = {
            k: RecordedPopulation(v, self.sample_duration, n) for k, v in d["populations"].items()}

    def __getitem__(self, name: str) -> RecordedPopulation:
        try:
            return self.populations[name]
        except KeyError:
            raise KeyError(f"no population '{name}' in the recording (it has: "
                           f"{', '.join(self.populations) or 'none'})") from None

    @property
    def accuracy(self) -> float:
        """record.h5: the share of samples predicted right."""
        if len(self.labels) == 0:
            raise ValueError("accuracy needs a record.h5 (labels and predictions)")
        return float(np.mean(self.labels == self.predictions))

    def __repr__(self) -> str:
        return (f"Recording({self.path!r}, duration={self.duration:g} s, "
                f"populations={list(self.populations)})")


def read_recording(path: Union[str, "os.PathLike[str]"]) -> Recording:
    """Reads ``spikes.h5`` (``volley sim``) or ``record.h5`` (``volley eval --record``).

    Raises volley.IoError naming the file (and the object) for a missing or malformed file.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"read_recording: expected a path, got {type(path).__name__}")
    p = os.fspath(path)
    return Recording(_volley.read_recording(p), p)

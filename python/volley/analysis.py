"""Spike-train statistics (volley's analysis library, the code behind ``volley analyze`` and the
statistics of summary.json) on numpy arrays.

Every function takes one population's spikes as ``times`` (s) and ``units`` (neuron indices),
its ``n_neurons`` and the recorded interval ``[t_start, t_stop]`` (s, or ``"1 s"`` / ``(1, "s")``);
spikes may come in any order. Bad input (a unit >= n_neurons, a time outside the interval,
t_stop <= t_start, a window longer than the recording) raises ValueError saying what is wrong.
Conventions (bins, NaN for undefined values, population standard deviations) are those of
include/volley/analysis/spike_stats.hpp.

    times, units = net.spikes("P")
    s = volley.analysis.statistics(times, units, 4000, net.t)
    s["rate_mean"], s["cv_isi_mean"], s["synchrony_chi"]
"""
from __future__ import annotations

from typing import Any, Dict, NamedTuple, Optional, Sequence

import numpy as np

from . import _volley
from .network import _int, _seconds

__all__ = ["statistics", "firing_rates", "cv_isi", "fano_factor", "isi_histogram",
           "population_rate", "spike_count_correlations", "synchrony", "psth", "rate_spectrum",
           "tuning", "statistics_units", "CvIsi", "FanoFactor", "IsiHistogram", "PopulationRate", "Correlations",
           "Synchrony", "Psth", "Spectrum", "Tuning"]


def _trains(times: Any, units: Any, n_neurons: Any, t_stop: Any, t_start: Any):
    t = np.asarray(times, dtype=np.float64)
    u = np.asarray(units)
    if u.size and not np.issubdtype(u.dtype, np.integer):
        raise TypeError(f"units must hold integer neuron indices, got dtype {u.dtype}")
    return (t, u.astype(np.int64, copy=False), _int(n_neurons, "n_neurons", 1),
            _seconds(t_start, "t_start"), _seconds(t_stop, "t_stop"))


def _pos(x: Any, what: str) -> float:
    v = _seconds(x, what)
    if v <= 0:
        raise ValueError(f"{what}: must be a time > 0, got {v} s")
    return v


class CvIsi(NamedTuple):
    """``cv[i]``: neuron i's ISI coefficient of variation (NaN with fewer than two intervals);
    ``mean`` over the ``neurons_used`` neurons where it is defined."""
    cv: np.ndarray
    mean: float
    neurons_used: int


class FanoFactor(NamedTuple):
    """Per-neuron Fano factor of counts in ``windows`` windows; ``mean`` over ``neurons_used``."""
    fano: np.ndarray
    mean: float
    neurons_used: int
    windows: int


class IsiHistogram(NamedTuple):
    """``counts[k]`` intervals in ``[edges[k], edges[k+1])``; ``overflow`` longer ones."""
    edges: np.ndarray
    counts: np.ndarray
    overflow: int


class PopulationRate(NamedTuple):
    """``rate[k]`` (Hz per neuron) in the bin centred on ``t[k]`` (s)."""
    t: np.ndarray
    rate: np.ndarray


class Correlations(NamedTuple):
    """Pearson correlation ``r[k]`` of the counts of neurons ``pairs[k, 0]`` and ``pairs[k, 1]``."""
    pairs: np.ndarray
    r: np.ndarray
    mean: float
    pairs_used: int
    windows: int


class Synchrony(NamedTuple):
    """Golomb's χ over ``neurons_used`` neurons and ``samples`` time samples."""
    chi: float
    neurons_used: int
    samples: int


class Psth(NamedTuple):
    """``rate[k]`` (Hz per neuron) at ``t[k]`` (s, bin centre relative to the trigger)."""
    t: np.ndarray
    rate: np.ndarray
    triggers_used: int


class Spectrum(NamedTuple):
    """One-sided power spectral density ``psd`` at ``frequency`` (Hz); ``peak`` its largest
    non-DC frequency."""
    frequency: np.ndarray
    psd: np.ndarray
    peak: float


class Tuning(NamedTuple):
    """``curves[c, i]``: neuron i's mean spike count on class c; ``selectivity[i]`` in [0, 1];
    ``preferred[i]`` its preferred class (-1 when silent)."""
    curves: np.ndarray
    selectivity: np.ndarray
    preferred: np.ndarray


def statistics(times: Any, units: Any, n_neurons: int, t_stop: Any, *, t_start: Any = 0.0,
               fano_window: Any = 0.1, correlation_window: Any = 0.1, max_pairs: int = 1000,
               seed: int = 1, synchrony_tau: Any = 3e-3, synchrony_dt: Any = 5e-4,
               population_bin: Any = 1e-3) -> Dict[str, float]:
    """All the statistics of ``volley analyze`` (and of summary.json) as ``{name: value}``:
    ``rate_mean``, ``rate_median``, ``rate_max`` (Hz), ``fraction_silent``, ``cv_isi_mean``,
    ``fano_mean``, ``correlation_mean``, ``synchrony_chi``, ``population_peak_hz``, ... Values
    that need more recording than there is are NaN. Units: :func:`statistics_units`."""
    o = _volley.StatsOptions()
    o.fano_window = _pos(fano_window, "fano_window")
    o.correlation_window = _pos(correlation_window, "correlation_window")
    o.max_pairs = _int(max_pairs, "max_pairs", 1)
    o.seed = _int(seed, "seed", 0)
    o.synchrony_tau = _seconds(synchrony_tau, "synchrony_tau")
    o.synchrony_dt = _pos(synchrony_dt, "synchrony_dt")
    o.population_bin = _pos(population_bin, "population_bin")
    t, u, n, t0, t1 = _trains(times, units, n_neurons, t_stop, t_start)
    return {name: value for name, value, _ in _volley.spike_statistics(t, u, n, t0, t1, o)}


def statistics_units() -> Dict[str, str]:
    """The unit of each :func:`statistics` entry (``"Hz"``, ``"s"``, or ``""``)."""
    o = _volley.StatsOptions()
    return {name: unit for name, _, unit in
            _volley.spike_statistics(np.zeros(0), np.zeros(0, dtype=np.int64), 1, 0.0, 1.0, o)}


def firing_rates(times: Any, units: Any, n_neurons: int, t_stop: Any, *,
                 t_start: Any = 0.0) -> np.ndarray:
    """Each neuron's rate (Hz): its spike count / (t_stop − t_start)."""
    return _volley.firing_rates(*_trains(times, units, n_neurons, t_stop, t_start))


def cv_isi(times: Any, units: Any, n_neurons: int, t_stop: Any, *, t_start: Any = 0.0) -> CvIsi:
    """Coefficient of variation of each neuron's inter-spike intervals (std / mean, population
    std); a Poisson train has CV 1, a periodic one 0."""
    return CvIsi(*_volley.cv_isi(*_trains(times, units, n_neurons, t_stop, t_start)))


def fano_factor(times: Any, units: Any, n_neurons: int, t_stop: Any, window: Any, *,
                t_start: Any = 0.0) -> FanoFactor:
    """Fano factor (variance / mean, unbiased variance) of each neuron's counts in consecutive
    windows of ``window``; needs at least two windows."""
    return FanoFactor(*_volley.fano_factor(*_trains(times, units, n_neurons, t_stop, t_start),
                                           _pos(window, "window")))


def isi_histogram(times: Any, units: Any, n_neurons: int, t_stop: Any, bin: Any, max_isi: Any, *,
                  t_start: Any = 0.0) -> IsiHistogram:
    """Histogram of all inter-spike intervals, bins of ``bin`` up to ``max_isi``."""
    return IsiHistogram(*_volley.isi_histogram(*_trains(times, units, n_neurons, t_stop, t_start),
                                               _pos(bin, "bin"), _pos(max_isi, "max_isi")))


def population_rate(times: Any, units: Any, n_neurons: int, t_stop: Any, bin: Any, *,
                    t_start: Any = 0.0) -> PopulationRate:
    """Spikes of all neurons per bin of ``bin``, divided by n_neurons × bin (Hz per neuron)."""
    return PopulationRate(*_volley.population_rate(
        *_trains(times, units, n_neurons, t_stop, t_start), _pos(bin, "bin")))


def spike_count_correlations(times: Any, units: Any, n_neurons: int, t_stop: Any, window: Any, *,
                             t_start: Any = 0.0, max_pairs: int = 1000,
                             seed: int = 1) -> Correlations:
    """Pearson correlations of spike counts in windows of ``window``: all pairs when there are at
    most ``max_pairs``, else ``max_pairs`` pairs drawn by a seeded, reproducible sample."""
    p, r, mean, used, k = _volley.spike_count_correlations(
        *_trains(times, units, n_neurons, t_stop, t_start), _pos(window, "window"),
        _int(max_pairs, "max_pairs", 1), _int(seed, "seed", 0))
    return Correlations(p, r, mean, used, k)


def synchrony(times: Any, units: Any, n_neurons: int, t_stop: Any, *, t_start: Any = 0.0,
              tau: Any = 3e-3, dt: Any = 5e-4) -> Synchrony:
    """Golomb's synchrony measure χ (1 for identical trains, ~1/√N for independent ones) of the
    trains filtered by an exponential kernel of ``tau`` (0: counts in bins of ``dt``)."""
    return Synchrony(*_volley.golomb_synchrony(*_trains(times, units, n_neurons, t_stop, t_start),
                                               _seconds(tau, "tau"), _pos(dt, "dt")))


def psth(times: Any, units: Any, n_neurons: int, t_stop: Any, triggers: Sequence[float],
         before: Any, after: Any, bin: Any, *, t_start: Any = 0.0) -> Psth:
    """Peri-stimulus time histogram around ``triggers`` (s): ``[-before, after)`` in bins of
    ``bin``, as Hz per neuron; triggers whose window leaves the recording are not used."""
    tr = [float(x) for x in np.asarray(triggers, dtype=np.float64).ravel()]
    return Psth(*_volley.psth(*_trains(times, units, n_neurons, t_stop, t_start), tr,
                              _seconds(before, "before"), _pos(after, "after"), _pos(bin, "bin")))


def rate_spectrum(rate: Any, bin: Any) -> Spectrum:
    """Power spectral density of a population rate sampled every ``bin`` (after removing its
    mean; Parseval: ``sum(psd) * df`` is the rate's variance)."""
    r = np.asarray(rate, dtype=np.float64)
    if r.ndim != 1:
        raise ValueError(f"rate_spectrum: rate must be 1-d, got shape {r.shape}")
    return Spectrum(*_volley.rate_spectrum(r.tolist(), _pos(bin, "bin")))


def tuning(counts: Any, labels: Any, n_classes: Optional[int] = None) -> Tuning:
    """Tuning of a trained layer from spike counts ``[samples, neurons]`` (e.g.
    ``volley.eval(..., record=DIR).record["layer0"].counts()``) and the samples' labels: mean
    count per (class, neuron), selectivity (r_max − r_other) / (r_max + r_other) and preferred
    class per neuron."""
    c = np.asarray(counts)
    if c.ndim != 2 or not np.issubdtype(c.dtype, np.integer):
        raise TypeError(f"tuning: counts must be a 2-d integer array [samples, neurons], got "
                        f"dtype {c.dtype} and shape {c.shape}")
    y = np.asarray(labels)
    if y.ndim != 1 or (y.size and not np.issubdtype(y.dtype, np.integer)):
        raise TypeError("tuning: labels must be a 1-d integer array")
    n = (int(y.max()) + 1 if y.size else 2) if n_classes is None else _int(n_classes, "n_classes", 2)
    if c.size and c.min() < 0:
        raise ValueError("tuning: counts must be >= 0")
    return Tuning(*_volley.tuning(c.astype(np.uint32), y.astype(np.int64), n))

"""Networks loaded from model files: running them and reading what they recorded."""
from __future__ import annotations

import json
import numbers
import os
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Tuple, Union

import numpy as np

from . import _toml
from . import _volley

Duration = Union[str, float, int, Tuple[float, str]]


# ---- argument checking ---------------------------------------------------------------------


def _seconds(x: Any, what: str) -> float:
    """A time in seconds from "1 s", (1, "s") or a number of seconds."""
    if isinstance(x, bool) or x is None:
        raise TypeError(f"{what}: expected a time such as \"100 ms\", (100, \"ms\") or a number of "
                        f"seconds, got {type(x).__name__}")
    if isinstance(x, numbers.Real):
        v = float(x)
    elif isinstance(x, str) or _toml.is_quantity(x):
        v = _volley.parse_time(_toml.quantity(x, what))
    else:
        raise TypeError(f"{what}: expected a time such as \"100 ms\", (100, \"ms\") or a number of "
                        f"seconds, got {type(x).__name__} {x!r}")
    if not np.isfinite(v) or v < 0:
        raise ValueError(f"{what}: must be a finite time >= 0, got {v} s")
    return v


def _int(x: Any, what: str, minimum: int) -> int:
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{what}: expected an integer, got {type(x).__name__} {x!r}")
    if int(x) < minimum:
        raise ValueError(f"{what}: must be >= {minimum}, got {int(x)}")
    return int(x)


def _name(x: Any, what: str) -> str:
    if not isinstance(x, str):
        raise TypeError(f"{what}: expected a name (str), got {type(x).__name__} {x!r}")
    return x


def _overrides(set: Any) -> List[str]:
    """``set=`` as the CLI's ``--set dotted.path=VALUE`` strings, VALUE in TOML syntax."""
    if set is None:
        return []
    if isinstance(set, Mapping):
        out = []
        for k, v in set.items():
            if not isinstance(k, str) or not k:
                raise TypeError(f"set: keys must be dotted paths such as 'populations.P.size', "
                                f"got {k!r}")
            out.append(f"{k}={_toml.value(v, f'set[{k!r}]')}")
        return out
    if isinstance(set, (str, bytes)):
        raise TypeError("set: expected a dict {'populations.P.size': 100, ...} or a list of "
                        "'dotted.path=VALUE' strings, got a single string")
    if isinstance(set, Iterable):
        out = []
        for s in set:
            if not isinstance(s, str) or "=" not in s:
                raise TypeError(f"set: each item must be a 'dotted.path=VALUE' string, got {s!r}")
            out.append(s)
        return out
    raise TypeError(f"set: expected a dict or a list of 'dotted.path=VALUE' strings, "
                    f"got {type(set).__name__}")


def _load_options(set: Any, seed: Any, duration: Any, threads: Any):
    return (_overrides(set),
            None if seed is None else _int(seed, "seed", 0),
            None if duration is None else _seconds(duration, "duration"),
            None if threads is None else _int(threads, "threads", 1))


def load(path: Union[str, os.PathLike], set: Any = None, *, seed: Optional[int] = None,
         duration: Optional[Duration] = None, threads: Optional[int] = None) -> "Network":
    """Builds the network of a model file (docs/model-format.md), as ``volley sim`` does.

    ``set`` overrides fields before the file is read, like ``volley sim --set``: a dict of
    dotted paths to values (``{"populations.P.size": 100, "projections.Ce.connect.p": 0.05,
    "populations.P.tau_m": "10 ms"}``; values are written as TOML, so strings stay strings and
    ``(10, "ms")`` is a quantity) or a list of ``"dotted.path=VALUE"`` strings with VALUE in TOML
    syntax. ``seed``, ``duration`` and ``threads`` replace the ``[simulation]`` values.

    Raises volley.ConfigError (a ValueError) naming file, line and field for a bad model, and
    volley.IoError (an OSError) when the file cannot be read.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"load: path must be a str or os.PathLike, got {type(path).__name__}; "
                        "use volley.loads(text) for TOML text")
    return Network(_volley.load_file(os.fspath(path), *_load_options(set, seed, duration, threads)))


def loads(text: str, set: Any = None, *, name: str = "<string>", seed: Optional[int] = None,
          duration: Optional[Duration] = None, threads: Optional[int] = None) -> "Network":
    """Builds the network of a model given as TOML text; see :func:`load`.

    ``name`` is the name error messages give the text (``<string>:12: populations.P.size: ...``);
    relative data-file paths in the text are taken relative to its directory, else the working
    directory.
    """
    if not isinstance(text, str):
        raise TypeError(f"loads: text must be a str, got {type(text).__name__}")
    _name(name, "name")
    return Network(_volley.load_string(text, name, *_load_options(set, seed, duration, threads)))


# ---- records ---------------------------------------------------------------------------------


class Spikes(NamedTuple):
    """Spikes of a spike monitor: spike k is neuron ``units[k]`` (absolute index in the population)
    at ``times[k]`` seconds, in time order. Unpacks as ``times, units = net.spikes("P")``."""

    times: np.ndarray  # float64, s
    units: np.ndarray  # uint32


class Rate(NamedTuple):
    """A rate monitor: the population rate ``rate[k]`` (Hz) in the bin starting at ``t[k]`` (s)."""

    t: np.ndarray
    rate: np.ndarray


class StateRecord:
    """A state monitor's samples, Brian2 style: ``rec.v`` (or ``rec["v"]``) is an array of shape
    ``(len(rec.indices), len(rec.t))`` (float32, SI units: ``rec.units["v"]``), row i the
    samples of neuron ``rec.indices[i]`` at the times ``rec.t`` (s; the start of the sampled
    step, before its update)."""

    def __init__(self, d: Dict[str, Any]):
        self.t: np.ndarray = d["t"]
        self.indices: np.ndarray = d["indices"]
        self.population: str = d["population"]
        self.values: Dict[str, np.ndarray] = dict(d["values"])
        self.units: Dict[str, str] = dict(d["units"])

    @property
    def variables(self) -> Tuple[str, ...]:
        """Names of the recorded variables."""
        return tuple(self.values)

    def __getitem__(self, variable: str) -> np.ndarray:
        try:
            return self.values[variable]
        except KeyError:
            raise KeyError(f"variable '{variable}' not recorded (recorded: "
                           f"{', '.join(self.values) or 'none'})") from None

    def __getattr__(self, variable: str) -> np.ndarray:
        values = self.__dict__.get("values", {})
        if variable in values:
            return values[variable]
        raise AttributeError(f"StateRecord has no attribute or recorded variable '{variable}'")

    def __repr__(self) -> str:
        return (f"StateRecord(population={self.population!r}, variables={list(self.values)}, "
                f"neurons={len(self.indices)}, samples={len(self.t)})")


@dataclass
class WeightRecord:
    """A weight monitor: ``w[i, k]`` is the weight (SI units ``unit``) of synapse
    ``pre[i] -> post[i]`` (absolute population indices) at ``t[k]`` (s, the end of the sampled
    step, after plasticity); ``mean[k]`` is the mean of all the projection's weights."""

    t: np.ndarray
    pre: np.ndarray
    post: np.ndarray
    w: np.ndarray
    mean: np.ndarray
    unit: str
    projection: str


# ---- populations and projections ---------------------------------------------------------------


class Population:
    """A view of one population of a :class:`Network` (keeps the network alive)."""

    def __init__(self, net: "Network", name: str):
        self._net = net
        self._name = name

    def _info(self) -> Dict[str, Any]:
        return self._net._sim.population_info(self._name)

    @property
    def name(self) -> str:
        """The population's name in the model."""
        return self._name

    @property
    def model(self) -> str:
        """The neuron model (a registry name: "lif", "equations", ...)."""
        return self._info()["model"]

    @property
    def size(self) -> int:
        """Neurons ever made (removed neurons keep their index)."""
        return self._info()["size"]

    def __len__(self) -> int:
        return self.size

    @property
    def living(self) -> int:
        """Neurons not removed (see neuron changes in docs/model-format.md)."""
        return self._info()["living"]

    @property
    def variables(self) -> List[str]:
        """Names of the state variables that :meth:`variable` and state monitors read."""
        return list(self._info()["variables"])

    @property
    def channels(self) -> List[str]:
        """Names of the synaptic channels projections can target."""
        return list(self._info()["channels"])

    @property
    def spike_count(self) -> int:
        """Spikes the population emitted since the network was built."""
        return self._info()["spikes"]

    def variable(self, name: str) -> np.ndarray:
        """The state variable ``name`` of every neuron now, in SI units (float64). A copy: later
        runs do not change it, and it outlives the network."""
        return self._net._sim.get_variable(self._name, _name(name, "variable"))

    def unit(self, name: str) -> str:
        """The SI unit of variable ``name`` ("V", "A", "" for a pure number, ...)."""
        return self._net._sim.variable_unit(self._name, _name(name, "variable"))

    def set_variable(self, name: str, values: Any) -> None:
        """Sets variable ``name`` of every neuron (between runs): a number in SI units, a quantity
        ("-60 mV", (-60, "mV")) or an array of ``size`` values in SI units."""
        _name(name, "variable")
        unit = self.unit(name)
        if isinstance(values, str) or _toml.is_quantity(values):
            v, u = _volley.parse_quantity(_toml.quantity(values, name))
            if u != unit:
                raise ValueError(f"{self._name}.{name}: {_toml.quantity(values)!r} is in '{u or '1'}', "
                                 f"the variable in '{unit or '1'}'")
            values = v
        if isinstance(values, bool):
            raise TypeError(f"{self._name}.{name}: expected numbers, got a bool")
        arr = np.asarray(values, dtype=np.float64)
        if arr.ndim == 0:
            arr = np.full(self.size, float(arr))
        self._net._sim.set_variable(self._name, name, arr)

    def __repr__(self) -> str:
        i = self._info()
        return f"Population({i['name']!r}, model={i['model']!r}, size={i['size']})"


class Projection:
    """A view of one projection of a :class:`Network` (keeps the network alive). Synapses are in
    CSR order (by presynaptic neuron, targets ascending); arrays are copies."""

    def __init__(self, net: "Network", name: str):
        self._net = net
        self._name = name

    def _info(self) -> Dict[str, Any]:
        return self._net._sim.projection_info(self._name)

    @property
    def name(self) -> str:
        """The projection's name in the model."""
        return self._name

    @property
    def source(self) -> str:
        """The source population."""
        return self._info()["source"]

    @property
    def target(self) -> str:
        """The target population."""
        return self._info()["target"]

    @property
    def channel(self) -> str:
        """The target channel ("" for synapses written as equations)."""
        return self._info()["channel"]

    @property
    def synapse_count(self) -> int:
        """Number of synapses (also len(projection))."""
        return self._net._sim.synapse_count(self._name)

    def __len__(self) -> int:
        return self.synapse_count

    @property
    def pre(self) -> np.ndarray:
        """Presynaptic neuron of each synapse (uint32, absolute index in the source population)."""
        return self._net._sim.pre_indices(self._name)

    @property
    def post(self) -> np.ndarray:
        """Postsynaptic neuron of each synapse (uint32, absolute index in the target population)."""
        return self._net._sim.post_indices(self._name)

    @property
    def weights(self) -> np.ndarray:
        """Weight of each synapse in SI units of :attr:`weight_unit` (float64 copy). Assign an
        array of ``synapse_count`` values (or one number for all) between runs to change them;
        weights are stored as float32."""
        return self._net._sim.get_weights(self._name)

    @weights.setter
    def weights(self, values: Any) -> None:
        if isinstance(values, str) or _toml.is_quantity(values):
            v, u = _volley.parse_quantity(_toml.quantity(values, "weights"))
            if u != self.weight_unit:
                raise ValueError(f"projection '{self._name}': weights are in '{self.weight_unit}', "
                                 f"got {_toml.quantity(values)!r}")
            values = v
        if isinstance(values, bool):
            raise TypeError(f"projection '{self._name}': weights must be numbers, got a bool")
        try:
            arr = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise TypeError(f"projection '{self._name}': weights must be numbers: {e}") from None
        if arr.ndim == 0:
            arr = np.full(self.synapse_count, float(arr))
        self._net._sim.set_weights(self._name, arr)

    @property
    def weight_unit(self) -> str:
        """SI unit of the weights: "V", "A", "S" or "" (dimensionless)."""
        return self._info()["unit"]

    @property
    def delays(self) -> np.ndarray:
        """Delay of each synapse in seconds (whole steps)."""
        return self._net._sim.delays(self._name)

    @property
    def plastic(self) -> bool:
        """True when the weights change during runs (STDP and relatives)."""
        return self._info()["plastic"]

    @property
    def events(self) -> int:
        """Synaptic events delivered since the network was built."""
        return self._info()["events"]

    def synapse_variable(self, name: str) -> np.ndarray:
        """A per-synapse variable of a projection written as synapse equations, in SI units and
        CSR order (volley.ParameterError naming the known variables otherwise)."""
        return self._net._sim.synapse_variable(self._name, _name(name, "variable"))

    def add_synapses(self, pre: Any, post: Any, weight: Any, delay: Any = 1e-4) -> None:
        """Adds synapses ``pre[k] -> post[k]`` between runs (indices relative to the projection's
        source and target slices) with one weight (SI number or quantity) and delay (a time)."""
        pre_a = np.asarray(pre)
        post_a = np.asarray(post)
        for a, what in ((pre_a, "pre"), (post_a, "post")):
            if a.ndim != 1 or not (a.size == 0 or np.issubdtype(a.dtype, np.integer)):
                raise TypeError(f"add_synapses: {what} must be a 1-d sequence of integers")
            if a.size and a.min() < 0:
                raise ValueError(f"add_synapses: {what} has negative indices")
        if isinstance(weight, str) or _toml.is_quantity(weight):
            w, u = _volley.parse_quantity(_toml.quantity(weight, "weight"))
            if u != self.weight_unit:
                raise ValueError(f"add_synapses: weights of '{self._name}' are in "
                                 f"'{self.weight_unit}', got {_toml.quantity(weight)!r}")
        elif isinstance(weight, numbers.Real) and not isinstance(weight, bool):
            w = float(weight)
        else:
            raise TypeError(f"add_synapses: weight must be a number (SI) or a quantity, got {weight!r}")
        self._net._sim.add_synapses(self._name, pre_a.astype(np.uint32).tolist(),
                                    post_a.astype(np.uint32).tolist(), w,
                                    _seconds(delay, "delay"))

    def __repr__(self) -> str:
        i = self._info()
        return (f"Projection({i['name']!r}, {i['source']!r} -> {i['target']!r}, "
                f"synapses={i['synapses']})")


# ---- the network -----------------------------------------------------------------------------


class Network:
    """A simulation built from a model file (:func:`volley.load`, :func:`volley.loads`,
    :meth:`volley.Model.build`). Not constructed directly."""

    def __init__(self, sim: "_volley.Sim"):
        if not isinstance(sim, _volley.Sim):
            raise TypeError("Network is made by volley.load, volley.loads or Model.build")
        self._sim = sim

    # -- time and settings --
    @property
    def dt(self) -> float:
        """Time step (s)."""
        return self._sim.dt

    @property
    def t(self) -> float:
        """Simulated time so far (s) = step * dt."""
        return self._sim.t

    @property
    def step(self) -> int:
        """Steps simulated so far."""
        return self._sim.step

    @property
    def seed(self) -> int:
        """The network's seed."""
        return self._sim.seed

    @property
    def duration(self) -> float:
        """The model's [simulation].duration (s): what :meth:`run` runs without an argument."""
        return self._sim.duration

    @property
    def path(self) -> str:
        """Where the model came from (its file, or the name given to loads)."""
        return self._sim.path

    @property
    def threads(self) -> int:
        """Worker threads of later runs (results do not depend on it)."""
        return self._sim.threads

    @threads.setter
    def threads(self, n: int) -> None:
        self._sim.threads = _int(n, "threads", 1)

    # -- running --
    def run(self, duration: Optional[Duration] = None, *, threads: Optional[int] = None) -> float:
        """Advances the network by ``duration`` ("1 s", (1, "s") or seconds as a number; default
        the model's [simulation].duration), rounded to whole steps; returns the wall-clock
        seconds the simulation took. Call it again to continue: two runs give the same results
        as one run of their total.

        The GIL is released while the network runs. Ctrl-C (SIGINT) is checked between parts of
        about 0.1 s of wall time: the run stops at a step boundary (``net.t`` says where; monitors
        hold everything up to it) and KeyboardInterrupt is raised; run again to continue.
        """
        d = self._sim.duration if duration is None else _seconds(duration, "duration")
        return self._sim.run(d, None if threads is None else _int(threads, "threads", 1))

    # -- monitors --
    @property
    def monitors(self) -> Dict[str, str]:
        """Monitor name -> type ("spikes", "state", "rate", "weights")."""
        return dict(self._sim.monitors())

    def spikes(self, name: str) -> Spikes:
        """Spikes of the spike monitor ``name``, or of population ``name`` when one spike monitor
        records it: ``times, units = net.spikes("P")`` (copies)."""
        times, units, _, _ = self._sim.spikes(_name(name, "monitor"))
        return Spikes(times, units)

    def state(self, name: str) -> StateRecord:
        """The samples of state monitor ``name`` (copies); see :class:`StateRecord`."""
        return StateRecord(self._sim.state(_name(name, "monitor")))

    def rate(self, name: str) -> Rate:
        """The bins of rate monitor ``name``: ``t, rate = net.rate("r")`` (copies)."""
        t, r = self._sim.rate(_name(name, "monitor"))
        return Rate(t, r)

    def weights(self, name: str) -> WeightRecord:
        """The samples of weight monitor ``name`` (copies); see :class:`WeightRecord`."""
        d = self._sim.weight_record(_name(name, "monitor"))
        return WeightRecord(**d)

    # -- structure --
    @property
    def populations(self) -> Dict[str, Population]:
        """{name: Population} of every population."""
        return {n: Population(self, n) for n in self._sim.population_names()}

    @property
    def projections(self) -> Dict[str, Projection]:
        """{name: Projection} of every projection."""
        return {n: Projection(self, n) for n in self._sim.projection_names()}

    def population(self, name: str) -> Population:
        """The population `name`; KeyError listing the known ones otherwise."""
        names = self._sim.population_names()
        if _name(name, "population") not in names:
            raise KeyError(f"no population '{name}' (known: {', '.join(names) or 'none'})")
        return Population(self, name)

    def projection(self, name: str) -> Projection:
        """The projection `name`; KeyError listing the known ones otherwise."""
        names = self._sim.projection_names()
        if _name(name, "projection") not in names:
            raise KeyError(f"no projection '{name}' (known: {', '.join(names) or 'none'})")
        return Projection(self, name)

    def summary(self) -> Dict[str, Any]:
        """What ``volley sim`` writes to summary.json for this network now (same code): wall and
        build seconds, dt, duration (= t), threads, seed, model, peak RSS, per population size,
        spikes, rate (Hz) and ISI CV, per projection synapses, memory and events, and modulators,
        rewards and structural plasticity when present."""
        return json.loads(self._sim.summary_json())

    def __repr__(self) -> str:
        return (f"<volley.Network {self.path!r}: t={self.t:g} s, dt={self.dt:g} s, "
                f"populations={self._sim.population_names()}>")

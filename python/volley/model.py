"""Model files written from Python: :class:`Model` collects the tables of a model file and
builds the network through the same loader as ``volley sim`` (so every registered neuron model,
connection rule, input and monitor works, and errors name the line of the generated TOML).

Quantities are strings (``"20 ms"``) or ``(value, unit)`` tuples (``(20, "ms")``); plain numbers
are counts, probabilities and dimensionless parameters, exactly as in a model file
(docs/model-format.md).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from . import _toml
from .network import Network, _name, loads


class Model:
    """A model file built in Python.

    >>> m = volley.Model(dt="0.1 ms", duration="200 ms", seed=3)
    >>> m.population("P", model="lif", size=100, tau_m="20 ms", v_rest="-49 mV",
    ...              v_th="-50 mV", v_reset="-60 mV",
    ...              channels={"exc": {"tau": "5 ms"}})
    >>> m.projection("rec", source="P", target="P", channel="exc",
    ...              connect={"rule": "fixed_probability", "p": 0.1}, weight=(0.5, "mV"))
    >>> m.monitor("spikes", type="spikes", population="P")
    >>> net = m.build()
    """

    _SECTIONS = ("populations", "projections", "modulators", "rewards", "inputs", "monitors",
                 "neuron_rules")

    def __init__(self, **simulation: Any):
        self._simulation: Dict[str, Any] = {}
        self._tables: Dict[str, Dict[str, Dict[str, Any]]] = {s: {} for s in self._SECTIONS}
        self._structural: Optional[Dict[str, Any]] = None
        self._events: List[Dict[str, Any]] = []
        self.simulation(**simulation)

    # -- tables --
    def simulation(self, **fields: Any) -> "Model":
        """[simulation]: dt, duration, seed, threads (updates the fields given)."""
        self._simulation.update(fields)
        return self

    def _add(self, section: str, name: Any, fields: Dict[str, Any]) -> "Model":
        _name(name, section[:-1])
        if not name:
            raise ValueError(f"{section}: empty name")
        for s, t in self._tables.items():
            if name in t:
                raise ValueError(f"name '{name}' is already used in [{s}] (populations, "
                                 "projections, inputs and monitors share one namespace)")
        self._tables[section][name] = {k: v for k, v in fields.items() if v is not None}
        return self

    def population(self, name: str, model: str, size: int, **params: Any) -> "Model":
        """[populations.NAME]: ``model`` (any model of docs/reference.md), ``size`` and the
        model's parameters; ``channels={"exc": {"tau": "5 ms"}}`` for synaptic channels."""
        return self._add("populations", name, {"model": model, "size": size, **params})

    def projection(self, name: str, source: str, target: str, **params: Any) -> "Model":
        """[projections.NAME]: ``source``/``target`` (population references, may be sliced:
        "P[0:3200]"), ``channel``, ``connect`` (a dict with ``rule``), ``weight``, ``delay``,
        ``stdp``... (docs/model-format.md, Projections)."""
        return self._add("projections", name, {"source": source, "target": target, **params})

    def input(self, name: str, type: str, target: str, **params: Any) -> "Model":
        """[inputs.NAME]: ``type`` ("poisson_input", "current"), ``target`` and its keys."""
        return self._add("inputs", name, {"type": type, "target": target, **params})

    def monitor(self, name: str, type: str, **params: Any) -> "Model":
        """[monitors.NAME]: ``type`` ("spikes", "state", "rate", "weights") and its keys
        (``population``, ``variables``, ``indices``, ``every``, ``bin``, ``projection``,
        ``synapses``)."""
        return self._add("monitors", name, {"type": type, **params})

    def modulator(self, name: str, **params: Any) -> "Model":
        """[modulators.NAME] (reward-modulated STDP)."""
        return self._add("modulators", name, dict(params))

    def reward(self, name: str, **params: Any) -> "Model":
        """[rewards.NAME] (reward-modulated STDP)."""
        return self._add("rewards", name, dict(params))

    def neuron_rule(self, name: str, **params: Any) -> "Model":
        """[neuron_rules.NAME]."""
        return self._add("neuron_rules", name, dict(params))

    def structural_plasticity(self, **params: Any) -> "Model":
        """[structural_plasticity]; nested tables as dicts (``calcium={"E": {...}}``)."""
        self._structural = dict(params)
        return self

    def event(self, **params: Any) -> "Model":
        """One [[events]] entry (``time``, ``action``, ``population``, ...)."""
        self._events.append(dict(params))
        return self

    # -- output --
    def to_toml(self) -> str:
        """The model file's text."""
        parts = ["# written by volley.Model\n"]
        if self._simulation:
            parts.append(_toml.table("simulation", self._simulation, "simulation"))
        for section in self._SECTIONS:
            for name, fields in self._tables[section].items():
                header = f"{section}.{_toml.key(name, section)}"
                parts.append(_toml.table(header, fields, f"{section}.{name}"))
        if self._structural is not None:
            parts.append(_toml.table("structural_plasticity", self._structural,
                                     "structural_plasticity"))
        for k, e in enumerate(self._events):
            parts.append(_toml.table("[events]", e, f"events[{k}]"))  # [[events]]
        return "\n".join(parts)

    def save(self, path: str) -> None:
        """Writes the model file (``volley sim PATH`` runs it)."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.to_toml())

    def build(self, set: Any = None, *, name: str = "<volley.Model>", seed: Optional[int] = None,
              duration: Any = None, threads: Optional[int] = None) -> Network:
        """Loads the model into a :class:`Network` (arguments as for :func:`volley.loads`)."""
        return loads(self.to_toml(), set, name=name, seed=seed, duration=duration,
                     threads=threads)

    def __repr__(self) -> str:
        counts = ", ".join(f"{s}={len(t)}" for s, t in self._tables.items() if t)
        return f"<volley.Model {counts or 'empty'}>"

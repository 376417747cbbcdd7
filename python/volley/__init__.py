"""volley: a spiking-network simulator with units on every quantity, from Python.

    import volley
    net = volley.load("examples/cuba.toml", set={"simulation.duration": "200 ms"})
    net.run("200 ms")
    times, units = net.spikes("P")
    print(net.summary()["populations"]["P"]["rate_hz"])

Networks come from model files (:func:`load`), TOML text (:func:`loads`) or a :class:`Model`
built in Python; they run in volley's C++ core with the GIL released. Every array handed out is
a numpy copy that outlives the network. :func:`train` and :func:`eval` train and evaluate
networks from training files as ``volley train`` and ``volley eval`` do, on the file's data or on
numpy arrays (:class:`Dataset`); :func:`read_recording`, :mod:`volley.analysis`,
:func:`report`, :func:`export`, :func:`export_nir` and :func:`import_nir` are ``volley
analyze``, ``report``, ``export`` and ``import``. See docs/python.md.
"""
from . import _volley
from . import analysis
from ._errors import ConfigError, Error, IoError, ParameterError, UnitError
from .model import Model
from .network import (Network, Population, Projection, Rate, Spikes, StateRecord, WeightRecord,
                      load, loads)
from .training import EvalResult, TrainResult, eval, train
from .data import Dataset
from .recording import Recording, RecordedPopulation, read_recording
from .exchange import Report, export, export_nir, import_nir, report

_volley._register_errors(Error, ConfigError, ParameterError, UnitError, IoError)

__all__ = [
    "ConfigError", "Error", "IoError", "Model", "Network", "ParameterError", "Population",
    "Projection", "Rate", "Spikes", "StateRecord", "UnitError", "WeightRecord", "load", "loads",
    "parse_quantity", "model_reference", "train", "eval", "TrainResult", "EvalResult",
    "Dataset", "Recording", "RecordedPopulation", "read_recording", "Report", "report", "export",
    "export_nir", "import_nir", "analysis",
]


def parse_quantity(text: str):
    """``"20 ms"`` -> ``(0.02, "s")``: the value in SI units and its SI unit (volley's parser)."""
    if not isinstance(text, str):
        raise TypeError(f"parse_quantity: expected a str such as \"20 ms\", got {type(text).__name__}")
    return _volley.parse_quantity(text)


def model_reference() -> str:
    """The Markdown reference of every neuron model, rule, input and monitor (docs/reference.md)."""
    return _volley.model_reference()

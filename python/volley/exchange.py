"""Reports and exchange: :func:`report` (``volley report``), :func:`export` (``volley export``:
a trained network as a model file that :func:`volley.load` runs), :func:`export_nir` and
:func:`import_nir` (NIR graphs, ``volley export --format nir`` / ``volley import``)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Union

from . import _volley
from .data import Dataset
from .network import _int, _seconds

PathLike = Union[str, "os.PathLike[str]"]


def _path(x: Any, what: str) -> str:
    if not isinstance(x, (str, os.PathLike)):
        raise TypeError(f"{what}: expected a path (str or os.PathLike), got {type(x).__name__} {x!r}")
    return os.fspath(x)


def _checkpoint(x: Any, what: str) -> str:
    ck = _path(x, what)
    return os.path.join(ck, "checkpoint.bin") if os.path.isdir(ck) else ck


def _needs(name: str):
    if not hasattr(_volley, name):
        raise RuntimeError("this volley was built without HDF5 (VOLLEY_HDF5=OFF); exports need it")
    return getattr(_volley, name)


@dataclass
class Report:
    """What :func:`report` wrote: ``html`` (the page's path), ``figures`` (SVG paths), ``kinds``
    (the sections: "simulation", "training", "recording", "fi", "robustness", "structural"),
    ``bytes`` (the page's size)."""
    html: str
    figures: List[str]
    kinds: List[str]
    bytes: int


def report(directory: PathLike, out: Optional[PathLike] = None, *,
           max_raster_points: int = 40000) -> Report:
    """Writes ``DIR/report.html`` (self-contained, works offline) and ``DIR/figures/*.svg`` for
    what a run left in ``directory``, as ``volley report`` does: a simulation (spikes.h5 +
    summary.json), a training run (metrics.jsonl, e.g. ``out`` of :func:`volley.train`), a
    recorded network (record.h5 from ``volley.eval(..., record=DIR)``), an f–I run or a
    robustness run. ``out``: another HTML path. Needs gnuplot. Raises volley.IoError when the
    directory holds nothing volley can report on."""
    d = _path(directory, "report: directory")
    o = "" if out is None else _path(out, "report: out")
    r = _volley.write_report(d, o, _int(max_raster_points, "max_raster_points", 1))
    return Report(html=r["html"], figures=list(r["figures"]), kinds=list(r["kinds"]),
                  bytes=r["bytes"])


def export(checkpoint: PathLike, out: PathLike, *, first: int = 0, samples: Optional[int] = 1,
           data: Union[PathLike, Dataset, None] = None, threads: int = 1) -> Dict[str, Any]:
    """Writes a trained network as a model file, as ``volley export`` does: ``OUT/model.toml``
    (the trainer's neurons and trained weights, test samples ``first ..`` as input spikes, a
    spike monitor per layer) with synapses.h5, input.h5 and export.json. ``volley.load(
    r["model"])`` then simulates the trainer's forward pass spike for spike. ``samples=None``:
    every test sample from ``first`` on. ``data``: other test data (a path as for
    :func:`volley.eval`, or a :class:`Dataset`).

    Returns the layout: ``model`` (path), ``dt``, ``steps`` (T), ``layers`` (L), ``window``
    (W = T + L + 1 steps per sample: sample k's input event of step t is emitted at k·W + t and
    layer l does its step t at k·W + t + l + 1), ``samples``, ``labels``, ``duration`` (s)."""
    ck = _checkpoint(checkpoint, "export: checkpoint")
    o = _path(out, "export: out")
    arrays = data._d if isinstance(data, Dataset) else None
    dpath = "" if data is None or arrays is not None else _path(data, "export: data")
    count = 0 if samples is None else _int(samples, "samples", 1)
    return dict(_needs("export_model")(ck, o, _int(first, "first", 0), count, dpath, arrays,
                                       _int(threads, "threads", 1)))


def export_nir(checkpoint: PathLike, path: PathLike, *, data: Optional[PathLike] = None,
               threads: int = 1) -> Dict[str, Any]:
    """Writes a trained network as a NIR graph (HDF5), as ``volley export --format nir`` does,
    for snnTorch, Norse, Rockpool, ... and neuromorphic hardware (docs/nir.md). Import gives the
    same float weights back bit for bit. ``data`` is only read for a sparse first layer.
    Returns ``path``, ``n_inputs``, ``layers``, ``synapses``, ``dt``."""
    ck = _checkpoint(checkpoint, "export_nir: checkpoint")
    p = _path(path, "export_nir: path")
    d = "" if data is None else _path(data, "export_nir: data")
    return dict(_needs("export_nir")(ck, p, d, _int(threads, "threads", 1)))


def import_nir(file: PathLike, out: PathLike, *, dt: Any = None, steps: Optional[int] = None,
               train: Optional[PathLike] = None) -> Dict[str, Any]:
    """Imports a NIR graph as a volley network, as ``volley import`` does: ``OUT/network.toml``
    (its ``[network]`` and ``[[layers]]`` tables), ``OUT/model.toml`` + synapses.h5 (for
    :func:`volley.load`) and, with a training file ``train``, ``OUT/training.toml`` and
    ``OUT/checkpoint.bin`` (for :func:`volley.eval`, :func:`export` and ``train(...,
    resume=True)``). ``dt``: the step (default: the training file's network.dt); ``steps``:
    steps per sample. Returns ``n_inputs``, ``layers``, ``dt``, ``steps``, ``description`` (one
    line per layer), ``written`` (file names), ``notes``, ``out``. Raises volley.IoError /
    ConfigError naming the node for a graph volley cannot run."""
    f = _path(file, "import_nir: file")
    o = _path(out, "import_nir: out")
    d = 0.0 if dt is None else _seconds(dt, "import_nir: dt")
    s = 0 if steps is None else _int(steps, "import_nir: steps", 1)
    t = "" if train is None else _path(train, "import_nir: train")
    return dict(_needs("import_nir")(f, o, d, s, t))

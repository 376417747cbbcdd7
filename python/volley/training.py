"""Training from Python: :func:`train` (``volley train``) and :func:`eval` (``volley eval``)."""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np

from . import _volley
from .data import Dataset
from .network import _int, _overrides
from .recording import Recording

PathLike = Union[str, "os.PathLike[str]"]


@dataclass
class TrainResult:
    """What :func:`train` returns.

    ``metrics``: one dict per epoch trained by this call (the keys of ``metrics.jsonl`` —
    ``epoch``, ``train_loss``, ``train_acc``, ``test_acc``, ``test_loss``, ``epoch_seconds``,
    ``samples_per_second``, ``test_seconds``, ``active_fraction``, ``lr`` — and ``epochs``,
    ``train_samples``, ``test_samples``, ``spikes_per_sample``, ``checkpoint``).
    ``weights``: ``{name: ndarray}`` of every parameter after training (copies, float32): dense
    weight matrices ``"layerL.w"`` (input weights) and ``"layerL.v"`` (recurrent) shaped
    ``(pre, post)``, everything else flat.
    ``checkpoint``: path of ``checkpoint.bin`` (None when no epoch finished).
    ``stopped``: why training ended before ``epochs``: None, ``"callback"`` (it returned False),
    ``"interrupted"`` (Ctrl-C / KeyboardInterrupt; :func:`train` then raises KeyboardInterrupt
    with this result as ``.result``) or ``"diverged"`` (a NaN/Inf loss stopped it, as it stops
    ``volley train``; ``message`` says where, and :func:`train` also warns: RuntimeWarning).
    """
    metrics: List[Dict[str, Any]]
    weights: Dict[str, np.ndarray]
    checkpoint: Optional[str]
    out: str
    config: str
    epochs_done: int
    test_accuracy: float
    train_samples: int
    test_samples: int
    confusion: Optional[np.ndarray] = None
    stopped: Optional[str] = None
    message: str = ""

    def __repr__(self) -> str:
        return (f"TrainResult(epochs_done={self.epochs_done}, test_accuracy={self.test_accuracy:.4f}, "
                f"checkpoint={self.checkpoint!r}, stopped={self.stopped!r})")


@dataclass
class EvalResult:
    """What :func:`eval` returns: ``accuracy``, ``loss``, ``samples``, ``seconds``, ``confusion``
    (int64 ``[true, predicted]``), ``spikes_per_sample`` (per layer), ``epochs`` (of the
    checkpoint), ``weights`` (as in :class:`TrainResult`), ``data`` (the test set's description),
    ``record``: with ``record=DIR``, the :class:`volley.Recording` of DIR/record.h5 (every layer's
    spikes per test sample, traces, labels and predictions), else None."""
    accuracy: float
    loss: float
    samples: int
    seconds: float
    confusion: np.ndarray
    spikes_per_sample: List[float]
    epochs: int
    checkpoint: str
    config: str
    data: str
    weights: Dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    record: Optional[Recording] = field(repr=False, default=None)


def _path(x: Any, what: str) -> str:
    if not isinstance(x, (str, os.PathLike)):
        raise TypeError(f"{what}: expected a path (str or os.PathLike), got {type(x).__name__} {x!r}")
    return os.fspath(x)


def _opt_int(x: Any, what: str, minimum: int) -> Optional[int]:
    return None if x is None else _int(x, what, minimum)


def train(config: PathLike, out: PathLike = "volley-train", *, epochs: Optional[int] = None,
          set: Any = None, seed: Optional[int] = None, train_limit: Optional[int] = None,
          test_limit: Optional[int] = None, threads: Optional[int] = None, resume: bool = False,
          callback: Optional[Callable[[Dict[str, Any]], Any]] = None,
          data: Optional[Tuple[Dataset, Dataset]] = None) -> TrainResult:
    """Trains the network of a training file (docs/training-format.md) as ``volley train`` does.

    Same loader, trainer and epoch loop as the CLI, so the same file and options give the same
    metrics; ``out`` receives the CLI's files (``metrics.jsonl``, ``checkpoint.bin`` after every
    epoch, ``summary.json``), so ``volley eval OUT/checkpoint.bin`` and ``volley train --resume``
    work on it. The keywords are the CLI's options: ``epochs`` (--epochs), ``set`` (--set, a dict
    or a list of "dotted.path=VALUE" strings, as for :func:`volley.load`), ``seed``,
    ``train_limit`` / ``test_limit`` (the first N samples), ``threads`` (results do not depend on
    it), ``resume`` (continue the run in ``out``).

    ``data=(train_set, test_set)``: two :class:`volley.Dataset` to train and test on instead of
    the training file's ``[data]`` (which may then say ``dataset = "arrays"``); the network's
    input count is the data's, and their steps and classes must match the file's network
    (ConfigError otherwise). ``train_limit`` / ``test_limit`` take their first samples. The
    checkpoint notes ``data=arrays``, so ``volley train --resume`` refuses it; resume from Python
    with the same data.

    The GIL is released while training. ``callback(metrics)`` is called after every epoch (its
    checkpoint written) with that epoch's metrics dict (see :class:`TrainResult`); returning
    False stops training there. Ctrl-C (or a KeyboardInterrupt raised by the callback) stops
    after the epoch in progress, whose checkpoint is kept, then raises KeyboardInterrupt with the
    result as its ``.result``; a second Ctrl-C stops at once (the previous epoch's checkpoint
    stays; ``.result.weights`` are then the network's mid-epoch). Any other exception from the callback propagates after the epoch's checkpoint.

    Raises volley.ConfigError naming file, line and field for a bad training file, volley.IoError
    when it or the data cannot be read, or when ``out`` already holds a run (without ``resume``).
    """
    cfg = _path(config, "train: config")
    out_s = _path(out, "train: out")
    if callback is not None and not callable(callback):
        raise TypeError(f"train: callback must be callable, got {type(callback).__name__}")
    if not isinstance(resume, bool):
        raise TypeError(f"train: resume must be a bool, got {type(resume).__name__}")
    train_core = test_core = None
    if data is not None:
        if (not isinstance(data, (tuple, list)) or len(data) != 2
                or not all(isinstance(d, Dataset) for d in data)):
            raise TypeError("train: data must be a pair (train_set, test_set) of volley.Dataset, "
                            f"got {type(data).__name__}")
        train_core, test_core = data[0]._d, data[1]._d
    r = _volley.train(cfg, out_s, _overrides(set), _opt_int(seed, "seed", 0),
                      _opt_int(epochs, "epochs", 0), _opt_int(train_limit, "train_limit", 1),
                      _opt_int(test_limit, "test_limit", 1), _opt_int(threads, "threads", 1),
                      resume, callback, train_core, test_core)
    stopped = ("diverged" if r["diverged"] else "interrupted" if r["interrupted"]
               else "callback" if r["stopped_by_callback"] else None)
    result = TrainResult(metrics=list(r["metrics"]), weights=dict(r["weights"]),
                         checkpoint=r["checkpoint"], out=r["out"], config=r["config"],
                         epochs_done=r["epochs_done"], test_accuracy=r["test_accuracy"],
                         train_samples=r["train_samples"], test_samples=r["test_samples"],
                         confusion=r.get("confusion"), stopped=stopped, message=r["message"])
    if stopped == "diverged":
        warnings.warn(f"volley.train: {result.message}", RuntimeWarning, stacklevel=2)
    if stopped == "interrupted":
        e = KeyboardInterrupt(f"volley.train interrupted after {result.epochs_done} epochs; "
                              f"checkpoint {result.checkpoint}")
        e.result = result  # type: ignore[attr-defined]
        raise e
    return result


def eval(checkpoint: PathLike, *, data: Union[PathLike, Dataset, None] = None,
         test_limit: Optional[int] = None, threads: Optional[int] = None,
         record: Optional[PathLike] = None, trace_samples: int = 8) -> EvalResult:
    """Evaluates a training checkpoint on its test data, as ``volley eval`` does.

    ``checkpoint``: a ``checkpoint.bin`` or the directory of a run (``out`` of :func:`train` or
    ``volley train --out``). The network is rebuilt from the training file and options stored in
    the checkpoint. ``data``: other test data — the Fashion-MNIST directory, the SHD test file,
    or a :class:`volley.Dataset`; ``test_limit``: the first N test samples; ``threads``: worker
    threads.

    ``record=DIR`` is ``volley eval --record DIR``: DIR/record.h5 receives every layer's spikes on
    every test sample and the membrane traces (V − θ) of the first ``trace_samples`` samples;
    the result's ``record`` is that file read back (:class:`volley.Recording`), and
    :func:`volley.report` on DIR draws rasters, tuning and selectivity from it.

    Raises volley.IoError when the checkpoint cannot be read (or does not fit its network),
    volley.ConfigError when a Dataset does not fit the network.
    """
    ck = _path(checkpoint, "eval: checkpoint")
    if os.path.isdir(ck):
        ck = os.path.join(ck, "checkpoint.bin")
    arrays = data._d if isinstance(data, Dataset) else None
    d = "" if data is None or arrays is not None else _path(data, "eval: data")
    rec = "" if record is None else _path(record, "eval: record")
    r = _volley.evaluate(ck, d, arrays, _opt_int(test_limit, "test_limit", 1),
                         _opt_int(threads, "threads", 1), rec,
                         _int(trace_samples, "trace_samples", 0))
    return EvalResult(accuracy=r["accuracy"], loss=r["loss"], samples=r["samples"],
                      seconds=r["seconds"], confusion=r["confusion"],
                      spikes_per_sample=list(r["spikes_per_sample"]), epochs=r["epochs"],
                      checkpoint=r["checkpoint"], config=r["config"], data=r["data"],
                      weights=dict(r["weights"]),
                      record=None if r["record"] is None else
                      Recording(r["record"], os.path.join(rec, "record.h5")))

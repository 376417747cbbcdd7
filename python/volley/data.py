"""Training data from numpy arrays: :class:`Dataset` (for ``volley.train(..., data=...)`` and
``volley.eval(..., data=...)``) without writing files."""
from __future__ import annotations

import numbers
from typing import Any, Optional, Sequence, Tuple

import numpy as np

from . import _volley
from .network import _int, _seconds


def _labels(labels: Any, what: str) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1 or not (np.issubdtype(y.dtype, np.integer) or y.size == 0):
        raise TypeError(f"{what}: labels must be a 1-d array of integer class indices, got "
                        f"dtype {y.dtype} and shape {y.shape}")
    return y.astype(np.int64, copy=False)


def _n_classes(n_classes: Optional[int], y: np.ndarray, what: str) -> int:
    if n_classes is None:
        if y.size == 0:
            raise ValueError(f"{what}: give n_classes for an empty dataset")
        return int(y.max()) + 1
    return _int(n_classes, f"{what}: n_classes", 1)


class Dataset:
    """Labelled samples for training and evaluation, held in volley's event layout (the one the
    SHD reader fills), so the trainer sees them exactly as it sees data read from files.

    Make one with :meth:`from_events` (spike times and input units per sample, like SHD and
    Tonic's event streams) or :meth:`from_dense` (a ``[samples, steps, inputs]`` tensor, like a
    snnTorch / SpikingJelly batch; nonzero entries become events whose value multiplies the
    weights, so spike counts and analog inputs both work). ``len(ds)``, ``ds.labels``,
    ``ds.sample(i)`` (``steps, units, values`` arrays) and ``ds.dense(i)`` (``[steps, inputs]``)
    read it back. A Dataset is immutable; runs share it without copying.
    """

    def __init__(self, core: Any):
        if not isinstance(core, _volley.Dataset):
            raise TypeError("Dataset: make one with Dataset.from_events(...) or Dataset.from_dense(...)")
        self._d = core

    @classmethod
    def from_events(cls, times: Sequence[Any], units: Sequence[Any], labels: Any, *,
                    n_inputs: int, dt: Any, steps: int, n_classes: Optional[int] = None,
                    values: Optional[Sequence[Any]] = None, clip: bool = False,
                    description: str = "arrays") -> "Dataset":
        """Samples as spike events: sample i has spikes of input ``units[i][k]`` at
        ``times[i][k]`` seconds (arrays of any length, any order), label ``labels[i]``.

        Times are binned to ``steps`` steps of ``dt`` (``"1 ms"``, ``(1, "ms")`` or seconds) by
        ``floor(t / dt)`` — as volley reads SHD files — and spikes of one input in one step merge
        into one event whose value is their count (or the sum of their ``values``, one array per
        sample: analog events). A spike at or after ``steps * dt`` raises ValueError naming the
        sample and index unless ``clip=True`` drops it (the SHD reader's behaviour).
        ``n_classes``: default ``max(labels) + 1``.
        """
        what = "Dataset.from_events"
        y = _labels(labels, what)
        for name, seq in (("times", times), ("units", units)):
            if isinstance(seq, np.ndarray) and seq.dtype != object:
                raise TypeError(f"{what}: {name} must be a sequence of arrays, one per sample "
                                f"(got one {seq.ndim}-d array)")
        if values is not None and isinstance(values, np.ndarray) and values.dtype != object:
            raise TypeError(f"{what}: values must be a sequence of arrays, one per sample")
        if not isinstance(clip, bool):
            raise TypeError(f"{what}: clip must be a bool, got {type(clip).__name__}")
        try:
            t = [np.asarray(x, dtype=np.float64) for x in times]
            u = [np.asarray(x) for x in units]
            v = [] if values is None else [np.asarray(x, dtype=np.float64) for x in values]
        except (TypeError, ValueError) as e:
            raise TypeError(f"{what}: times, units and values must be sequences of numeric "
                            f"arrays ({e})") from None
        for i, a in enumerate(u):
            if a.size and not np.issubdtype(a.dtype, np.integer):
                raise TypeError(f"{what}: units[{i}] must hold integer input indices, got dtype {a.dtype}")
        u = [a.astype(np.int64, copy=False) for a in u]
        core = _volley.dataset_from_events(
            t, u, v, y, _int(n_inputs, f"{what}: n_inputs", 1), _seconds(dt, f"{what}: dt"),
            _int(steps, f"{what}: steps", 1), _n_classes(n_classes, y, what), clip, str(description))
        return cls(core)

    @classmethod
    def from_dense(cls, x: Any, labels: Any, *, n_classes: Optional[int] = None,
                   dt: Any = None, description: str = "arrays") -> "Dataset":
        """Samples as a dense tensor ``x[sample, step, input]`` (any real dtype, stored as
        float32): every nonzero entry is an input event with that value (1 for a spike, a count,
        or an analog value). ``dt`` is informative only (the network's ``dt`` is the training
        file's). ``n_classes``: default ``max(labels) + 1``."""
        what = "Dataset.from_dense"
        a = np.asarray(x)
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise TypeError(f"{what}: x must be a numeric array, got dtype {a.dtype}")
        if a.ndim != 3:
            raise ValueError(f"{what}: x must have shape (samples, steps, inputs), got shape {a.shape}")
        y = _labels(labels, what)
        d = 0.0 if dt is None else _seconds(dt, f"{what}: dt")
        core = _volley.dataset_from_dense(np.ascontiguousarray(a, dtype=np.float32), y,
                                          _n_classes(n_classes, y, what), d, str(description))
        return cls(core)

    def __len__(self) -> int:
        return self._d.size

    @property
    def n_inputs(self) -> int:
        """Input channels."""
        return self._d.n_inputs

    @property
    def n_steps(self) -> int:
        """Time steps per sample."""
        return self._d.n_steps

    @property
    def n_classes(self) -> int:
        """Classes (labels are in ``[0, n_classes)``)."""
        return self._d.n_classes

    @property
    def dt(self) -> Optional[float]:
        """The step the events were binned with (s), None when not given."""
        return self._d.dt or None

    @property
    def total_events(self) -> int:
        """Events of all samples (after merging repeats)."""
        return self._d.total_events

    @property
    def description(self) -> str:
        """What runs and messages call the data."""
        return self._d.description

    @property
    def labels(self) -> np.ndarray:
        """The label of every sample (int64)."""
        return self._d.labels()

    def _index(self, i: Any) -> int:
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise TypeError(f"Dataset: sample index must be an integer, got {type(i).__name__}")
        n = len(self)
        j = int(i) + n if int(i) < 0 else int(i)
        if not 0 <= j < n:
            raise IndexError(f"Dataset: sample {int(i)} is outside the {n} samples")
        return j

    def sample(self, i: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sample i's events: ``steps`` (uint32), ``units`` (uint32), ``values`` (float32), in
        step order."""
        return tuple(self._d.sample(self._index(i)))  # type: ignore[return-value]

    def dense(self, i: int) -> np.ndarray:
        """Sample i as a float32 array ``[steps, inputs]``."""
        return self._d.dense(self._index(i))

    def __repr__(self) -> str:
        return (f"Dataset({len(self)} samples, {self.n_inputs} inputs, {self.n_steps} steps, "
                f"{self.n_classes} classes, {self.total_events} events)")

"""Shared fixtures of the Python tests (run by ctest `python_tests`, or by hand:
PYTHONPATH=build/python /usr/bin/python3 -m pytest -q tests/python)."""
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(os.environ.get("VOLLEY_SOURCE_DIR", Path(__file__).resolve().parents[2]))
EXAMPLES = ROOT / "examples"


def cli_path():
    """The volley CLI: $VOLLEY_CLI (set by ctest), else build/volley, else None."""
    p = os.environ.get("VOLLEY_CLI")
    if p and os.path.exists(p):
        return p
    p = ROOT / "build" / "volley"
    if p.exists():
        return str(p)
    return shutil.which("volley")


@pytest.fixture
def cli():
    p = cli_path()
    if p is None:
        pytest.skip("the volley CLI is not built")
    return p


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    """Every test runs at the repository root (relative paths like examples/cuba.toml)."""
    monkeypatch.chdir(ROOT)


TINY = """
[simulation]
dt = "0.1 ms"
duration = "20 ms"
seed = 7

[populations.P]
model = "lif"
size = 50
tau_m = "20 ms"
v_rest = "-49 mV"
v_th = "-50 mV"
v_reset = "-60 mV"
t_ref = "5 ms"
v_init = { dist = "uniform", low = "-60 mV", high = "-50 mV" }

[populations.P.channels.exc]
tau = "5 ms"

[projections.S]
source = "P"
target = "P"
channel = "exc"
connect = { rule = "fixed_probability", p = 0.1 }
weight = "1 mV"
delay = "1 ms"

[monitors.spikes]
type = "spikes"
population = "P"

[monitors.v]
type = "state"
population = "P"
variables = ["v", "exc"]
indices = [0, 3, 7]
every = "0.5 ms"

[monitors.rate]
type = "rate"
population = "P"
bin = "1 ms"

[monitors.w]
type = "weights"
projection = "S"
every = "1 ms"
"""


@pytest.fixture
def tiny_toml():
    return TINY


# ---- synthetic event data (SHD layout) and a network trained on it ------------------------------

EVENT_NET = """
[network]
dt = "1 ms"
steps = 100
seed = 1

[[layers]]
type = "lif"
size = 24
tau_mem = "20 ms"
tau_syn = "10 ms"

[[layers]]
type = "readout"
size = 3
tau_mem = "20 ms"
tau_syn = "10 ms"

[loss]
kind = "max_ce"

[optimizer]
kind = "adam"
lr = 2e-3

[training]
epochs = 2
batch_size = 32
threads = 2
"""


def poisson_samples(n, seed, n_inputs=30, classes=3, duration=0.106):
    """Spike times (s, float64) and units per sample: input block `label` fires at 40 Hz, the
    rest at 8 Hz; a few spikes fall after 100 ms (the end of the window at 100 steps of 1 ms)."""
    import numpy as np
    r = np.random.default_rng(seed)
    times, units, labels = [], [], []
    block = n_inputs // classes
    for i in range(n):
        y = int(r.integers(classes))
        rates = np.full(n_inputs, 8.0)
        rates[y * block:(y + 1) * block] = 40.0
        counts = r.poisson(rates * duration)
        u = np.repeat(np.arange(n_inputs), counts)
        t = r.uniform(0.0, duration, u.size)
        order = r.permutation(u.size)  # any order
        times.append(t[order])
        units.append(u[order].astype(np.int64))
        labels.append(y)
    return times, units, np.array(labels, dtype=np.int64)


def write_shd(path, times, units, labels):
    import h5py
    import numpy as np
    with h5py.File(path, "w") as f:
        g = f.create_group("spikes")
        t = g.create_dataset("times", (len(times),), dtype=h5py.vlen_dtype(np.float64))
        u = g.create_dataset("units", (len(units),), dtype=h5py.vlen_dtype(np.int64))
        for i in range(len(times)):
            t[i] = times[i]
            u[i] = units[i]
        f.create_dataset("labels", data=labels)


@pytest.fixture(scope="session")
def events_run(tmp_path_factory):
    """Synthetic event data as SHD files and as volley.Dataset, the two training files (shd /
    arrays) and one run trained on the arrays: a dict of paths and objects."""
    pytest.importorskip("h5py")
    import volley
    d = tmp_path_factory.mktemp("events")
    train = poisson_samples(150, 1)
    test = poisson_samples(60, 2)
    write_shd(d / "train.h5", *train)
    write_shd(d / "test.h5", *test)
    (d / "shd.toml").write_text(
        f'[data]\ndataset = "shd"\ntrain = "{d / "train.h5"}"\ntest = "{d / "test.h5"}"\n'
        'inputs = 30\nclasses = 3\n' + EVENT_NET)
    (d / "arrays.toml").write_text(
        '[data]\ndataset = "arrays"\ninputs = 30\nclasses = 3\n' + EVENT_NET)
    kw = dict(n_inputs=30, dt="1 ms", steps=100, n_classes=3, clip=True)
    ds_train = volley.Dataset.from_events(*train, **kw)
    ds_test = volley.Dataset.from_events(*test, **kw)
    run = volley.train(d / "arrays.toml", out=d / "run", data=(ds_train, ds_test))
    return dict(dir=d, train=train, test=test, ds_train=ds_train, ds_test=ds_test, run=run,
                shd_toml=d / "shd.toml", arrays_toml=d / "arrays.toml")

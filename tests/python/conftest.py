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

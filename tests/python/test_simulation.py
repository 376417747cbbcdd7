"""volley from Python: the same results as `volley sim`, runs in pieces, monitors, arrays."""
import gc
import json
import math
import subprocess

import numpy as np
import pytest

import volley
from conftest import EXAMPLES, TINY


def test_cuba_spikes_equal_the_cli(cli, tmp_path):
    """examples/cuba.toml shortened to 200 ms: spikes identical to the CLI's spikes.h5, and the
    summary equal to its summary.json but for the timings."""
    h5py = pytest.importorskip("h5py")
    out = tmp_path / "cli"
    subprocess.run([cli, "sim", "examples/cuba.toml", "--set", 'simulation.duration="200 ms"',
                    "--out", str(out), "-q"], check=True)
    net = volley.load("examples/cuba.toml", set={"simulation.duration": "200 ms"})
    assert net.duration == pytest.approx(0.2)
    net.run()
    times, units = net.spikes("P")
    with h5py.File(out / "spikes.h5", "r") as f:
        ref_t, ref_u = f["P/times"][:], f["P/units"][:]
    assert len(times) > 1000
    assert times.dtype == np.float64 and units.dtype == np.uint32
    np.testing.assert_array_equal(times, ref_t)
    np.testing.assert_array_equal(units, ref_u)
    # by monitor name as well as by population name
    np.testing.assert_array_equal(net.spikes("spikes").times, ref_t)

    mine = net.summary()
    with open(out / "summary.json") as f:
        theirs = json.load(f)
    for s in (mine, theirs):
        for k in ("wall_seconds", "build_seconds", "peak_rss_bytes", "compile_seconds", "phases"):
            s.pop(k, None)
    assert mine == theirs


def test_run_in_two_pieces_equals_one_run():
    one = volley.loads(TINY)
    one.run("20 ms")
    two = volley.loads(TINY)
    two.run("7 ms")
    assert two.t == pytest.approx(0.007)
    two.run(0.013)  # float seconds
    assert two.t == pytest.approx(one.t)
    a, b = one.spikes("P"), two.spikes("P")
    assert len(a.times) > 5
    np.testing.assert_array_equal(a.times, b.times)
    np.testing.assert_array_equal(a.units, b.units)
    np.testing.assert_array_equal(one.state("v").v, two.state("v").v)
    np.testing.assert_array_equal(one.rate("rate").rate, two.rate("rate").rate)
    np.testing.assert_array_equal(one.weights("w").w, two.weights("w").w)
    np.testing.assert_array_equal(one.population("P").variable("v"),
                                  two.population("P").variable("v"))


def test_long_runs_in_parts_equal_one_native_run():
    """A run long enough to be split into interruptible parts gives what one part gives."""
    a = volley.load("examples/cuba.toml")
    a.run("2 s")
    b = volley.load("examples/cuba.toml")
    for _ in range(4):
        b.run("0.5 s")
    np.testing.assert_array_equal(a.spikes("P").times, b.spikes("P").times)
    np.testing.assert_array_equal(a.spikes("P").units, b.spikes("P").units)


def test_time_units_and_properties():
    net = volley.loads(TINY)
    assert net.dt == pytest.approx(1e-4)
    assert net.seed == 7
    assert net.t == 0.0
    net.run((2, "ms"))
    net.run("3 ms")
    net.run(0.001)
    assert net.step == 60
    assert net.t == pytest.approx(0.006)
    assert volley.loads(TINY, seed=11).seed == 11
    assert volley.loads(TINY, duration="5 ms").duration == pytest.approx(0.005)
    net.threads = 2
    assert net.threads == 2
    assert set(net.monitors) == {"spikes", "v", "rate", "w"}
    assert net.monitors["v"] == "state"


def test_monitors():
    net = volley.loads(TINY)
    net.run("20 ms")
    st = net.state("v")
    assert st.variables == ("v", "exc")
    assert st.v.shape == (3, len(st.t)) and st.v.dtype == np.float32
    assert len(st.t) == 40
    assert st.units["v"] == "V"
    np.testing.assert_array_equal(st.indices, [0, 3, 7])
    assert np.all((st.v > -0.07) & (st.v < -0.04))
    assert st["exc"] is st.exc
    r = net.rate("rate")
    assert len(r.t) == 20 and np.all(r.rate >= 0)
    n_spikes = len(net.spikes("P").times)
    assert r.rate.sum() * 1e-3 * 50 == pytest.approx(n_spikes)
    w = net.weights("w")
    syn = net.projection("S").synapse_count
    assert w.w.shape == (syn, 20)
    assert w.unit == "V" and w.projection == "S"
    np.testing.assert_allclose(w.w[:, -1], 1e-3, rtol=1e-6)
    np.testing.assert_allclose(w.mean, 1e-3, rtol=1e-6)


def test_population_and_projection_access():
    net = volley.loads(TINY)
    p = net.population("P")
    assert (p.name, p.model, p.size, len(p)) == ("P", "lif", 50, 50)
    assert "v" in p.variables and "exc" in p.channels
    v = p.variable("v")
    assert v.shape == (50,) and v.dtype == np.float64
    assert np.all((v >= -0.06) & (v <= -0.05))
    assert p.unit("v") == "V"
    p.set_variable("v", "-55 mV")
    np.testing.assert_allclose(p.variable("v"), -0.055, rtol=1e-6)
    p.set_variable("v", np.linspace(-0.06, -0.051, 50))
    np.testing.assert_allclose(p.variable("v"), np.linspace(-0.06, -0.051, 50), rtol=1e-6)

    s = net.projection("S")
    n = s.synapse_count
    assert n == len(s) and n > 100
    pre, post = s.pre, s.post
    assert pre.shape == post.shape == (n,)
    assert np.all(np.diff(pre.astype(np.int64)) >= 0)  # CSR order
    assert pre.max() < 50 and post.max() < 50
    w = s.weights
    assert w.shape == (n,) and s.weight_unit == "V"
    np.testing.assert_allclose(w, 1e-3, rtol=1e-6)
    np.testing.assert_allclose(s.delays, 1e-3)
    s.weights = np.full(n, 2e-3)
    np.testing.assert_allclose(s.weights, 2e-3, rtol=1e-6)
    s.weights = "0.5 mV"
    np.testing.assert_allclose(s.weights, 5e-4, rtol=1e-6)
    s.add_synapses([0, 1], [2, 3], "1 mV", "1 ms")
    assert s.synapse_count == n + 2
    assert s.source == "P" and s.target == "P" and s.channel == "exc"
    assert set(net.populations) == {"P"} and set(net.projections) == {"S"}
    net.run("20 ms")
    assert s.events > 0 and p.spike_count == len(net.spikes("P").times)


def test_changed_weights_change_the_run():
    """Weights set between runs are used: silencing the recurrent input changes the spikes."""
    a = volley.loads(TINY)
    b = volley.loads(TINY)
    b.projection("S").weights = 0.0
    a.run("20 ms")
    b.run("20 ms")
    assert not np.array_equal(a.spikes("P").times, b.spikes("P").times)


def test_arrays_outlive_the_network():
    net = volley.loads(TINY)
    net.run("20 ms")
    times, units = net.spikes("P")
    st = net.state("v")
    w = net.projection("S").weights
    v = net.population("P").variable("v")
    copies = [times.copy(), units.copy(), st.v.copy(), w.copy(), v.copy()]
    pop = net.population("P")
    del net
    gc.collect()
    # fill the freed memory with something else
    others = [volley.loads(TINY, seed=s) for s in range(3)]
    for o in others:
        o.run("20 ms")
    for a, c in zip([times, units, st.v, w, v], copies):
        np.testing.assert_array_equal(a, c)
    assert times.flags.owndata or times.base is not None
    # views keep their network alive
    assert pop.size == 50 and pop.variable("v").shape == (50,)


def test_model_builder_equals_the_model_file():
    """CUBA written with volley.Model gives the spikes of examples/cuba.toml."""
    m = volley.Model(dt="0.1 ms", duration=(200, "ms"), seed=1, threads=1)
    m.population("P", model="lif", size=4000, tau_m="20 ms", v_rest=(-49, "mV"),
                 v_th="-50 mV", v_reset="-60 mV", t_ref="5 ms",
                 v_init={"dist": "uniform", "low": "-60 mV", "high": "-50 mV"},
                 channels={"exc": {"tau": "5 ms"}, "inh": {"tau": (10, "ms")}})
    m.projection("Ce", source="P[0:3200]", target="P", channel="exc",
                 connect={"rule": "fixed_probability", "p": 0.02}, weight="1.62 mV")
    m.projection("Ci", source="P[3200:]", target="P", channel="inh",
                 connect={"rule": "fixed_probability", "p": 0.02}, weight=(-9.0, "mV"))
    m.monitor("spikes", type="spikes", population="P")
    text = m.to_toml()
    assert "[populations.P]" in text and 'weight = "-9.0 mV"' in text
    net = m.build()
    net.run()
    ref = volley.load(EXAMPLES / "cuba.toml", duration="200 ms")
    ref.run()
    np.testing.assert_array_equal(net.spikes("P").times, ref.spikes("P").times)
    np.testing.assert_array_equal(net.spikes("P").units, ref.spikes("P").units)


def test_model_builder_inputs_and_save(tmp_path, cli):
    m = volley.Model(dt="0.1 ms", duration="50 ms")
    m.population("N", model="lif", size=10, R="100 MOhm")
    m.input("drive", type="current", target="N[0:5]", amplitude="0.3 nA")
    m.input("noise", type="poisson_input", target="N", channel="exc", n=100, rate="10 Hz",
            weight="0.5 mV")
    m.monitor("s", type="spikes", population="N")
    path = tmp_path / "m.toml"
    m.save(path)
    net = volley.load(path)
    net.run()
    h5py = pytest.importorskip("h5py")
    subprocess.run([cli, "sim", str(path), "--out", str(tmp_path / "o"), "-q"], check=True)
    with h5py.File(tmp_path / "o" / "spikes.h5", "r") as f:
        np.testing.assert_array_equal(net.spikes("s").times, f["N/times"][:])


def test_synapse_equations_variables():
    net = volley.load(EXAMPLES / "stdp_equations.toml", duration="1 s")
    net.run()
    s = net.projection("S")
    w = s.synapse_variable("w")
    assert w.shape == (s.synapse_count,)
    np.testing.assert_allclose(w, s.weights, rtol=1e-6, atol=1e-9)
    assert s.synapse_variable("Apre").shape == (s.synapse_count,)
    with pytest.raises(volley.ParameterError, match="Apre"):
        s.synapse_variable("nope")


def test_summary_fields():
    net = volley.loads(TINY)
    net.run("20 ms")
    s = net.summary()
    assert s["duration"] == pytest.approx(0.02)
    assert s["model"] == "<string>"
    p = s["populations"]["P"]
    assert p["spikes"] == len(net.spikes("P").times)
    assert p["rate_hz"] == pytest.approx(p["spikes"] / (50 * 0.02))
    assert s["projections"]["S"]["synapses"] == net.projection("S").synapse_count
    assert math.isfinite(s["wall_seconds"])

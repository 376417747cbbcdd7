"""Results from Python (issue 20): volley.analysis against `volley analyze` and against direct
numpy computations, volley.report, volley.export (simulated with volley.load, spike for spike
against the trainer's recording) and the NIR round trip."""
import gc
import json
import subprocess

import numpy as np
import pytest

import volley
from volley import analysis


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory):
    """examples/cuba.toml for 300 ms through the CLI: spikes.h5 and summary.json."""
    from conftest import cli_path
    cli = cli_path()
    if cli is None:
        pytest.skip("the volley CLI is not built")
    d = tmp_path_factory.mktemp("cuba")
    subprocess.run([cli, "sim", "examples/cuba.toml", "--out", str(d), "--set",
                    "simulation.duration=\"300 ms\""], check=True, capture_output=True)
    return d


def test_statistics_equal_volley_analyze(sim_dir, cli):
    rec = volley.read_recording(sim_dir / "spikes.h5")
    p = rec["P"]
    assert p.size == 4000 and rec.duration == pytest.approx(0.3)
    mine = analysis.statistics(p.times, p.units, p.size, rec.duration)
    out = subprocess.run([cli, "analyze", str(sim_dir / "spikes.h5"), "--json"], check=True,
                         capture_output=True, text=True).stdout
    theirs = json.loads(out)["populations"]["P"]
    assert set(mine) <= set(theirs)
    for k, v in mine.items():
        if theirs[k] is None:
            assert np.isnan(v), k
        else:
            assert v == theirs[k], k
    assert mine["n_spikes"] == len(p.times) > 1000
    assert set(analysis.statistics_units()) == set(mine)
    assert analysis.statistics_units()["rate_mean"] == "Hz"


def test_statistics_against_direct_computation(sim_dir):
    p = volley.read_recording(sim_dir / "spikes.h5")["P"]
    T = 0.3
    rates = analysis.firing_rates(p.times, p.units, 4000, T)
    np.testing.assert_allclose(rates, np.bincount(p.units, minlength=4000) / T)
    cv = analysis.cv_isi(p.times, p.units, 4000, "300 ms")
    i = int(np.argmax(np.bincount(p.units, minlength=4000)))
    isi = np.diff(np.sort(p.times[p.units == i]))
    assert cv.cv[i] == pytest.approx(isi.std() / isi.mean(), rel=1e-12)
    assert cv.neurons_used == int(np.sum(np.isfinite(cv.cv)))
    pr = analysis.population_rate(p.times, p.units, 4000, T, "1 ms")
    assert len(pr.t) == 300 and pr.t[0] == pytest.approx(0.0005)
    assert pr.rate.sum() * 1e-3 * 4000 == pytest.approx(np.sum(p.times < 0.3))
    h = analysis.isi_histogram(p.times, p.units, 4000, T, "1 ms", "100 ms")
    assert h.counts.sum() + h.overflow == sum(
        max(np.sum(p.units == n) - 1, 0) for n in np.unique(p.units))
    # a periodic train: CV 0, Fano 0 with windows that are multiples of the period; a perfect
    # copy of it: synchrony 1
    t = np.arange(0.005, 1.0, 0.01)
    per = analysis.cv_isi(t, np.zeros(t.size, dtype=int), 1, 1.0)
    assert per.cv[0] == pytest.approx(0.0, abs=1e-9)
    ff = analysis.fano_factor(t, np.zeros(t.size, dtype=int), 1, 1.0, "100 ms")
    assert ff.fano[0] == pytest.approx(0.0, abs=1e-12) and ff.windows == 10
    both = analysis.synchrony(np.concatenate([t, t]), np.repeat([0, 1], t.size), 2, 1.0)
    assert both.chi == pytest.approx(1.0) and both.neurons_used == 2
    sp = analysis.rate_spectrum(np.sin(2 * np.pi * 50 * np.arange(1000) * 1e-3), "1 ms")
    assert sp.peak == pytest.approx(50.0)
    c = analysis.spike_count_correlations(np.concatenate([t, t]), np.repeat([0, 1], t.size), 2,
                                          1.0, 0.1)
    assert c.pairs.tolist() == [[0, 1]]


def test_analysis_refuses_bad_input_with_what_is_wrong():
    with pytest.raises(ValueError, match=r"units\[1\] = 5 is outside \[0, n_neurons = 5\)"):
        analysis.firing_rates([0.1, 0.2], [0, 5], 5, 1.0)
    with pytest.raises(ValueError, match="same length"):
        analysis.firing_rates([0.1, 0.2], [0], 5, 1.0)
    with pytest.raises(ValueError):  # a spike after t_stop (volley's ParameterError)
        analysis.firing_rates([1.5], [0], 5, 1.0)
    with pytest.raises(ValueError, match="window: must be a time > 0"):
        analysis.fano_factor([0.1], [0], 1, 1.0, 0)
    with pytest.raises(volley.UnitError):
        analysis.population_rate([0.1], [0], 1, 1.0, "1 mV")
    with pytest.raises(TypeError, match="integer neuron indices"):
        analysis.cv_isi([0.1], [0.5], 1, 1.0)


def test_tuning_is_the_class_mean_of_counts():
    counts = np.array([[3, 0], [5, 0], [0, 4], [0, 2]])
    tu = analysis.tuning(counts, [0, 0, 1, 1])
    np.testing.assert_allclose(tu.curves, [[4, 0], [0, 3]])
    np.testing.assert_allclose(tu.selectivity, [1, 1])
    assert tu.preferred.tolist() == [0, 1]
    with pytest.raises(ValueError, match=r"labels\[1\] = 2"):
        analysis.tuning(counts, [0, 2, 1, 1], n_classes=2)


def test_report_of_a_simulation_and_of_a_recorded_network(sim_dir, events_run, tmp_path):
    if not __import__("shutil").which("gnuplot"):
        pytest.skip("volley report needs gnuplot")
    r = volley.report(sim_dir)
    assert "simulation" in r.kinds and r.html.endswith("report.html") and r.bytes > 10000
    assert (sim_dir / "report.html").stat().st_size == r.bytes
    assert all(f.endswith(".svg") for f in r.figures) and len(r.figures) >= 3
    volley.eval(events_run["run"].checkpoint, data=events_run["ds_test"], record=tmp_path / "rec")
    r = volley.report(tmp_path / "rec", tmp_path / "other.html")
    assert r.kinds == ["recording"] and (tmp_path / "other.html").exists()
    r = volley.report(events_run["run"].out)
    assert "training" in r.kinds
    with pytest.raises(volley.IoError, match="nothing_here' is not a directory"):
        volley.report(tmp_path / "nothing_here")
    (tmp_path / "empty").mkdir()
    with pytest.raises(volley.IoError, match="holds no volley results"):
        volley.report(tmp_path / "empty")


def test_export_simulates_the_trainer_spike_for_spike(events_run, tmp_path):
    ck = events_run["run"].checkpoint
    n = 4
    lay = volley.export(ck, tmp_path / "exp", samples=n, data=events_run["ds_test"])
    assert lay["samples"] == list(range(n)) and lay["layers"] == 2 and lay["steps"] == 100
    net = volley.load(lay["model"])
    net.run()
    W, T = lay["window"], lay["steps"]
    rec = volley.eval(ck, data=events_run["ds_test"], test_limit=n, record=tmp_path / "rec").record
    times, units = net.spikes("layer0")
    s = np.rint(times / lay["dt"]).astype(int)
    k, t = s // W, s % W - 1  # layer 0 does its step t at k*W + t + 1
    keep = (t >= 0) & (t < T)  # after its T steps a sample's window runs on until the next one
    sim = sorted(zip(k[keep].tolist(), t[keep].tolist(), units[keep].tolist()))
    r = rec["layer0"]
    rs = np.rint(r.times / rec.dt).astype(int)
    trainer = sorted(zip((rs // T).tolist(), (rs % T).tolist(), r.units.tolist()))
    assert len(trainer) > 20 and sim == trainer


def test_nir_round_trip_gives_the_same_network(events_run, tmp_path):
    ck = events_run["run"].checkpoint
    info = volley.export_nir(ck, tmp_path / "net.nir")
    assert info["n_inputs"] == 30 and info["layers"] == 2 and info["dt"] == pytest.approx(1e-3)
    imp = volley.import_nir(tmp_path / "net.nir", tmp_path / "imp", dt="1 ms", steps=100,
                            train=events_run["arrays_toml"])
    assert {"network.toml", "model.toml", "checkpoint.bin"} <= set(imp["written"])
    assert any("given by the program" in n for n in imp["notes"])
    assert imp["n_inputs"] == 30 and imp["layers"] == 2
    a = volley.eval(ck, data=events_run["ds_test"])
    b = volley.eval(tmp_path / "imp", data=events_run["ds_test"])
    for k in ("layer0.w", "layer1.w"):
        np.testing.assert_array_equal(a.weights[k], b.weights[k])  # bit for bit
    assert (a.accuracy, a.loss) == (b.accuracy, b.loss)
    with pytest.raises(volley.IoError):
        volley.import_nir(tmp_path / "missing.nir", tmp_path / "x", dt="1 ms")


def test_recording_arrays_are_views_that_outlive_the_recording(sim_dir):
    rec = volley.read_recording(sim_dir / "spikes.h5")
    t = rec["P"].times
    assert not t.flags.owndata  # handed over from C++ without a copy
    keep = t.copy()
    del rec
    gc.collect()
    np.testing.assert_array_equal(t, keep)
    with pytest.raises(volley.IoError):
        volley.read_recording(sim_dir / "no.h5")

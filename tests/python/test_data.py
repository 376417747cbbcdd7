"""volley.Dataset: training and evaluation on numpy arrays (issue 20), checked against the same
samples read from SHD files by volley's own reader, and `volley.eval(record=...)` against
`volley eval --record`."""
import gc
import json
import subprocess

import numpy as np
import pytest

import volley
from conftest import EVENT_NET, poisson_samples

# timings, and what differs between runs of different lengths
TIMINGS = {"epoch_seconds", "samples_per_second", "test_seconds", "checkpoint", "epochs"}


def results(metrics):
    return [{k: v for k, v in m.items() if k not in TIMINGS} for m in metrics]


def test_arrays_train_exactly_as_the_same_samples_in_a_file(events_run, tmp_path):
    r_file = volley.train(events_run["shd_toml"], out=tmp_path / "file")
    r_arr = events_run["run"]
    assert len(r_arr.metrics) == 2
    assert results(r_arr.metrics) == results(r_file.metrics)  # every number, both epochs
    assert r_arr.train_samples == 150 and r_arr.test_samples == 60
    for k, w in r_file.weights.items():
        np.testing.assert_array_equal(r_arr.weights[k], w)
    assert r_arr.metrics[-1]["test_acc"] > 0.6  # it learned the task (chance is 1/3)
    # eval on the arrays = eval on the file's test set
    e_arr = volley.eval(r_arr.checkpoint, data=events_run["ds_test"])
    e_file = volley.eval(r_file.checkpoint)
    assert (e_arr.accuracy, e_arr.loss) == (e_file.accuracy, e_file.loss)
    assert e_arr.accuracy == r_arr.test_accuracy
    assert e_arr.data == "arrays"
    # limits take the first samples, as the CLI's do
    e5 = volley.eval(r_arr.checkpoint, data=events_run["ds_test"], test_limit=5)
    assert e5.samples == 5


def test_from_events_bins_like_the_shd_reader():
    times = [np.array([0.0004, 0.0015, 0.0019, 0.0999, 0.0015]), np.array([0.05])]
    units = [np.array([2, 1, 1, 0, 3]), np.array([4])]
    ds = volley.Dataset.from_events(times, units, [1, 0], n_inputs=5, dt="1 ms", steps=100)
    steps, u, v = ds.sample(0)
    # sorted by (step, unit); the two spikes of input 1 in step 1 merged into a count of 2
    assert steps.tolist() == [0, 1, 1, 99] and u.tolist() == [2, 1, 3, 0]
    assert v.tolist() == [1.0, 2.0, 1.0, 1.0]
    assert steps.dtype == np.uint32 and v.dtype == np.float32
    assert ds.labels.tolist() == [1, 0] and ds.n_classes == 2 and ds.total_events == 5
    x = ds.dense(0)
    assert x.shape == (100, 5) and x[1, 1] == 2.0 and x.sum() == 5.0
    assert ds.dense(-1)[50, 4] == 1.0
    # a spike at the end of the window: an error naming it, or dropped with clip=True
    late = [np.array([0.01, 0.1])]
    with pytest.raises(ValueError, match=r"sample 0: times\[1\] = 0.1.* clip=True"):
        volley.Dataset.from_events(late, [np.array([0, 1])], [0], n_inputs=2, dt=0.001, steps=100)
    ds = volley.Dataset.from_events(late, [np.array([0, 1])], [0], n_inputs=2, dt=0.001,
                                    steps=100, clip=True, n_classes=2)
    assert ds.total_events == 1
    # analog values add
    ds = volley.Dataset.from_events([np.array([0.0, 0.0002])], [np.array([0, 0])], [0],
                                    n_inputs=1, dt=(1, "ms"), steps=2,
                                    values=[np.array([0.25, 0.5])])
    assert ds.sample(0)[2].tolist() == [0.75]


def test_from_dense_equals_from_events(events_run, tmp_path):
    ds = events_run["ds_train"]
    x = np.stack([ds.dense(i) for i in range(len(ds))])
    dense = volley.Dataset.from_dense(x, ds.labels, n_classes=3)
    assert len(dense) == len(ds) and dense.total_events == ds.total_events
    for i in (0, 7, len(ds) - 1):
        for a, b in zip(dense.sample(i), ds.sample(i)):
            np.testing.assert_array_equal(a, b)
    # the same events: the same training, number for number
    xt = np.stack([events_run["ds_test"].dense(i) for i in range(len(events_run["ds_test"]))])
    dtest = volley.Dataset.from_dense(xt, events_run["ds_test"].labels, n_classes=3)
    r = volley.train(events_run["arrays_toml"], out=tmp_path / "dense", data=(dense, dtest),
                     epochs=1)
    assert results(r.metrics) == results(events_run["run"].metrics[:1])


def test_bad_arrays_are_refused_with_what_is_wrong(events_run, tmp_path):
    t, u, y = poisson_samples(4, 3)
    kw = dict(n_inputs=30, dt="1 ms", steps=100, clip=True)
    with pytest.raises(ValueError, match=r"labels\[2\] = 7 is outside \[0, n_classes = 3\)"):
        volley.Dataset.from_events(t, u, [0, 1, 7, 0], n_classes=3, **kw)
    bad = [a.copy() for a in u]
    bad[1][0] = 30
    with pytest.raises(ValueError, match=r"sample 1: units\[0\] = 30 is outside \[0, n_inputs = 30\)"):
        volley.Dataset.from_events(t, bad, y, **kw)
    with pytest.raises(ValueError, match="same length"):
        volley.Dataset.from_events(t, [a[:-1] for a in u], y, **kw)
    with pytest.raises(ValueError, match="not a finite time"):
        volley.Dataset.from_events([np.array([-0.001])], [np.array([0])], [0], **kw)
    with pytest.raises(TypeError, match="integer input indices"):
        volley.Dataset.from_events([np.array([0.0])], [np.array([0.5])], [0], **kw)
    with pytest.raises(TypeError, match="sequence of arrays"):
        volley.Dataset.from_events(np.zeros(3), u[:1], [0], **kw)
    with pytest.raises(ValueError, match=r"shape \(samples, steps, inputs\)"):
        volley.Dataset.from_dense(np.zeros((4, 10)), [0, 0, 0, 0])
    with pytest.raises(ValueError, match=r"x\[0, 1, 2\] is not finite"):
        x = np.zeros((1, 3, 4))
        x[0, 1, 2] = np.nan
        volley.Dataset.from_dense(x, [0], n_classes=2)
    with pytest.raises(volley.UnitError):
        volley.Dataset.from_events(t, u, y, n_inputs=30, dt="1 mV", steps=100)
    with pytest.raises(IndexError):
        events_run["ds_test"].sample(60)
    # data that do not fit the training file's network
    short = volley.Dataset.from_events(t, u, y, n_inputs=30, dt="1 ms", steps=50, clip=True,
                                       n_classes=3)
    with pytest.raises(volley.ConfigError, match="disagree with the network"):
        volley.train(events_run["arrays_toml"], out=tmp_path / "a", data=(short, short))
    with pytest.raises(volley.ConfigError, match="do not fit the network"):
        volley.eval(events_run["run"].checkpoint, data=short)
    with pytest.raises(TypeError, match="pair"):
        volley.train(events_run["arrays_toml"], out=tmp_path / "b", data=events_run["ds_train"])


def test_an_arrays_file_without_arrays_says_where_the_data_must_come_from(events_run, cli, tmp_path):
    with pytest.raises(volley.ConfigError, match=r'dataset = "arrays".*volley.train\(..., data='):
        volley.train(events_run["arrays_toml"], out=tmp_path / "x")
    p = subprocess.run([cli, "train", str(events_run["arrays_toml"]), "--out", str(tmp_path / "y")],
                       capture_output=True, text=True)
    assert p.returncode != 0 and 'dataset = "arrays"' in p.stderr
    # a run on arrays is not resumed by the CLI, which cannot have them
    p = subprocess.run([cli, "train", str(events_run["arrays_toml"]), "--out",
                        str(events_run["dir"] / "run"), "--resume"], capture_output=True, text=True)
    assert p.returncode != 0


def test_resume_from_python_with_the_same_arrays(events_run, tmp_path):
    out = tmp_path / "r"
    data = (events_run["ds_train"], events_run["ds_test"])
    volley.train(events_run["arrays_toml"], out=out, data=data, epochs=1)
    r = volley.train(events_run["arrays_toml"], out=out, data=data, epochs=2, resume=True)
    assert r.epochs_done == 2
    assert results(r.metrics) == results(events_run["run"].metrics[1:])


def test_record_equals_volley_eval_record(events_run, cli, tmp_path):
    ck = events_run["run"].checkpoint
    # the CLI records the training file's test data: here the SHD file with the same samples
    shd_run = volley.train(events_run["shd_toml"], out=tmp_path / "shd")
    subprocess.run([cli, "eval", shd_run.checkpoint, "--record", str(tmp_path / "cli")],
                   check=True, capture_output=True)
    e = volley.eval(ck, data=events_run["ds_test"], record=tmp_path / "py")
    mine, theirs = e.record, volley.read_recording(tmp_path / "cli" / "record.h5")
    assert set(mine.populations) == set(theirs.populations) == {"input", "layer0", "output"}
    for name in mine.populations:
        a, b = mine[name], theirs[name]
        for k in ("times", "units", "samples"):
            np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
        for m, s in b.states.items():
            for var, values in s.values.items():
                np.testing.assert_array_equal(a.states[m].values[var], values)
    np.testing.assert_array_equal(mine.labels, theirs.labels)
    np.testing.assert_array_equal(mine.predictions, theirs.predictions)
    assert mine.accuracy == e.accuracy
    assert mine.labels.tolist() == events_run["ds_test"].labels.tolist()
    # traces: V - theta of the layer, Brian2's layout (neurons, time), 8 samples of 100 steps
    tr = mine["layer0"].state("trace")
    assert tr.u.shape == (24, 800) and not tr.u.flags.owndata
    # per-sample counts from the spikes
    c = mine["layer0"].counts()
    assert c.shape == (60, 24) and c.sum() == len(mine["layer0"].times)
    spikes = np.array(e.spikes_per_sample)
    assert c.sum() / 60 == pytest.approx(spikes[0])


def test_arrays_survive_their_objects(events_run, tmp_path):
    e = volley.eval(events_run["run"].checkpoint, data=events_run["ds_test"], record=tmp_path / "r")
    times = e.record["layer0"].times
    u = e.record["layer0"].state().u
    copy_t, copy_u = times.copy(), u.copy()
    del e
    gc.collect()
    np.testing.assert_array_equal(times, copy_t)
    np.testing.assert_array_equal(u, copy_u)
    ds = volley.Dataset.from_events(*poisson_samples(3, 5), n_inputs=30, dt="1 ms", steps=100,
                                    clip=True)
    s = ds.sample(1)
    keep = [a.copy() for a in s]
    del ds
    gc.collect()
    for a, b in zip(s, keep):
        np.testing.assert_array_equal(a, b)

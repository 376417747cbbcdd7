"""volley.train / volley.eval: the same results as `volley train` / `volley eval` (issue 20).

Needs Fashion-MNIST from Debian's dataset-fashion-mnist (skipped without it), as the CLI tests
(tests/cli/cli_test.sh) do. Small limits keep every run well under a second."""
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import volley

FM = Path("/usr/share/datasets/fashion-mnist")
CONFIG = "examples/fmnist.toml"
LIMITS = dict(train_limit=512, test_limit=256)
CLI_LIMITS = ["--train-limit", "512", "--test-limit", "256"]
# metrics.jsonl fields that are timings, not results
TIMINGS = {"epoch_seconds", "samples_per_second", "test_seconds"}

needs_data = pytest.mark.skipif(
    not (FM / "train-images-idx3-ubyte.gz").exists(),
    reason=f"needs {FM} (apt-get install dataset-fashion-mnist)")


def metrics_lines(d):
    return [json.loads(line) for line in Path(d, "metrics.jsonl").read_text().splitlines()]


def results_only(m):
    return {k: v for k, v in m.items() if k not in TIMINGS}


@needs_data
def test_metrics_equal_the_cli(cli, tmp_path):
    calls = []
    r = volley.train(CONFIG, out=tmp_path / "py", epochs=2, **LIMITS, callback=calls.append)
    subprocess.run([cli, "train", CONFIG, "--out", str(tmp_path / "cli"), "--epochs", "2",
                    *CLI_LIMITS], check=True, capture_output=True)
    py_lines, cli_lines = metrics_lines(tmp_path / "py"), metrics_lines(tmp_path / "cli")
    assert len(py_lines) == len(cli_lines) == 2
    # every number of the metrics file, exactly (the same trainer, same data, same order)
    assert [results_only(m) for m in py_lines] == [results_only(m) for m in cli_lines]
    for mine, theirs in zip(r.metrics, cli_lines):
        for k, v in results_only(theirs).items():
            assert mine[k] == v, k
    assert r.epochs_done == 2 and r.stopped is None
    assert r.test_accuracy == cli_lines[-1]["test_acc"]
    assert r.train_samples == 512 and r.test_samples == 256
    assert r.checkpoint == str(tmp_path / "py" / "checkpoint.bin")
    # the summary the CLI writes, with the same results
    s_py = json.loads(Path(tmp_path / "py" / "summary.json").read_text())
    s_cli = json.loads(Path(tmp_path / "cli" / "summary.json").read_text())
    for k in ("epochs", "test_acc", "test_loss", "test_samples", "train_samples", "synapses",
              "trainable_parameters", "spikes_per_sample", "confusion"):
        assert s_py[k] == s_cli[k], k
    assert r.confusion.tolist() == s_cli["confusion"]
    # the checkpoints hold the same parameters: eval gives the same numbers for both
    e_py, e_cli = volley.eval(tmp_path / "py"), volley.eval(tmp_path / "cli" / "checkpoint.bin")
    assert (e_py.accuracy, e_py.loss) == (e_cli.accuracy, e_cli.loss)
    for k in r.weights:
        np.testing.assert_array_equal(e_cli.weights[k], r.weights[k])


@needs_data
def test_eval_equals_the_cli(cli, tmp_path):
    r = volley.train(CONFIG, out=tmp_path / "run", epochs=1, **LIMITS)
    out = tmp_path / "eval.json"
    subprocess.run([cli, "eval", r.checkpoint, "--test-limit", "128", "--out", str(out)],
                   check=True, capture_output=True)
    theirs = json.loads(out.read_text())
    mine = volley.eval(r.checkpoint, test_limit=128)
    assert mine.samples == theirs["samples"] == 128
    assert mine.accuracy == theirs["accuracy"]
    assert mine.loss == theirs["loss"]
    assert mine.confusion.flatten().tolist() == theirs["confusion"]
    assert mine.epochs == 1
    # the whole (limited) test set: what training reported after the epoch
    assert volley.eval(r.checkpoint).accuracy == r.metrics[-1]["test_acc"]


@needs_data
def test_callback_once_per_epoch(tmp_path):
    seen = []
    r = volley.train(CONFIG, out=tmp_path, epochs=3, **LIMITS, callback=seen.append)
    assert [m["epoch"] for m in seen] == [1, 2, 3]
    assert all(m["epochs"] == 3 for m in seen)
    for m in seen:
        assert set(m) >= {"train_loss", "train_acc", "test_acc", "test_loss", "epoch_seconds",
                          "samples_per_second", "test_seconds", "active_fraction", "lr"}
        assert 0.0 <= m["test_acc"] <= 1.0 and m["epoch_seconds"] > 0
        assert os.path.exists(m["checkpoint"])  # written before the callback
    assert seen == r.metrics


@needs_data
def test_callback_false_stops_with_the_checkpoint_kept(tmp_path):
    seen = []

    def stop_after_first(m):
        seen.append(m["epoch"])
        return False

    r = volley.train(CONFIG, out=tmp_path, epochs=5, **LIMITS, callback=stop_after_first)
    assert seen == [1]
    assert r.epochs_done == 1 and r.stopped == "callback" and len(r.metrics) == 1
    assert len(metrics_lines(tmp_path)) == 1
    e = volley.eval(r.checkpoint)
    assert e.epochs == 1 and e.accuracy == r.metrics[0]["test_acc"]
    assert r.confusion.tolist() == e.confusion.tolist()
    # None (or anything but False) goes on
    r2 = volley.train(CONFIG, out=tmp_path / "on", epochs=2, **LIMITS, callback=lambda m: None)
    assert r2.epochs_done == 2 and r2.stopped is None


@needs_data
def test_keyboard_interrupt_in_the_callback(tmp_path):
    def interrupt(m):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as info:
        volley.train(CONFIG, out=tmp_path, epochs=3, **LIMITS, callback=interrupt)
    r = info.value.result
    assert r.epochs_done == 1 and r.stopped == "interrupted"
    assert volley.eval(tmp_path).epochs == 1  # the checkpoint of the finished epoch is kept


@needs_data
def test_other_callback_errors_propagate(tmp_path):
    def broken(m):
        raise ZeroDivisionError("callback bug")

    with pytest.raises(ZeroDivisionError, match="callback bug"):
        volley.train(CONFIG, out=tmp_path, epochs=3, **LIMITS, callback=broken)
    assert volley.eval(tmp_path).epochs == 1


@needs_data
def test_resume_continues_to_the_same_result(tmp_path):
    straight = volley.train(CONFIG, out=tmp_path / "a", epochs=2, **LIMITS)
    volley.train(CONFIG, out=tmp_path / "b", epochs=2, **LIMITS, callback=lambda m: False)
    with pytest.raises(volley.IoError, match="already holds a training run"):
        volley.train(CONFIG, out=tmp_path / "b", epochs=2, **LIMITS)
    resumed = volley.train(CONFIG, out=tmp_path / "b", epochs=2, **LIMITS, resume=True)
    assert resumed.epochs_done == 2 and [m["epoch"] for m in resumed.metrics] == [2]
    assert results_only(metrics_lines(tmp_path / "b")[1]) == \
        results_only(metrics_lines(tmp_path / "a")[1])
    for k in straight.weights:
        np.testing.assert_array_equal(resumed.weights[k], straight.weights[k])
    with pytest.raises(volley.ConfigError, match="options differ"):
        volley.train(CONFIG, out=tmp_path / "b", epochs=3, train_limit=256, resume=True)


@needs_data
def test_weights_have_the_layer_shapes(tmp_path):
    r = volley.train(CONFIG, out=tmp_path, epochs=1, **LIMITS)
    w = r.weights
    assert w["layer0.w"].shape == (784, 100) and w["layer0.w"].dtype == np.float32
    assert w["layer1.w"].shape == (100, 10)
    assert w["layer0.alpha"].shape == (100,)
    assert np.isfinite(w["layer0.w"]).all() and w["layer0.w"].std() > 0
    # copies: changing them changes nothing else
    before = r.weights["layer1.w"].copy()
    w["layer1.w"][:] = 0
    np.testing.assert_array_equal(volley.eval(tmp_path).weights["layer1.w"], before)


@needs_data
def test_set_and_seed_change_the_run(tmp_path):
    a = volley.train(CONFIG, out=tmp_path / "a", epochs=1, **LIMITS, seed=3)
    b = volley.train(CONFIG, out=tmp_path / "b", epochs=1, **LIMITS, seed=3,
                     set={"layers.0.size": 20})
    assert a.weights["layer0.w"].shape == (784, 100)
    assert b.weights["layer0.w"].shape == (784, 20)
    # stored in the checkpoint: eval rebuilds the network as trained
    assert volley.eval(tmp_path / "b").accuracy == b.test_accuracy


def test_bad_config_paths_name_the_file(tmp_path):
    with pytest.raises((volley.ConfigError, volley.IoError), match="no/such/file.toml"):
        volley.train("no/such/file.toml", out=tmp_path / "x")
    with pytest.raises(volley.IoError, match="no/such/checkpoint.bin"):
        volley.eval("no/such/checkpoint.bin")
    with pytest.raises(volley.IoError, match="checkpoint.bin"):
        volley.eval(tmp_path)  # a directory without a run


def test_bad_config_content_names_file_line_and_field(tmp_path):
    bad = tmp_path / "bad.toml"
    text = Path(CONFIG).read_text().replace('tau_mem = "10 ms"', 'tau_mem = "10 mV"', 1)
    bad.write_text(text)
    with pytest.raises(volley.ConfigError, match=r"bad.toml:\d+: layers\[0\].tau_mem: .*voltage"):
        volley.train(bad, out=tmp_path / "x")
    with pytest.raises(volley.ConfigError, match="cuba.toml"):
        volley.train("examples/cuba.toml", out=tmp_path / "y")  # a model file, not training


def test_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="config"):
        volley.train(3, out=tmp_path)
    with pytest.raises(TypeError, match="callback"):
        volley.train(CONFIG, out=tmp_path, callback=42)
    with pytest.raises(ValueError, match="train_limit"):
        volley.train(CONFIG, out=tmp_path, train_limit=0)
    with pytest.raises(TypeError, match="epochs"):
        volley.train(CONFIG, out=tmp_path, epochs="2")
    with pytest.raises(TypeError, match="set"):
        volley.train(CONFIG, out=tmp_path, set="training.lr=1")
    with pytest.raises(TypeError, match="checkpoint"):
        volley.eval(None)


@needs_data
def test_gil_released_during_training(tmp_path):
    import threading
    import time
    ticks, stop = [], threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.005)

    th = threading.Thread(target=ticker)
    th.start()
    try:
        t0 = time.perf_counter()
        volley.train(CONFIG, out=tmp_path, epochs=1, train_limit=4096, test_limit=256)
        t1 = time.perf_counter()
    finally:
        stop.set()
        th.join()
    during = [x for x in ticks if t0 < x < t1]
    assert len(during) >= 0.25 * (t1 - t0) / 0.005, f"{len(during)} ticks in {t1 - t0:.3f} s"


@needs_data
def test_ctrl_c_stops_after_the_epoch(tmp_path):
    import signal
    import threading
    main = threading.main_thread().ident
    timer = threading.Timer(0.3, lambda: signal.pthread_kill(main, signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt) as info:
            volley.train(CONFIG, out=tmp_path, epochs=20, train_limit=4096, test_limit=256)
    finally:
        timer.cancel()
    r = info.value.result
    assert 1 <= r.epochs_done < 20 and r.stopped == "interrupted"
    assert len(metrics_lines(tmp_path)) == r.epochs_done
    assert volley.eval(tmp_path).epochs == r.epochs_done  # the checkpoint is kept


@needs_data
def test_example_train_fmnist_py(tmp_path):
    import sys
    env = dict(os.environ, MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, "examples/python/train_fmnist.py", "--epochs", "2",
                        "--train-limit", "512", "--test-limit", "256", "--out", str(tmp_path)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "epoch 1/2: " in r.stdout and "epoch 2/2: " in r.stdout  # the live printout
    assert "test accuracy" in r.stdout
    assert "recorded 256 test images" in r.stdout and "selectivity" in r.stdout
    assert (tmp_path / "train_fmnist" / "record" / "record.h5").exists()
    png = tmp_path / "train_fmnist.png"
    assert png.exists() and png.stat().st_size > 10_000



@needs_data
def test_second_ctrl_c_stops_at_once(tmp_path):
    import signal
    import threading
    import time
    main = threading.main_thread().ident

    def twice():  # once training runs (loading the data takes under 1 s), 0.5 s apart
        signal.pthread_kill(main, signal.SIGINT)
        time.sleep(0.5)
        signal.pthread_kill(main, signal.SIGINT)

    timer = threading.Timer(1.5, twice)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt) as info:
            # one thread: an epoch of 2.5 s on a quiet machine, longer on a busy one
            volley.train(CONFIG, out=tmp_path, epochs=1, test_limit=256, threads=1)
    finally:
        timer.cancel()
    # stopped within the epoch, with nothing finished
    assert not (tmp_path / "checkpoint.bin").exists()
    r = info.value.result
    assert r.epochs_done == 0 and r.checkpoint is None and r.stopped == "interrupted"


@needs_data
def test_missing_data_names_the_directory(tmp_path):
    with pytest.raises((volley.IoError, volley.ConfigError), match="no/such/dir"):
        volley.train(CONFIG, out=tmp_path, set={"data.path": "no/such/dir"})


@needs_data
def test_divergence_stops_as_in_the_cli(tmp_path):
    with pytest.warns(RuntimeWarning, match="NaN or Inf"):
        r = volley.train(CONFIG, out=tmp_path, epochs=2, **LIMITS, set={"optimizer.lr": 1e38})
    assert r.stopped == "diverged" and r.epochs_done == 0 and r.checkpoint is None
    assert "epoch 1" in r.message and "no checkpoint" in r.message


@needs_data
def test_stop_on_the_last_epoch_is_a_complete_run(tmp_path):
    r = volley.train(CONFIG, out=tmp_path, epochs=2, **LIMITS, callback=lambda m: False
                     if m["epoch"] == 2 else None)
    assert r.epochs_done == 2 and r.stopped is None
    assert (tmp_path / "summary.json").exists()

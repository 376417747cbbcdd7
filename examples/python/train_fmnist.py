#!/usr/bin/env python3
"""Benchmark B3 from Python: train examples/fmnist.toml with a live accuracy printout, then plot.

    PYTHONPATH=build/python python3 examples/python/train_fmnist.py [--epochs 5]
        [--train-limit N] [--test-limit N] [--out out/python]

Trains the SpyTorch Fashion-MNIST network (784 latency-coded inputs -> 100 LIF -> 10 readout,
surrogate gradients, Adam) with volley.train, printing each epoch's accuracy from the callback
as it finishes (Ctrl-C stops after the epoch in progress, its checkpoint kept). Then records
the hidden neurons' responses to the first 1000 test images: `volley export` writes the trained
network with those images as input spikes as a model file (the simulator reproduces the trainer
spike for spike), volley.load runs it and a spike monitor records every hidden spike. Plots, in
out/python/train_fmnist.png (git-ignored): the accuracy per epoch, and the most selective hidden
neuron's 784 input weights as a 28x28 image (its receptive field) and its tuning, the mean
spike count per image of each class. (Without the CLI the tuning is estimated from the weights,
as the mean weighted input weights . pixels per class.)

Expected result (needs Debian's dataset-fashion-mnist; 2 threads, about 1 s per epoch on 2
idle cores, under 10 s in all): test accuracy 0.7801 after epoch 1 and 0.8321 after 5 (the same
as `volley train examples/fmnist.toml --epochs 5`, which this runs); the most selective neuron
(seed 1, 5 epochs: neuron 75) fires about 6 spikes per sneaker image and 4 to 4.5 per sandal,
bag and ankle boot, and is nearly silent (under 0.3) for the garments and trousers: a footwear
and bag detector. The script prints the accuracies, the checkpoint, the neuron's preferred
class and the PNG's path.
"""
import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import matplotlib

matplotlib.use("Agg")  # headless: no display needed
import matplotlib.pyplot as plt  # noqa: E402

import volley  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FM = Path("/usr/share/datasets/fashion-mnist")
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot"]


def read_idx(path):
    """An IDX file of Fashion-MNIST (gzip) as a numpy array."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * k:8 + 4 * k], "big") for k in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def cli_path():
    """The volley CLI: $VOLLEY_CLI, else build/volley, else volley on PATH (None without)."""
    for p in (os.environ.get("VOLLEY_CLI"), ROOT / "build" / "volley", shutil.which("volley")):
        if p and os.path.exists(p):
            return str(p)
    return None


def recorded_responses(checkpoint, run_dir, n):
    """Spike counts [sample, hidden neuron] of the first n test images and their labels, from
    the trained network exported as a model file and run by volley.load; (None, None, None)
    without the CLI."""
    cli = cli_path()
    if cli is None:
        return None, None, None
    export = os.path.join(run_dir, "export")
    shutil.rmtree(export, ignore_errors=True)
    subprocess.run([cli, "export", checkpoint, "--out", export, "--samples", str(n)],
                   check=True, capture_output=True)
    info = json.load(open(os.path.join(export, "export.json")))
    net = volley.load(os.path.join(export, "model.toml"))
    net.run()
    times, units = net.spikes("layer0_spikes")
    sample = np.round(times / info["dt"]).astype(np.int64) // info["window_steps"]
    counts = np.zeros((len(info["labels"]), net.population("layer0").size))
    np.add.at(counts, (sample, units), 1)
    return counts, np.array(info["labels"]), "spikes per image (recorded)"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--train-limit", type=int, default=None, help="first N training samples")
    ap.add_argument("--test-limit", type=int, default=None, help="first N test samples")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--samples", type=int, default=1000,
                    help="test images whose hidden-layer spikes are recorded for the tuning")
    ap.add_argument("--out", default=str(ROOT / "out" / "python"), help="output folder")
    args = ap.parse_args(argv)
    if not (FM / "t10k-images-idx3-ubyte.gz").exists():
        sys.exit(f"needs {FM}: apt-get install dataset-fashion-mnist")

    os.makedirs(args.out, exist_ok=True)
    run_dir = os.path.join(args.out, "train_fmnist")
    if os.path.exists(os.path.join(run_dir, "checkpoint.bin")):
        os.remove(os.path.join(run_dir, "checkpoint.bin"))  # a fresh run every time

    def progress(m):  # called after every epoch, with the GIL, while training is paused
        print(f"epoch {m['epoch']}/{m['epochs']}: train_acc {m['train_acc']:.4f} "
              f"test_acc {m['test_acc']:.4f} loss {m['train_loss']:.4f} "
              f"({m['epoch_seconds']:.1f} s, {m['samples_per_second']:.0f} samples/s)", flush=True)

    r = volley.train(ROOT / "examples" / "fmnist.toml", out=run_dir, epochs=args.epochs,
                     train_limit=args.train_limit, test_limit=args.test_limit,
                     threads=args.threads, callback=progress)
    print(f"test accuracy {r.test_accuracy:.4f} after {r.epochs_done} epochs; "
          f"checkpoint {r.checkpoint}")

    # The hidden neurons' responses to test images: `volley export` writes the trained network
    # with test samples as input spikes as a model file (the simulator reproduces the trainer
    # spike for spike: `volley export --check`); volley.load runs it and records every hidden
    # spike. Without the CLI, the tuning is estimated from the weights instead.
    w = r.weights["layer0.w"]                                # [784 pixels, 100 neurons]
    n = min(args.samples, args.test_limit or args.samples)
    counts, labels, how = recorded_responses(r.checkpoint, run_dir, n)
    if counts is None:
        images = read_idx(FM / "t10k-images-idx3-ubyte.gz").reshape(-1, 784)[:n] / 255.0
        labels = read_idx(FM / "t10k-labels-idx1-ubyte.gz")[:n]
        counts = images.astype(np.float32) @ w               # weighted input, not spikes
        how = "mean weighted input (no CLI to record spikes)"
    present = [c for c in range(10) if np.any(labels == c)]
    tuning = np.zeros((10, counts.shape[1]))
    for c in present:
        tuning[c] = counts[labels == c].mean(axis=0)         # [class, neuron]
    neuron = int(np.argmax(tuning.max(axis=0) - tuning[present].mean(axis=0)))  # most selective

    fig, ax = plt.subplots(1, 3, figsize=(13, 3.8))
    epochs = [m["epoch"] for m in r.metrics]
    ax[0].plot(epochs, [m["train_acc"] for m in r.metrics], "o-", label="train")
    ax[0].plot(epochs, [m["test_acc"] for m in r.metrics], "s-", label="test")
    ax[0].set(xlabel="epoch", ylabel="accuracy", title="Fashion-MNIST (B3)")
    ax[0].legend()
    lim = float(np.abs(w[:, neuron]).max())
    im = ax[1].imshow(w[:, neuron].reshape(28, 28), cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax[1].set(title=f"hidden neuron {neuron}: input weights", xticks=[], yticks=[])
    fig.colorbar(im, ax=ax[1], fraction=0.046)
    ax[2].bar(range(10), tuning[:, neuron])
    ax[2].set_xticks(range(10), CLASSES, rotation=60, ha="right", fontsize=8)
    ax[2].set(ylabel=how, title=f"neuron {neuron}: tuning, {n} test images")
    fig.tight_layout()
    png = os.path.join(args.out, "train_fmnist.png")
    fig.savefig(png, dpi=110)
    print(f"hidden neuron {neuron} prefers {CLASSES[int(np.argmax(tuning[:, neuron]))]}; "
          f"figure {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

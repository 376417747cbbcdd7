#!/usr/bin/env python3
"""Brian2's CUBA network (examples/cuba.toml) from Python: load, run, raster plot, rate.

    PYTHONPATH=build/python python3 examples/python/cuba.py [--duration "1 s"] [--out out/python]

Expected result (seed 1, 1 s): 24 152 spikes from 4000 neurons, 6.04 Hz (Brian2's CUBA: 5.6 Hz
averaged over seeds), ISI CV 0.53 over this first second, exactly what `volley sim
examples/cuba.toml` gives; and a raster (out/python/cuba_raster.png, git-ignored) of irregular
asynchronous firing, excitatory neurons 0-3199 below the inhibitory ones. The script prints the
rate and the PNG's path.
"""
import argparse
import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: no display needed
import matplotlib.pyplot as plt  # noqa: E402

import volley  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", default="1 s", help='simulated time, e.g. "200 ms"')
    ap.add_argument("--out", default=str(ROOT / "out" / "python"), help="output folder")
    args = ap.parse_args(argv)

    net = volley.load(ROOT / "examples" / "cuba.toml")
    wall = net.run(args.duration)
    times, units = net.spikes("P")
    n = net.population("P").size
    rate = len(times) / (n * net.t)

    os.makedirs(args.out, exist_ok=True)
    png = os.path.join(args.out, "cuba_raster.png")
    fig, ax = plt.subplots(figsize=(8, 4), dpi=100)
    exc = units < 3200
    ax.scatter(times[exc] * 1e3, units[exc], s=0.3, c="tab:blue", marker=".", linewidths=0,
               label="excitatory")
    ax.scatter(times[~exc] * 1e3, units[~exc], s=0.3, c="tab:red", marker=".", linewidths=0,
               label="inhibitory")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron")
    ax.set_xlim(0, net.t * 1e3)
    ax.set_ylim(0, n)
    ax.set_title(f"CUBA, {n} LIF neurons: {rate:.2f} Hz")
    ax.legend(loc="upper right", markerscale=20, fontsize=8)
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)

    summary = net.summary()
    print(f"cuba: {len(times)} spikes in {net.t:g} s from {n} neurons: {rate:.2f} Hz "
          f"(ISI CV {summary['populations']['P']['cv_isi']:.2f}); simulated in {wall:.3f} s")
    print(f"raster: {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Firing statistics of CUBA (B1) from Brian2 and from volley, computed by the same code.

Usage:
  cuba_stats.py brian2 N SECONDS SEED          run Brian2 (cpp_standalone) and print rate, CV
  cuba_stats.py volley SPIKES_H5 N SECONDS     read volley's spikes.h5 and print rate, CV
CV is the mean over neurons (with >= 2 intervals) of each neuron's ISI std/mean, the same
definition as volley's summary.json.
"""
import sys
import numpy as np


def stats(times, units, n, seconds):
    order = np.lexsort((times, units))
    t, u = times[order], units[order]
    cvs = []
    starts = np.searchsorted(u, np.arange(n))
    ends = np.searchsorted(u, np.arange(n), side="right")
    for a, b in zip(starts, ends):
        if b - a >= 3:
            isi = np.diff(t[a:b])
            cvs.append(isi.std() / isi.mean())
    return len(times) / n / seconds, float(np.mean(cvs)) if cvs else float("nan")


def brian2(n, seconds, seed):
    import brian2 as b2
    b2.set_device("cpp_standalone", directory=f"/tmp/volley_b2stats_{n}_{seed}")
    b2.seed(seed)
    taum, taue, taui = 20 * b2.ms, 5 * b2.ms, 10 * b2.ms
    Vt, Vr, El = -50 * b2.mV, -60 * b2.mV, -49 * b2.mV
    eqs = """
    dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    """
    P = b2.NeuronGroup(n, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * b2.ms,
                       method="exact")
    P.v = "Vr + rand() * (Vt - Vr)"
    ne = int(n * 0.8)
    p = 80.0 / n
    Ce = b2.Synapses(P, P, on_pre="ge += 1.62*mV")
    Ci = b2.Synapses(P, P, on_pre="gi += -9*mV")
    Ce.connect("i<ne", p=p)
    Ci.connect("i>=ne", p=p)
    M = b2.SpikeMonitor(P)
    b2.run(seconds * b2.second)
    return stats(np.asarray(M.t / b2.second), np.asarray(M.i), n, seconds)


def volley(path, n, seconds):
    import h5py
    with h5py.File(path, "r") as f:
        return stats(f["P/times"][:], f["P/units"][:].astype(np.int64), n, seconds)


if __name__ == "__main__":
    if sys.argv[1] == "brian2":
        rate, cv = brian2(int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))
    else:
        rate, cv = volley(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    print(f"rate_hz={rate:.4f} cv_isi={cv:.4f}")

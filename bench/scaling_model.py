#!/usr/bin/env python3
"""docs/scaling.md's model of a distributed run, fitted to bench/run_mpi.sh's output, and
projected to many nodes. Usage: bench/scaling_model.py [bench/out/mpi-...]  (default: latest)

Per step, on one process of R (each with T threads; measured here with T = 1):
  update   a_u * N / (R T)                         neuron updates and inputs
  delivery a_d * E / (R T) + b_s * S               E = synaptic events, S = spikes (all of the
                                                    network: every process walks every spike's
                                                    row to find its own targets and records it)
  exchange (alpha(R) + 4 B * S_interval / bandwidth) once per min-delay interval
a_u, a_d, b_s are fitted to the 1- and 2-process runs of each network; the exchange's latency
and bandwidth between nodes are assumptions (shared memory here says nothing about them)."""
import glob
import json
import math
import os
import sys

out = sys.argv[1] if len(sys.argv) > 1 else sorted(glob.glob("bench/out/mpi-*"))[-1]


def best(name, cfg):
    runs = [json.load(open(p)) for p in glob.glob(f"{out}/{name}-{cfg}-*/summary.json")]
    return min(runs, key=lambda d: d["wall_seconds"])


fits = {}
for name, k_in in (("cuba", 80.0), ("brunel", 1250.0)):
    r1, r2 = best(name, "R1T1"), best(name, "R2T1")
    n = sum(p["size"] for p in r1["populations"].values())
    steps = r1["duration"] / r1["dt"]
    spikes = sum(p["spikes"] for p in r1["populations"].values())
    events = sum(p["events"] for p in r1["projections"].values())
    u1, d1, d2 = (r1["phases"]["update_seconds"], r1["phases"]["deliver_seconds"],
                  r2["phases"]["deliver_seconds"])
    a_u = u1 / (n * steps)
    a_d = 2.0 * (d1 - d2) / events
    b_s = (d1 - a_d * events) / spikes
    x2 = r2["phases"]["exchange_seconds"]
    fits[name] = dict(a_u=a_u, a_d=a_d, b_s=b_s)
    print(f"{name}: N = {n}, {events:.3g} events, {spikes} spikes, {steps:.0f} steps: "
          f"a_u = {a_u * 1e9:.2f} ns/neuron-step, a_d = {a_d * 1e9:.2f} ns/event, "
          f"b_s = {b_s * 1e9:.0f} ns/spike/process; exchange at R = 2: {x2:.3f} s "
          f"(run {r1['wall_seconds']:.2f} s -> {r2['wall_seconds']:.2f} s)")

# Projection: nodes of C cores (2 processes x C/2 threads), a Brunel-type network with
# NEST's hpc_benchmark in-degree (K = 11 250), delays 1.5 ms (15 steps of 0.1 ms), 8 Hz
# (assumed), 100 000 neurons per node (weak scaling); the per-spike term is paid per thread.
C, p_node = 128, 2
alpha0, bw = 5e-6, 10e9          # assumptions: allgather latency per log2(R) step, link B/s
f = fits["brunel"]
dt, d_steps, nu, K, n_node = 1e-4, 15, 8.0, 11250, 100_000
print("\nnodes | neurons | processes | update | delivery (events) | per-spike walk | exchange | step | RTF | memory/process (GB)")
for nodes in (1, 16, 256, 1024):
    R = p_node * nodes
    N = n_node * nodes
    upd = f["a_u"] * n_node / C
    ev = f["a_d"] * n_node * nu * dt * K / C
    walk = f["b_s"] * N * nu * dt
    xch = (alpha0 * math.log2(max(R, 2)) + 4.0 * N * nu * dt * d_steps / bw) / d_steps
    step = upd + ev + walk + xch
    mem = (8.0 * n_node * K / p_node + 8.0 * N * 2 + 80.0 * N) / 1e9
    print(f"{nodes} | {N:.2e} | {R} | {upd * 1e6:.1f} us | {ev * 1e6:.1f} us | {walk * 1e6:.1f} us | "
          f"{xch * 1e6:.1f} us | {step * 1e6:.1f} us | {step / dt:.2f} | {mem:.1f}")

# The cortical microcircuit (Potjans & Diesmann 2014): 77 169 neurons, ~0.3e9 synapses
# (K ~ 3 900), rate ~3 Hz (assumed), min delay 0.1 ms (an exchange every step), Poisson drive.
print("\nmicrocircuit: nodes | processes | step | RTF (model)")
N, K, nu = 77_169, 3_900, 3.0
for nodes in (1, 2):
    R = p_node * nodes
    upd = f["a_u"] * N / (C * nodes)
    ev = f["a_d"] * N * nu * dt * K / (C * nodes)
    walk = f["b_s"] * N * nu * dt
    xch = alpha0 * math.log2(max(R, 2)) + 4.0 * N * nu * dt / bw
    step = upd + ev + walk + xch
    print(f"{nodes} | {R} | {step * 1e6:.1f} us | {step / dt:.2f}")

#!/usr/bin/env bash
# The cost of driving volley from Python (docs/python.md, issue 20): examples/cuba.toml run as one
# 1 s `net.run` against 1000 calls of a 1 ms `net.run` (acceptance: at most 2x), with the parts
# of a call separated: the Python layer (volley.Network.run -> _volley), the binding (GIL release,
# argument conversion), and Network::run's own per-call preparation, which the C++ API pays too.
# Usage: bench/run_python_overhead.sh [REPEATS]   (default 7; best of REPEATS, interleaved)
# Needs a build with VOLLEY_PYTHON=ON: BUILD=path (default build/; only the target volley_python
# is built). Appends a section to bench/RESULTS.md; raw output under bench/out/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-7}
build=${BUILD:-build}
py=/usr/bin/python3
cmake --build "$build" -j2 --target volley_python >/dev/null
out=bench/out/python-overhead-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"

PYTHONPATH="$build/python" $py - "$repeats" > "$out/section.md" <<'PYEOF'
import os, subprocess, sys, time
import numpy as np
import volley

repeats = int(sys.argv[1])
model = "examples/cuba.toml"
# the same network with weights that are not all equal (see the note below)
jitter = {"projections.Ce.weight": {"dist": "normal", "mean": "1.62 mV", "std": "1e-6 mV"},
          "projections.Ci.weight": {"dist": "normal", "mean": "-9 mV", "std": "1e-6 mV"}}

def one_run(**kw):
    net = volley.load(model, **kw)
    t = time.perf_counter(); net.run("1 s"); return time.perf_counter() - t, net

def many_runs(call, **kw):
    net = volley.load(model, **kw)
    f = call(net)
    t = time.perf_counter()
    for _ in range(1000):
        f()
    return time.perf_counter() - t, net

cases = {
    "one `net.run(\"1 s\")`": lambda: one_run()[0],
    "1000 × `net.run(\"1 ms\")`": lambda: many_runs(lambda n: (lambda: n.run("1 ms")))[0],
    "1000 × `net.run(0.001)`": lambda: many_runs(lambda n: (lambda: n.run(0.001)))[0],
    "1000 × core `_sim.run(0.001)` (no Python layer)": lambda: many_runs(lambda n: (lambda: n._sim.run(0.001)))[0],
    "1000 × `net.run(0)` (call only, no step)": lambda: many_runs(lambda n: (lambda: n.run(0.0)))[0],
    "weights not all equal: one `net.run(\"1 s\")`": lambda: one_run(set=jitter)[0],
    "weights not all equal: 1000 × `net.run(\"1 ms\")`": lambda: many_runs(lambda n: (lambda: n.run("1 ms")), set=jitter)[0],
}
best = {k: float("inf") for k in cases}
for _ in range(repeats):
    for k, f in cases.items():
        best[k] = min(best[k], f())

# identical results either way
_, a = one_run()
_, b = many_runs(lambda n: (lambda: n.run("1 ms")))
same = (np.array_equal(a.spikes("P").times, b.spikes("P").times)
        and np.array_equal(a.spikes("P").units, b.spikes("P").units))

cpu = ""
try:
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    cpu = next(l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("Model name"))
except Exception:
    pass
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True).stdout.strip()
print(f"## Python overhead (issue 20) — {time.strftime('%Y-%m-%d')} — commit {commit}"
      f"{' + uncommitted changes' if dirty else ''}")
print()
print(f"examples/cuba.toml (4000 LIF, 1 s = 10 000 steps, one thread) from /usr/bin/python3 "
      f"{sys.version.split()[0]}, {cpu}, {os.cpu_count()} cores; best of {repeats} interleaved "
      f"repeats (wall clock around the calls, network built beforehand). bench/run_python_overhead.sh.")
print()
ref = best["one `net.run(\"1 s\")`"]
ref_j = best["weights not all equal: one `net.run(\"1 s\")`"]
print("| case | total (ms) | per call (µs) | vs one 1 s run |")
print("|---|---|---|---|")
for k, v in best.items():
    calls = 1 if "one `" in k else 1000
    base = ref_j if k.startswith("weights") else ref
    print(f"| {k} | {v * 1e3:.1f} | {v / calls * 1e6:.1f} | {v / base:.2f}x |")
print()
r = best["1000 × `net.run(\"1 ms\")`"] / ref
core = best["1000 × core `_sim.run(0.001)` (no Python layer)"]
py_layer = (best["1000 × `net.run(\"1 ms\")`"] - core) / 1000 * 1e6
call_only = best["1000 × `net.run(0)` (call only, no step)"] / 1000 * 1e6
r_j = best["weights not all equal: 1000 × `net.run(\"1 ms\")`"] / ref_j
print(f"1000 × 1 ms from Python / one 1 s run: **{r:.2f}x** (acceptance: at most 2x: "
      f"{'met' if r <= 2 else 'not met'}); spikes identical: {same}. "
      f"Of each 1 ms call, the Python layer (volley.Network.run over the core's run) costs "
      f"{'under 1' if py_layer < 1 else f'{py_layer:.1f}'} µs and a call that runs no step "
      f"{call_only:.1f} µs; the rest is Network::run's preparation before its first step "
      f"(the C++ API pays it too). With weights not all equal the ratio is "
      f"{r_j:.2f}x.")
PYEOF
{ echo; cat "$out/section.md"; } >> bench/RESULTS.md
cat "$out/section.md"

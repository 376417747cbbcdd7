#!/usr/bin/env bash
# Issue 21 ("Also"): the two-thread efficiency of CUBA at N = 40 000 (80 synapses per neuron,
# 2 s) against the cache-line round trip between the two CPUs, measured just before it
# (bench/cores.cpp). On this VM the round trip has moved between ≈ 150 ns and ≈ 600 ns within
# minutes; each round runs the latency probe, one thread and two threads (--fixed-threads), and
# the summary gives the efficiency t(1) / (2 t(2)) by latency class (median and range).
# Usage: bench/run_threads_latency.sh [ROUNDS]   (default 30)
rounds=${1:-30}
source "$(dirname "$0")/common.sh" threads-latency
cores=${CORES:-$(dirname "$volley")/bench/bench_cores}
scale=$(cuba_scale 40000)
for k in $(seq 1 "$rounds"); do
  "$cores" latency > "$out/latency-$k.jsonl"
  for t in 1 2; do
    # shellcheck disable=SC2086
    "$volley" sim examples/cuba.toml --duration "2 s" $scale -t "$t" --fixed-threads -q \
      -o "$out/r$k-t$t"
  done
done
$py - "$out" "$rounds" <<'PY' | tee "$out/summary.md"
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
rows = []
for k in range(1, rounds + 1):
    lat = {json.loads(l)["measure"]: json.loads(l) for l in open(f"{out}/latency-{k}.jsonl")}
    t1 = json.load(open(f"{out}/r{k}-t1/summary.json"))["wall_seconds"]
    t2 = json.load(open(f"{out}/r{k}-t2/summary.json"))["wall_seconds"]
    rows.append((lat["ping_pong"]["ns_round_trip"], lat["spin_barrier"]["ns_per_wait"], t1, t2,
                 t1 / (2 * t2)))
print("| round trip (ns) | barrier (ns) | rounds | 1 thread (s, median) | 2 threads (s, median) | efficiency (median) | efficiency (range) |")
print("|---|---|---|---|---|---|---|")
for name, lo, hi in (("< 300", 0, 300), ("≥ 300", 300, 1e9)):
    sel = [r for r in rows if lo <= r[0] < hi]
    if not sel:
        print(f"| {name} | | 0 | | | | |")
        continue
    med = lambda i: statistics.median(r[i] for r in sel)
    print(f"| {name} (median {med(0):.0f}) | {med(1):.0f} | {len(sel)} | {med(2):.4f} | {med(3):.4f} | "
          f"{100 * med(4):.0f}% | {100 * min(r[4] for r in sel):.0f}–{100 * max(r[4] for r in sel):.0f}% |")
PY

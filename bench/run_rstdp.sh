#!/usr/bin/env bash
# Issue "learning beyond backprop", item 2: reward-modulated STDP solving the distal reward
# problem (Izhikevich 2007, Fig. 1) with examples/distal_reward.toml, one simulated hour per
# seed: the chosen synapse's weight and the mean of the other E->E weights (fractions of the
# 4 mV maximum), rewards delivered, and wall time.
# Usage: bench/run_rstdp.sh [SEEDS=3] [THREADS=1]
source "$(dirname "$0")/common.sh" rstdp
seeds=${1:-3}
threads=${2:-1}
for s in $(seq 1 "$seeds"); do
  $volley sim examples/distal_reward.toml --seed "$s" --threads "$threads" --out "$out/s$s" > "$out/s$s.log"
  echo "$s $(json "$out/s$s/summary.json" "d['rewards']['chosen']['weight'] / 4e-3, d['rewards']['chosen']['others_mean'] / 4e-3, d['rewards']['chosen']['pairings'], d['wall_seconds']")"
done | tee "$out/rstdp.txt"
# Time for the chosen synapse to first reach 90 % of the maximum (from the 10 s record).
for s in $(seq 1 "$seeds"); do
  json "$out/s$s/summary.json" "next((t for t, w in zip(d['rewards']['chosen']['record']['t'], d['rewards']['chosen']['record']['weight']) if w >= 0.9 * 4e-3), None)" | sed "s/^/seed $s: first >= 90 % at (s): /"
done

#!/usr/bin/env bash
# Issue 18: synapses written as equations. Brian2's STDP example (Song, Miller & Abbott 2000;
# examples/stdp_equations.toml, bench/brian2_stdp.py) run by volley and by Brian2 cpp_standalone
# over the same seeds: the final weight distribution (fractions below 0.1 gmax and above 0.9 gmax,
# mean w/gmax) and the run time. The seeds differ between the two (different RNGs), so the
# comparison is of the distributions' statistics across seeds, not of single runs.
# Usage: bench/run_stdp_equations.sh [SECONDS] [SEEDS]   (default 100 s, 4 seeds;
# VOLLEY=build/volley skips the bench build)
source "$(dirname "$0")/common.sh" stdp_equations
T=${1:-100}
S=${2:-4}
export VOLLEY_KERNEL_CACHE="$PWD/$out/cache"
stats() {  # low high mean of the final weights of a volley run
  $py - "$1" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1] + "/spikes.h5") as f:
    w = np.asarray(f["input/weights/w/w"])[-1] / 0.01
print(f"{np.mean(w < 0.1):.4f} {np.mean(w > 0.9):.4f} {np.mean(w):.4f}")
PY
}
rows=""
for r in $(seq 1 "$S"); do
  $volley sim examples/stdp_equations.toml --duration "$T s" --seed "$r" --out "$out/v_$r" -q \
    --set "monitors.w.every=\"$T s\""
  read -r vl vh vm < <(stats "$out/v_$r")
  vt=$(json "$out/v_$r/summary.json" "round(d['wall_seconds'],3)")
  vr=$(json "$out/v_$r/summary.json" "round(d['populations']['neuron']['rate_hz'],2)")
  line=$(cd /tmp && $py "$OLDPWD/bench/brian2_stdp.py" "$T" "$r" cpp_standalone 2>/dev/null | tail -1)
  bl=$(sed -E 's/.*low=([0-9.]+).*/\1/' <<<"$line"); bh=$(sed -E 's/.*high=([0-9.]+).*/\1/' <<<"$line")
  bm=$(sed -E 's/.*mean=([0-9.]+).*/\1/' <<<"$line"); bt=$(sed -E 's/.*run_seconds=([0-9.]+).*/\1/' <<<"$line")
  br=$(sed -E 's/.*rate=([0-9.]+).*/\1/' <<<"$line")
  rows+="| $r | $vl | $vh | $vm | $vr | $vt | $bl | $bh | $bm | $br | $bt |"$'\n'
done
summary=$($py - <<PY
rows = [r.split("|")[2:-1] for r in """$rows""".strip().splitlines()]
import statistics as s
col = lambda k: [float(r[k]) for r in rows]
names = ["below 0.1 gmax", "above 0.9 gmax", "mean w/gmax", "output rate (Hz)", "run (s)"]
for k, n in enumerate(names):
    v, b = col(k), col(k + 5)
    sd = lambda x: s.stdev(x) if len(x) > 1 else 0.0
    diff = f"Brian2/volley {s.mean(b) / s.mean(v):.2f}x" if k == 4 else f"{s.mean(v) - s.mean(b):+.3f}"
    print(f"| {n} | {s.mean(v):.3f} ± {sd(v):.3f} | {s.mean(b):.3f} ± {sd(b):.3f} | {diff} |")
PY
)
{
  echo "## Synapse equations: Brian2's STDP example (issue 18) — $(date -u +%Y-%m-%d) — commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' + uncommitted changes')"
  echo
  echo "examples/stdp_equations.toml vs bench/brian2_stdp.py (Brian2 $($py -c 'import brian2; print(brian2.__version__)') cpp_standalone), $T s, seeds 1..$S, one thread, $(lscpu | sed -n 's/^Model name: *//p')."
  echo
  echo "| statistic | volley (mean ± sd over seeds) | Brian2 | volley − Brian2 |"
  echo "|---|---|---|---|"
  echo "$summary"
  echo
  echo "| seed | volley low | high | mean | rate | run s | Brian2 low | high | mean | rate | run s |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  printf "%s" "$rows"
} > "$out/section.md"
cat "$out/section.md"
{ echo; cat "$out/section.md"; } >> bench/RESULTS.md

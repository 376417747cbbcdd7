#!/usr/bin/env bash
# Issue "the ear", acceptance 1: the Jeffress sound-localisation sweep (IPD 0-350° in 10° steps,
# 1 s per estimate) for 1, 10 and 100 fibres per ear, seeds 1-5; mean absolute circular error
# of the most-active-detector estimate and of the population vector, and wall time per sweep.
# Usage: bench/run_ear.sh [SEEDS=5]
source "$(dirname "$0")/common.sh" ear
seeds=${1:-5}
for f in 1 10 100; do
  for s in $(seq 1 "$seeds"); do
    $volley example sound-localization --fibres "$f" --seed "$s" --out "$out/f${f}_s${s}" > /dev/null
    echo "$f $s $(json "$out/f${f}_s${s}/summary.json" "d['mean_abs_error_deg'], d['mean_abs_error_population_vector_deg'], d['wall_seconds']")"
  done
done | tee "$out/errors.txt"
$py - "$out/errors.txt" <<'PY'
import sys, statistics as st
rows = [l.replace("(", "").replace(")", "").replace(",", " ").split() for l in open(sys.argv[1])]
for f in ("1", "10", "100"):
    r = [x for x in rows if x[0] == f]
    a = [float(x[2]) for x in r]; p = [float(x[3]) for x in r]; w = [float(x[4]) for x in r]
    print(f"fibres {f}: max-detector {st.mean(a):.1f}° (range {min(a):.1f}-{max(a):.1f}), "
          f"population vector {st.mean(p):.1f}° (range {min(p):.1f}-{max(p):.1f}), sweep {st.mean(w):.2f} s")
PY

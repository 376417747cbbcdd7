#!/usr/bin/env bash
# B3 variants: (1) sparse connectivity, 784 → 1000 → 10 at input densities 1, 0.5, 0.1, 0.01
# (examples/fmnist_sparse.toml), epoch time and test accuracy after EPOCHS epochs;
# (2) smooth forward (sigmoid in the forward pass, exact gradient) against the surrogate
# gradient on the B3 network (examples/fmnist.toml), accuracy and time per epoch.
# Usage: bench/run_b3_variants.sh [EPOCHS_SPARSE=5] [EPOCHS_SMOOTH=30] [THREADS=2]
source "$(dirname "$0")/common.sh" b3variants
es=${1:-5}
em=${2:-30}
threads=${3:-2}
summary() {  # DIR LABEL
  $py - "$1" "$2" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1] + "/metrics.jsonl")]
s = json.load(open(sys.argv[1] + "/summary.json"))
t = sorted(r["epoch_seconds"] for r in rows)
print(json.dumps({"run": sys.argv[2], "epochs": len(rows), "median_epoch_seconds": t[len(t) // 2],
                  "test_acc": rows[-1]["test_acc"], "best_test_acc": max(r["test_acc"] for r in rows),
                  "active_fraction": rows[-1]["active_fraction"], "synapses": s["synapses"],
                  "peak_rss_mb": s["peak_rss_mb"]}))
PY
}
for d in 1 0.5 0.1 0.01; do
  $volley train examples/fmnist_sparse.toml --epochs "$es" --threads "$threads" \
    --set layers.0.density=$d --out "$out/sparse_$d" > "$out/sparse_$d.log" 2>&1
  summary "$out/sparse_$d" "density $d" | tee -a "$out/results.jsonl"
done
for mode in heaviside smooth; do
  $volley train examples/fmnist.toml --epochs "$em" --threads "$threads" \
    --set "surrogate.forward=\"$mode\"" --out "$out/forward_$mode" > "$out/forward_$mode.log" 2>&1
  summary "$out/forward_$mode" "forward $mode" | tee -a "$out/results.jsonl"
done
echo "results in $out/results.jsonl"

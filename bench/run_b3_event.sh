#!/usr/bin/env bash
# Issue 19, part 3: the event mode against the sparse mode and the dense network on
# examples/fmnist_sparse.toml (784 → 1000 → 10, full Fashion-MNIST). Every configuration trains
# EPOCHS epochs; the configurations are run ROUNDS times, interleaved, and each reports its
# fastest median epoch time (the machine is noisy) and its test accuracy (the same every round).
# Usage: bench/run_b3_event.sh [EPOCHS=5] [THREADS=2] [ROUNDS=2]
source "$(dirname "$0")/common.sh" b3event
epochs=${1:-5}
threads=${2:-2}
rounds=${3:-2}
configs=("1 sparse" "0.1 sparse" "0.1 event" "0.01 sparse" "0.01 event")
for r in $(seq "$rounds"); do
  for c in "${configs[@]}"; do
    set -- $c
    dir="$out/d$1_$2_r$r"
    $volley train examples/fmnist_sparse.toml --epochs "$epochs" --threads "$threads" \
      --set "layers.0.density=$1" --set "backward.mode=\"$2\"" --out "$dir" > "$dir.log" 2>&1
  done
done
$py - "$out" "$rounds" "${configs[@]}" <<'PY' | tee "$out/results.jsonl"
import json, sys
out, rounds, configs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rows = {}
for c in configs:
    d, mode = c.split()
    best = None
    for r in range(1, rounds + 1):
        m = [json.loads(l) for l in open(f"{out}/d{d}_{mode}_r{r}/metrics.jsonl")]
        t = sorted(x["epoch_seconds"] for x in m)[len(m) // 2]
        best = t if best is None else min(best, t)
        acc = [x["test_acc"] for x in m]
    rows[c] = {"density": float(d), "mode": mode, "median_epoch_seconds": round(best, 3),
               "test_acc": acc[-1], "test_acc_per_epoch": acc}
dense = rows[configs[0]]["median_epoch_seconds"]
for c in configs:
    rows[c]["ratio_to_dense"] = round(rows[c]["median_epoch_seconds"] / dense, 3)
    print(json.dumps(rows[c]))
PY

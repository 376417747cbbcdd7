#!/usr/bin/env bash
# Deep R against a fixed random mask of the same budget and the dense network on Fashion-MNIST
# (B3, 784 → 100 → 10; issue 17 part 3). Budgets as fractions of the dense network's 79 400
# synapses: 5 % and 2 % with a dense readout (input densities 0.0379 and 0.0075); 2 % with the
# readout at 30 % (input 0.0159; Bellec et al.'s MNIST script keeps its readout at 30 %); 5 % and
# 2 % in both layers (Deep R with the budget flowing between them, or kept per matrix). Same seed, same initial pattern for Deep
# R and the fixed mask. Prints a Markdown table: synapses, final and best test accuracy, mean
# epoch time.
# Then spoken digits (examples/spoken_digits.toml, 700 → 256 → 20; data/spoken_digits_*.h5 from
# `volley dataset spoken-digits`) at 10 % of its 184 320 synapses in both layers.
# Usage: bench/run_deep_r.sh [THREADS=2] [EPOCHS=30] [PARTS="fmnist digits"]
source "$(dirname "$0")/common.sh" deep_r
threads=${1:-2}
epochs=${2:-30}
parts=${3:-"fmnist digits"}
config=examples/fmnist_deep_r.toml
dense=79400

run() {  # NAME ARGS...
  local name=$1; shift
  $volley train "$config" --out "$out/$name" --threads "$threads" \
    --epochs "$epochs" "$@" > "$out/$name.txt" 2>&1
  $py - "$out/$name" "$name" "$dense" <<'PY'
import json, sys
d = sys.argv[1]
s = json.load(open(f"{d}/summary.json"))
m = [json.loads(l) for l in open(f"{d}/metrics.jsonl")]
secs = sum(x["epoch_seconds"] for x in m) / len(m)
best = max(x["test_acc"] for x in m)
rw = m[-1].get("rewiring", {})
flow = ", ".join(f"{k} {v['active']}" for k, v in sorted(rw.items()))
rows = ", ".join(f"{k} {v['rows_connected']}" for k, v in sorted(rw.items()))
print(f"| {sys.argv[2]} | {s['synapses']} ({s['synapses'] / int(sys.argv[3]):.1%}) | {s['test_acc']:.4f} | "
      f"{best:.4f} | {secs:.2f} | {flow} | {rows} |")
PY
}

header() {
  echo "| run | synapses (of $dense) | test acc (last) | test acc (best) | epoch (s) | final synapses per matrix | presynaptic neurons with a synapse |"
  echo "|---|---|---|---|---|---|---|"
}
if [[ " $parts " == *" fmnist "* ]]; then
  header
  run dense --set 'rewiring.kind="none"' --set layers.0.density=1
  for budget in 5:0.0379 2:0.0075; do
    pct=${budget%%:*}; d=${budget##*:}
    run "fixed-${pct}pct" --set 'rewiring.kind="none"' --set "layers.0.density=$d"
    run "deep_r-${pct}pct" --set "layers.0.density=$d"
  done
  run fixed-2pct-readout30 --set 'rewiring.kind="none"' --set layers.0.density=0.0159 \
    --set layers.1.density=0.3
  run deep_r-2pct-readout30 --set layers.0.density=0.0159 --set layers.1.density=0.3
  for d in 0.05 0.02; do
    run "fixed-${d}-both" --set 'rewiring.kind="none"' --set layers.0.density=$d --set layers.1.density=$d
    run "deep_r-${d}-both" --set layers.0.density=$d --set layers.1.density=$d
    run "deep_r-${d}-both-per_matrix" --set layers.0.density=$d --set layers.1.density=$d \
      --set 'rewiring.budget="per_matrix"'
  done
fi
if [[ " $parts " == *" digits "* ]] && [ -f data/spoken_digits_train.h5 ]; then
  # examples/spoken_digits.toml with a [rewiring] table, its data paths made absolute.
  config=$out/spoken_digits_rewiring.toml
  { cat examples/spoken_digits.toml; printf '\n[rewiring]\nkind = "none"\n'; } > "$config"
  data=(--set "data.train=\"$PWD/data/spoken_digits_train.h5\"" --set "data.test=\"$PWD/data/spoken_digits_test.h5\"")
  dense=184320
  echo
  header
  run digits-dense "${data[@]}"
  run digits-fixed-10pct "${data[@]}" --set layers.0.density=0.1 --set layers.1.density=0.1
  run digits-deep_r-10pct "${data[@]}" --set layers.0.density=0.1 --set layers.1.density=0.1 \
    --set 'rewiring.kind="deep_r"'
  run digits-deep_r-10pct-per_matrix "${data[@]}" --set layers.0.density=0.1 \
    --set layers.1.density=0.1 --set 'rewiring.kind="deep_r"' --set 'rewiring.budget="per_matrix"'
fi

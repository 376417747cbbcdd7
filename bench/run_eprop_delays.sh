#!/usr/bin/env bash
# Learned synaptic delays under e-prop (issue 16): examples/spoken_digits_eprop.toml (700 → 128
# recurrent LIF → 20, e-prop, symmetric feedback) for EPOCHS epochs on 2 threads, with plain
# weights, with whole-step delays drawn in a 100 ms window (weights learned), and with learned
# delays (σ from 30 ms annealed to whole steps over the first 75 % of the epochs). Prints test
# accuracy (last and best), the median and mean epoch time, and the ratio to plain.
# Needs data/spoken_digits_{train,test}.h5 (volley dataset spoken-digits --out data/spoken_digits.h5).
# Usage: bench/run_eprop_delays.sh [EPOCHS=8]   (VOLLEY=path/to/volley skips the build)
source "$(dirname "$0")/common.sh" eprop_delays
epochs=${1:-8}
declare -A args=(
  [plain]=""
  [whole_step]="--set layers.0.max_delay=\"100 ms\" --set layers.0.delay_sigma=\"0 ms\""
  [learned]="--set layers.0.max_delay=\"100 ms\" --set layers.0.delay_sigma=\"30 ms\" --set layers.0.learn_delay=true"
)
echo "| configuration | test acc (last) | test acc (best) | median epoch (s) | mean epoch (s) | mean / plain |"
echo "|---|---|---|---|---|---|"
plain_mean=""
for c in plain whole_step learned; do
  eval "$volley" train examples/spoken_digits_eprop.toml --out "$out/$c" --epochs "$epochs" \
    --threads 2 ${args[$c]} > "$out/$c.txt" 2>&1
  row=$($py - "$out/$c/metrics.jsonl" "${plain_mean:-0}" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ep = [r["epoch_seconds"] for r in rows]
mean = statistics.mean(ep)
plain = float(sys.argv[2]) or mean
print(f"{rows[-1]['test_acc']:.4f} | {max(r['test_acc'] for r in rows):.4f} | "
      f"{statistics.median(ep):.2f} | {mean:.2f} | {mean / plain:.2f} |{mean}")
PY
)
  [ "$c" = plain ] && plain_mean=${row##*|}
  echo "| $c | ${row%|*}|"
done | tee "$out/table.md"
echo "raw output: $out"

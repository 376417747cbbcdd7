#!/usr/bin/env bash
# One spoken-digits epoch (examples/spoken_digits.toml, 700 → 256 → 20) per configuration —
# plain LIF, rounded delays (one tap per synapse), delays learned while σ is wide (σ = 3 steps,
# every tap of the 100 ms window) — for each binary given, interleaved ROUNDS times, so that
# the ratios to plain LIF (issue 16: ≤ 3× with delays) and the old/new speeds come from one
# sitting. Prints one JSON line per run and the fastest epoch of each (binary, configuration).
# Usage: bench/run_delay_epochs.sh ROUNDS THREADS VOLLEY_BINARY...
# Needs data/spoken_digits_{train,test}.h5 (volley dataset spoken-digits --out data/spoken_digits.h5).
source "$(dirname "$0")/common.sh" delayepochs
rounds=$1 threads=$2
shift 2
configs=(plain rounded blurred)
args() {  # sets the array a
  a=()
  case $1 in
    rounded) a=(--set 'layers.0.max_delay="100 ms"' --set 'layers.0.delay_sigma="0 ms"') ;;
    blurred) a=(--set 'layers.0.max_delay="100 ms"' --set 'layers.0.delay_sigma="30 ms"'
                --set layers.0.learn_delay=true) ;;
  esac
}
for r in $(seq "$rounds"); do
  b=0
  for bin in "$@"; do
    b=$((b + 1))
    for c in "${configs[@]}"; do
      dir="$out/b${b}_${c}_r$r"
      args "$c"
      "$bin" train examples/spoken_digits.toml --epochs 1 --threads "$threads" "${a[@]}" \
        --out "$dir" > "$dir.log" 2>&1
      $py -c "import json; m=json.loads(open('$dir/metrics.jsonl').readline()); print(json.dumps({'binary': '$bin', 'config': '$c', 'round': $r, 'epoch_seconds': m['epoch_seconds'], 'train_loss': m['train_loss']}))" | tee -a "$out/runs.jsonl"
    done
  done
done
$py - "$out/runs.jsonl" <<'PY' | tee "$out/results.jsonl"
import json, sys
best = {}
for line in open(sys.argv[1]):
    m = json.loads(line)
    k = (m["binary"], m["config"])
    best[k] = min(best.get(k, 1e9), m["epoch_seconds"])
for (b, c), t in best.items():
    plain = best[(b, "plain")]
    print(json.dumps({"binary": b, "config": c, "fastest_epoch_seconds": t, "ratio_to_plain": round(t / plain, 2)}))
PY

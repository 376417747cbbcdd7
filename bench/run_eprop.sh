#!/usr/bin/env bash
# e-prop against BPTT as the sequence grows (bench/RESULTS.md, "e-prop vs BPTT").
# Part 1, spoken digits: examples/spoken_digits_eprop.toml (700 → 128 recurrent LIF → 20 leaky
#   readouts, mean_ce), the same recordings binned to T = 100, 200, 400, 800 steps (dt = 10, 5,
#   2.5, 1.25 ms), trained by e-prop (symmetric feedback), BPTT dense and BPTT active-set (window
#   0.5) for EPOCHS epochs on 2 threads: test accuracy, mean epoch time, user CPU time and peak
#   RSS of the whole `volley train` process (/usr/bin/time -v).
# Part 2, the gradient engine alone: `bench_train eprop 2 SAMPLES T MODE`, one process per method,
#   the same network on synthetic 1 s SHD-like samples (rate per second fixed), T = 100 … 25600:
#   time per sample, gradient state per thread (BPTT's forward record, e-prop's traces) and peak
#   RSS.
# Needs data/spoken_digits_{train,test}.h5 (volley dataset spoken-digits --out data/spoken_digits.h5).
# Usage: bench/run_eprop.sh [EPOCHS=5] [TRAIN_LIMIT=0 (all)] [TEST_LIMIT=0 (all)]
#   With VOLLEY=path/to/volley BENCH_TRAIN=path/to/bench_train existing binaries are used instead
#   of building build-bench/; PARTS="2" runs only part 2 (default "1 2").
set -euo pipefail
epochs=${1:-5}
train_limit=${2:-0}
test_limit=${3:-0}
if [[ -n "${VOLLEY:-}" && -n "${BENCH_TRAIN:-}" ]]; then
  cd "$(dirname "$0")/.."
  volley=$VOLLEY
  bench_train=$BENCH_TRAIN
  out=bench/out/eprop-$(date +%Y%m%d-%H%M%S)
  mkdir -p "$out"
  py=/usr/bin/python3
else
  source "$(dirname "$0")/common.sh" eprop
  bench_train=build-bench/bench/bench_train
fi
limits=()
[[ "$train_limit" != 0 ]] && limits+=(--train-limit "$train_limit")
[[ "$test_limit" != 0 ]] && limits+=(--test-limit "$test_limit")

rss_kb() { grep "Maximum resident set size" "$1" | awk '{print $NF}'; }
user_s() { grep "User time (seconds)" "$1" | awk '{print $NF}'; }

parts=${PARTS:-1 2}
[[ " $parts " == *" 1 "* ]] && echo "part 1: spoken digits, $epochs epochs, limits: ${limits[*]:-none}" | tee "$out/part1.txt"
for T in 100 200 400 800; do
  [[ " $parts " == *" 1 "* ]] || break
  dt=$($py -c "print(1000/$T)")
  for method in eprop bptt_dense bptt_sparse; do
    case $method in
      eprop) set=(--set 'training.gradient="eprop"') ;;
      bptt_dense) set=(--set 'training.gradient="bptt"' --set 'backward.mode="dense"') ;;
      bptt_sparse) set=(--set 'training.gradient="bptt"' --set 'backward.mode="sparse"') ;;
    esac
    run=$out/sd_${method}_T$T
    /usr/bin/time -v "$volley" train examples/spoken_digits_eprop.toml --out "$run" --threads 2 \
      --epochs "$epochs" "${limits[@]}" --set "network.dt=\"$dt ms\"" --set "network.steps=$T" \
      "${set[@]}" > "$run.log" 2> "$run.time"
    $py - "$run/metrics.jsonl" "$T" "$method" "$(rss_kb "$run.time")" "$(user_s "$run.time")" <<'PY' | tee -a "$out/part1.txt"
import json, statistics, sys
m = [json.loads(l) for l in open(sys.argv[1])]
T, method, rss, user = sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
sec = [e["epoch_seconds"] for e in m]
best = max(m, key=lambda e: e["test_acc"])
print(f"T={T:>4} {method:<12} test_acc {m[-1]['test_acc']:.4f} (best {best['test_acc']:.4f} at "
      f"epoch {best['epoch']}) train_acc {m[-1]['train_acc']:.4f} epoch min {min(sec):5.1f} s "
      f"median {statistics.median(sec):5.1f} s  user {user:7.1f} s  peak RSS {rss / 1024:6.1f} MB")
PY
  done
done

[[ " $parts " == *" 2 "* ]] && echo "part 2: gradient engine, 16 synthetic 1 s samples, 2 threads" | tee "$out/part2.txt"
for T in 100 400 1600 6400 25600; do
  [[ " $parts " == *" 2 "* ]] || break
  samples=16
  for method in eprop bptt_dense bptt_sparse; do
    run=$out/engine_${method}_T$T
    /usr/bin/time -v "$bench_train" eprop 2 "$samples" "$T" "$method" > "$run.json" 2> "$run.time"
    $py - "$run.json" "$(rss_kb "$run.time")" <<'PY' | tee -a "$out/part2.txt"
import json, sys
d = json.loads(open(sys.argv[1]).read())
rss = int(sys.argv[2])
print(f"T={d['steps']:>5} {d['mode']:<12} {d['train_ms_per_sample']:9.2f} ms/sample  "
      f"state/thread {d['gradient_state_bytes_per_thread'] / 1e6:8.3f} MB  peak RSS {rss / 1024:6.1f} MB")
PY
  done
done
echo "results in $out"

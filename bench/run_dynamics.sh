#!/usr/bin/env bash
# Learned dynamics on spoken digits (issue 16): the ablation plain LIF / + learned τ /
# + adaptation (adlif with learned a and b) / + learned delays (input weights, window 100 ms) /
# all together (adlif, learned τ, a, b, θ and delays), each
# trained for 30 epochs on examples/spoken_digits.toml, over several datasets made with
# `volley dataset spoken-digits --seed S --out data/NAME.h5`. Prints one row per configuration
# with each dataset's test accuracy, the mean, the spread (max − min), the trainable parameter
# count and the median epoch time.
# Usage: bench/run_dynamics.sh [THREADS=2] [DATASETS="spoken_digits spoken_digits_s2 spoken_digits_s3"]
#        [CONFIGS="plain tau adapt delay all"]   (EXTRA="--epochs 1" and the like pass on to every run)
source "$(dirname "$0")/common.sh" dynamics
threads=${1:-2}
datasets=${2:-"spoken_digits spoken_digits_s2 spoken_digits_s3"}
configs=${3:-"plain tau adapt delay all"}

config_args() {
  local tau=(--set layers.0.learn_tau=true --set layers.1.learn_tau=true
             --set 'layers.0.tau_init="gamma"' --set layers.0.tau_cv=0.577
             --set layers.0.tau_lr_scale=0.1 --set layers.1.tau_lr_scale=0.1)
  local adapt=(--set 'layers.0.type="adlif"' --set layers.0.adapt_coupling=10.0
               --set layers.0.adapt_strength=1.0 --set layers.0.learn_adapt=true)
  local delay=(--set 'layers.0.max_delay="100 ms"' --set 'layers.0.delay_sigma="30 ms"'
               --set layers.0.learn_delay=true)
  case $1 in
    plain) ;;
    tau) echo "${tau[@]}" ;;
    adapt) echo "${adapt[@]}" ;;
    delay) echo "${delay[@]}" ;;
    all) echo "${adapt[@]} ${tau[@]} ${delay[@]} --set layers.0.learn_threshold=true" ;;
    *) echo "unknown configuration $1" >&2; exit 2 ;;
  esac
}

header="| configuration |"; rule="|---|"
for d in $datasets; do header="$header $d |"; rule="$rule---|"; done
echo "$header mean | spread | trainable parameters | median epoch (s) |"
echo "$rule---|---|---|---|"
for c in $configs; do
  row="| $c |"; accs=""
  for d in $datasets; do
    name="$c-$d"
    # shellcheck disable=SC2046  # config_args prints whole --set words without spaces inside
    eval "args=($(config_args "$c"))"
    $volley train examples/spoken_digits.toml --out "$out/$name" --threads "$threads" \
      --set "data.train=\"../data/${d}_train.h5\"" --set "data.test=\"../data/${d}_test.h5\"" "${args[@]}" ${EXTRA:-} \
      > "$out/$name.txt" 2>&1
    acc=$(json "$out/$name/summary.json" "d['test_acc']")
    accs="$accs $acc"; row="$row $(printf '%.4f' "$acc") |"
  done
  stats=$($py - "$out" "$c" $datasets $accs <<'EOF'
import json, statistics, sys
out, c = sys.argv[1], sys.argv[2]
rest = sys.argv[3:]
names, accs = rest[:len(rest)//2], [float(a) for a in rest[len(rest)//2:]]
epochs = [json.loads(l)["epoch_seconds"] for n in names for l in open(f"{out}/{c}-{n}/metrics.jsonl")]
params = json.load(open(f"{out}/{c}-{names[0]}/summary.json")).get("trainable_parameters", "?")
print(f"{statistics.mean(accs):.4f} | {max(accs) - min(accs):.4f} | {params} | {statistics.median(epochs):.2f} |")
EOF
)
  echo "$row $stats"
done

#!/usr/bin/env bash
# Heterogeneous and learned time constants on spoken digits (issue 16; the direction of
# Perez-Nieves et al., Nat. Commun. 2021): the initial membrane time constant of the hidden layer
# swept, each with homogeneous or gamma-distributed (shape 3, cv 0.577) time constants, learned or
# fixed. 30 epochs each (examples/spoken_digits.toml) on each dataset (data/NAME_{train,test}.h5,
# made with `volley dataset spoken-digits --seed S --out data/NAME.h5`). One table per dataset,
# then, per column, the spread over the initial τ (max − min) of each dataset and its mean.
# Usage: bench/run_heterogeneity.sh [THREADS=2] [TAU_MS="5 10 20 40 80"] [DATASETS=spoken_digits]
#        [COLUMNS="homfixed homlearned hetfixed hetlearned"]
#        (EXTRA="--set layers.0.tau_lr_scale=0.1 ..." passes on to every run)
source "$(dirname "$0")/common.sh" heterogeneity
threads=${1:-2}
taus=${2:-"5 10 20 40 80"}
datasets=${3:-spoken_digits}
columns=${4:-"homfixed homlearned hetfixed hetlearned"}

column_args() {
  case $1 in
    homfixed) echo "--set layers.0.learn_tau=false --set layers.1.learn_tau=false" ;;
    homlearned) echo "--set layers.0.learn_tau=true --set layers.1.learn_tau=true" ;;
    hetfixed) echo "--set layers.0.learn_tau=false --set layers.1.learn_tau=false $het" ;;
    hetlearned) echo "--set layers.0.learn_tau=true --set layers.1.learn_tau=true $het" ;;
    *) echo "unknown column $1" >&2; exit 2 ;;
  esac
}
het="--set layers.0.tau_init=\"gamma\" --set layers.0.tau_cv=0.577"

declare -A spread
for d in $datasets; do
  echo "$d:"
  echo "| tau_mem init | ${columns// / | } |"
  echo "|---|$(for _ in $columns; do printf -- '---|'; done)"
  declare -A accs=()
  for tau in $taus; do
    row="| $tau ms |"
    for col in $columns; do
      name="$d-tau${tau}-$col"
      eval "args=($(column_args "$col"))"
      $volley train examples/spoken_digits.toml --out "$out/$name" --threads "$threads" \
        --set "layers.0.tau_mem=\"$tau ms\"" \
        --set "data.train=\"../data/${d}_train.h5\"" --set "data.test=\"../data/${d}_test.h5\"" \
        "${args[@]}" ${EXTRA:-} > "$out/$name.txt" 2>&1
      acc=$(json "$out/$name/summary.json" "d['test_acc']")
      accs[$col]="${accs[$col]:-} $acc"
      row="$row $(printf '%.4f' "$acc") |"
    done
    echo "$row"
  done
  row="| spread over τ |"
  for col in $columns; do
    s=$($py -c "import sys; a=[float(x) for x in sys.argv[1:]]; print(f'{max(a)-min(a):.4f}')" ${accs[$col]})
    spread[$col]="${spread[$col]:-} $s"
    row="$row $s |"
  done
  echo "$row"
  unset accs
done
row="| mean spread over datasets |"
for col in $columns; do
  row="$row $($py -c "import sys; a=[float(x) for x in sys.argv[1:]]; print(f'{sum(a)/len(a):.4f}')" ${spread[$col]}) |"
done
echo "$row"

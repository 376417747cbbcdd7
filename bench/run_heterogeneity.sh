#!/usr/bin/env bash
# Heterogeneous and learned time constants on spoken digits (issue 16; the direction of
# Perez-Nieves et al., Nat. Commun. 2021): the initial membrane time constant of the hidden layer
# swept, each with homogeneous or gamma-distributed (shape 3, cv 0.577) time constants, learned or
# fixed. 30 epochs each (examples/spoken_digits.toml; needs data/spoken_digits_{train,test}.h5).
# Usage: bench/run_heterogeneity.sh [THREADS=2] [TAU_MS="5 10 20 40 80"]
source "$(dirname "$0")/common.sh" heterogeneity
threads=${1:-2}
taus=${2:-"5 10 20 40 80"}
echo "| tau_mem init | homogeneous, fixed | homogeneous, learned | heterogeneous, fixed | heterogeneous, learned |"
echo "|---|---|---|---|---|"
for tau in $taus; do
  row="| $tau ms |"
  for het in no yes; do
    for learn in false true; do
      name="tau${tau}-het${het}-learn${learn}"
      args=(--set "layers.0.tau_mem=\"$tau ms\"" --set "layers.0.learn_tau=$learn" --set "layers.1.learn_tau=$learn")
      [ "$het" = yes ] && args+=(--set 'layers.0.tau_init="gamma"' --set layers.0.tau_cv=0.577)
      $volley train examples/spoken_digits.toml --out "$out/$name" --threads "$threads" "${args[@]}" \
        > "$out/$name.txt" 2>&1
      acc=$(json "$out/$name/summary.json" "d['test_acc']")
      row="$row $(printf '%.4f' "$acc") |"
    done
  done
  echo "$row"
done

#!/usr/bin/env bash
# One network, two runners: trained networks exported with `volley export --all --check` and run
# by the simulator, compared with the trainer's forward pass spike for spike on every test sample.
# Trains what is missing under runs/ first: B3 (examples/fmnist.toml, 30 epochs), the recurrent
# variant and an ALIF variant (examples/fmnist_recurrent.toml, 5 epochs each), and the spoken-digits
# network (examples/spoken_digits.toml, 30 epochs; needs data/spoken_digits_{train,test}.h5 from
# `volley dataset spoken-digits --out data/spoken_digits.h5`).
# Usage: bench/run_export.sh [THREADS=2]
source "$(dirname "$0")/common.sh" export
threads=${1:-2}
train() {  # NAME CONFIG [ARGS...]
  local name=$1 cfg=$2; shift 2
  [ -f "runs/$name/checkpoint.bin" ] || $volley train "$cfg" --out "runs/$name" --threads "$threads" "$@" > "$out/$name-train.txt" 2>&1
}
train b3 examples/fmnist.toml
train rec examples/fmnist_recurrent.toml --epochs 5
train alif examples/fmnist_recurrent.toml --epochs 5 --set layers.0.type=alif
[ -f data/spoken_digits_test.h5 ] && train sd examples/spoken_digits.toml
echo "| network | test samples | identical | spikes (trainer = simulator) | mismatches | predictions agree | accuracy trainer / simulator | simulate (s) | trainer forward (s) |"
echo "|---|---|---|---|---|---|---|---|---|"
for name in b3 rec alif sd; do
  [ -f "runs/$name/checkpoint.bin" ] || continue
  $volley export "runs/$name/checkpoint.bin" --out "$out/$name" --all --check --threads "$threads" > "$out/$name.txt" 2>&1 || true
  $py - "$out/$name/check.json" "$name" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); n = c["samples"]
same = "yes" if c["trainer_spikes"] == c["simulator_spikes"] else "no"
print(f"| {sys.argv[2]} | {n} | {c['samples_identical']} | {c['trainer_spikes']} ({same}) | {c['spike_mismatches']} "
      f"| {c['prediction_agreements']} | {c['trainer_correct']/n:.4f} / {c['simulator_correct']/n:.4f} "
      f"| {c['simulate_seconds']:.2f} | {c['trainer_seconds']:.2f} |")
PY
done

#!/usr/bin/env bash
# End-to-end checks of `volley sim`, `train`, `eval` and `export`. Usage: cli_test.sh VOLLEY_BINARY TEST_DIR EXAMPLES_DIR
set -uo pipefail
volley=$1
here=$2
examples=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok:   $*"; }

# expect_error NAME EXPECTED_EXIT PATTERN... -- ARGS: the command must fail with that exit code
# and its stderr must contain every pattern.
expect_error() {
  local name=$1 code=$2; shift 2
  local patterns=()
  while [ "$1" != "--" ]; do patterns+=("$1"); shift; done
  shift
  "$volley" "$@" >"$work/out.txt" 2>"$work/err.txt"
  local rc=$?
  if [ "$rc" -ne "$code" ]; then fail "$name: exit $rc, expected $code ($(cat "$work/err.txt"))"; return; fi
  for p in "${patterns[@]}"; do
    grep -qF -- "$p" "$work/err.txt" || { fail "$name: stderr lacks '$p': $(cat "$work/err.txt")"; return; }
  done
  pass "$name"
}

# --- help ---
# (into a file: with pipefail, grep -q closing the pipe early would fail the command on SIGPIPE)
"$volley" --help >"$work/help.txt" && grep -q "sim" "$work/help.txt" && pass "volley --help" || fail "volley --help"
"$volley" sim --help | grep -q -- "--set" && "$volley" sim --help | grep -q -- "--threads" \
  && pass "volley sim --help" || fail "volley sim --help"

# --- built-in default model, shortened ---
if "$volley" sim --duration "200 ms" --out "$work/default" -q; then
  for key in wall_seconds build_seconds dt duration threads seed populations size spikes rate_hz cv_isi; do
    grep -q "\"$key\"" "$work/default/summary.json" || fail "summary.json lacks $key"
  done
  h5ls -r "$work/default/spikes.h5" | grep -q "/P/times" && h5ls -r "$work/default/spikes.h5" | grep -q "/P/units" \
    && pass "default run writes spikes.h5 and summary.json" || fail "spikes.h5 layout"
else
  fail "default run"
fi

# --- same seed, 1 vs 2 threads: identical spikes.h5 (--fixed-threads: no fall back to one) ---
"$volley" sim "$here/small.toml" --threads 1 --out "$work/t1" -q || fail "small.toml, 1 thread"
"$volley" sim "$here/small.toml" --threads 2 --fixed-threads --out "$work/t2" -q || fail "small.toml, 2 threads"
if cmp -s "$work/t1/spikes.h5" "$work/t2/spikes.h5"; then pass "1 and 2 threads give identical spikes.h5"
else fail "spikes.h5 differs between 1 and 2 threads"; fi
grep -q '"threads_used": 2' "$work/t2/summary.json" && ! grep -q '"thread_probe"' "$work/t2/summary.json" \
  && pass "--fixed-threads: 2 threads ran every step" || fail "--fixed-threads: $(grep threads "$work/t2/summary.json")"
# Without it, a stretch on one thread and one on two are timed and the faster runs the rest;
# the summary says which, and the spikes are the same.
"$volley" sim "$here/small.toml" --threads 2 --out "$work/t2fb" -q || fail "small.toml, 2 threads, fall back"
if python3 - "$work/t2fb/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
p = s["thread_probe"]
one, two = p["one_thread_step_seconds"], p["threads_step_seconds"]
assert one > 0 and two > 0, p
assert s["threads_used"] == (1 if one < two else 2), (s["threads_used"], p)
PY
then pass "fall back: the summary's thread_probe explains threads_used"; else fail "fall back: summary"; fi
cmp -s "$work/t1/spikes.h5" "$work/t2fb/spikes.h5" && pass "fall back: same spikes.h5" \
  || fail "fall back: spikes.h5 differs"
n1=$(h5ls -r "$work/t1/spikes.h5" | grep "/E/times" | grep -oE "\{[0-9]+" | tr -d '{')
[ "${n1:-0}" -gt 100 ] && pass "small.toml produced $n1 spikes" || fail "too few spikes: ${n1:-none}"
"$volley" sim "$here/small.toml" --seed 8 --out "$work/s8" -q
cmp -s "$work/t1/spikes.h5" "$work/s8/spikes.h5" && fail "another seed gave the same spikes" || pass "another seed differs"

# --- --set overrides ---
"$volley" sim "$here/small.toml" --set populations.E.size=123 --duration "50 ms" --out "$work/set" -q \
  && grep -A3 '"E"' "$work/set/summary.json" | grep -q '"size": 123' && pass "--set populations.E.size" \
  || fail "--set populations.E.size"

# --- bad input: clear message, non-zero exit, earlier results untouched ---
cp "$work/t1/spikes.h5" "$work/before.h5"
sed 's/^tau_m = "20 ms"/tau_mm = "20 ms"/' "$here/small.toml" > "$work/unknown_key.toml"
expect_error "unknown key" 2 "unknown_key.toml:10" "tau_mm" -- sim "$work/unknown_key.toml" --out "$work/t1"
cmp -s "$work/t1/spikes.h5" "$work/before.h5" && pass "failed run left earlier spikes.h5 intact" \
  || fail "failed run changed earlier results"
sed 's/^tau_m = "20 ms"/tau_m = "20 mV"/' "$here/small.toml" > "$work/wrong_unit.toml"
expect_error "wrong unit" 2 "wrong_unit.toml:10" "populations.E.tau_m" "voltage" -- sim "$work/wrong_unit.toml" --out "$work/x"
sed 's/^tau_m = "20 ms"/tau_m = "20"/' "$here/small.toml" > "$work/no_unit.toml"
expect_error "missing unit" 2 "no_unit.toml:10" "populations.E.tau_m" -- sim "$work/no_unit.toml" --out "$work/x"
sed 's/^tau_m = "20 ms"/tau_m = "-20 ms"/' "$here/small.toml" > "$work/neg_tau.toml"
expect_error "negative time constant" 2 "neg_tau.toml" "tau_m" -- sim "$work/neg_tau.toml" --out "$work/x"
sed 's/p = 0.05/p = 1.5/' "$here/small.toml" > "$work/bad_p.toml"
expect_error "probability outside [0, 1]" 2 "bad_p.toml:25" "projections.EE" "[0, 1]" -- sim "$work/bad_p.toml" --out "$work/x"
sed 's/^source = "X"/source = "Y"/' "$here/small.toml" > "$work/unknown_pop.toml"
expect_error "unknown population" 2 "unknown_pop.toml" "projections.XE" "'Y'" -- sim "$work/unknown_pop.toml" --out "$work/x"
sed 's/^\[populations.X\]/[populations.X/' "$here/small.toml" > "$work/malformed.toml"
expect_error "malformed TOML" 2 "malformed.toml:17" -- sim "$work/malformed.toml" --out "$work/x"
expect_error "missing file" 2 "no_such_model.toml" -- sim "$work/no_such_model.toml" --out "$work/x"
expect_error "bad --duration unit" 2 "--duration" "time" -- sim "$here/small.toml" --duration "10 mV" --out "$work/x"
expect_error "bad --set path" 2 "nothing.here" -- sim "$here/small.toml" --set nothing.here.x=1 --out "$work/x"

# --- training: volley train / eval (needs the IDX files of dataset-fashion-mnist) ---
fm=/usr/share/datasets/fashion-mnist
quick=(--train-limit 512 --test-limit 256)
if [ -d "$fm" ]; then
  cfg=$examples/fmnist.toml
  "$volley" train "$cfg" "${quick[@]}" --epochs 1 --threads 1 --out "$work/tr1" >/dev/null 2>&1 || fail "train, 1 thread"
  "$volley" train "$cfg" "${quick[@]}" --epochs 1 --threads 2 --out "$work/tr2" >/dev/null 2>&1 || fail "train, 2 threads"
  if cmp -s "$work/tr1/checkpoint.bin" "$work/tr2/checkpoint.bin"; then pass "train: 1 and 2 threads give identical checkpoints"
  else fail "train: checkpoints differ between 1 and 2 threads"; fi
  for key in epoch train_loss train_acc test_acc epoch_seconds samples_per_second active_fraction; do
    grep -q "\"$key\"" "$work/tr1/metrics.jsonl" || fail "metrics.jsonl lacks $key"
  done
  grep -q '"confusion"' "$work/tr1/summary.json" && pass "train writes metrics.jsonl and summary.json" \
    || fail "summary.json lacks the confusion matrix"
  "$volley" train "$cfg" "${quick[@]}" --epochs 2 --out "$work/straight" >/dev/null 2>&1 || fail "train 2 epochs"
  "$volley" train "$cfg" "${quick[@]}" --epochs 1 --out "$work/resumed" >/dev/null 2>&1 || fail "train 1 epoch"
  "$volley" train "$cfg" "${quick[@]}" --epochs 2 --out "$work/resumed" --resume >/dev/null 2>&1 || fail "train --resume"
  if cmp -s "$work/straight/checkpoint.bin" "$work/resumed/checkpoint.bin"; then pass "train --resume equals an uninterrupted run"
  else fail "train --resume differs from an uninterrupted run"; fi
  [ "$(wc -l < "$work/resumed/metrics.jsonl")" -eq 2 ] && pass "resumed metrics.jsonl has 2 epochs" || fail "resumed metrics.jsonl"
  "$volley" eval "$work/tr1/checkpoint.bin" --test-limit 256 > "$work/eval.txt" 2>&1 \
    && grep -q "accuracy" "$work/eval.txt" && pass "eval" || fail "eval: $(cat "$work/eval.txt")"
  "$volley" export "$work/tr1/checkpoint.bin" --out "$work/ex1" --samples 50 --check > "$work/export.txt" 2>&1 \
    && grep -q "50 samples, 50 identical" "$work/export.txt" && pass "export --check: the simulation equals the trainer" \
    || fail "export --check: $(cat "$work/export.txt")"
  "$volley" sim "$work/ex1/model.toml" --out "$work/ex1/run" >/dev/null 2>&1 && [ -f "$work/ex1/run/spikes.h5" ] \
    && pass "sim runs an exported network" || fail "sim of an exported network"
  expect_error "export: sample outside the test set" 2 "sample 99999 is outside the data" -- \
    export "$work/tr1/checkpoint.bin" --first 99999 --out "$work/x"
  # NIR out and back in: the imported network evaluates exactly as the original.
  "$volley" export "$work/tr1/checkpoint.bin" --format nir --out "$work/tr1.nir" >/dev/null 2>&1 \
    && "$volley" import "$work/tr1.nir" --out "$work/nir1" --train "$cfg" >/dev/null 2>&1 \
    && "$volley" eval "$work/nir1/checkpoint.bin" --test-limit 256 > "$work/eval_nir.txt" 2>&1 \
    && [ "$(grep -o 'accuracy [0-9.]*' "$work/eval.txt")" = "$(grep -o 'accuracy [0-9.]*' "$work/eval_nir.txt")" ] \
    && pass "export --format nir, import, eval: the same accuracy" \
    || fail "NIR round trip: $(cat "$work/eval.txt" "$work/eval_nir.txt" 2>/dev/null | grep accuracy)"
  expect_error "import: not a NIR file" 1 "$cfg" -- import "$cfg" --dt "1 ms" --out "$work/x"
  # Input noise: level 0 is the clean accuracy of eval.
  acc=$(grep -o 'accuracy [0-9.]*' "$work/eval.txt" | cut -d' ' -f2)
  "$volley" robustness "$work/tr1/checkpoint.bin" --noise deletion=0,0.5 --test-limit 256 --out "$work/rob" \
    --attack none > "$work/rob.txt" 2>&1 && [ -f "$work/rob/robustness.json" ] \
    && grep -q "deletion *0: $acc" "$work/rob.txt" \
    && pass "robustness: level 0 equals eval" || fail "robustness: $(cat "$work/rob.txt")"
  # Attacks: ε = 0 is the clean accuracy; the ANN twin trains, evaluates and is attacked beside it.
  "$volley" train "$cfg" "${quick[@]}" --epochs 1 --twin ann --out "$work/twin" > "$work/twin.txt" 2>&1 \
    && "$volley" eval "$work/twin/checkpoint.bin" --test-limit 256 --decisions > "$work/twin_eval.txt" 2>&1 \
    && grep -q "this network is the ANN twin" "$work/twin_eval.txt" \
    && pass "train --twin ann; eval reads the twin" || fail "twin: $(cat "$work/twin.txt" "$work/twin_eval.txt")"
  "$volley" robustness "$work/tr1/checkpoint.bin" --against "$work/twin/checkpoint.bin" --noise none \
    --attack fgsm pgd square --eps 0,8 --eps-l2 none --slopes 4 --queries 20 --square-limit 32 --test-limit 256 \
    --out "$work/rob2" > "$work/rob2.txt" 2>&1 \
    && grep -q "model   pgd  *linf  eps 0/255 *accuracy $acc" "$work/rob2.txt" \
    && grep -q "transfer_pgd" "$work/rob2/robustness.json" && grep -q '"worst_attack"' "$work/rob2/robustness.json" \
    && pass "robustness --against: every attack on both networks, transfer both ways" \
    || fail "robustness --against: $(cat "$work/rob2.txt")"
  expect_error "robustness: negative eps" 2 "--eps" "negative" -- \
    robustness "$work/tr1/checkpoint.bin" --eps -1 --out "$work/x"
  expect_error "robustness: unknown attack" 2 "--attack" "unknown attack 'deepfool'" -- \
    robustness "$work/tr1/checkpoint.bin" --attack deepfool --out "$work/x"
  expect_error "export: the ANN twin" 2 "ANN twin" -- export "$work/twin/checkpoint.bin" --out "$work/x"
  expect_error "eval --record: the ANN twin" 2 "ANN twin" "no spikes" -- \
    eval "$work/twin/checkpoint.bin" --test-limit 16 --record "$work/x"
  "$volley" train "$cfg" --train-limit 64 --test-limit 256 --epochs 1 --twin ann --set layers.0.size=50 \
    --out "$work/twin50" > /dev/null 2>&1 || fail "train a twin of 50 units"
  expect_error "robustness --against: a twin of other sizes" 2 "--against" "layer 0 has 50 units" "not its twin" -- \
    robustness "$work/tr1/checkpoint.bin" --against "$work/twin50/checkpoint.bin" --test-limit 256 --out "$work/x"
  expect_error "robustness: impossible level" 2 "probability in [0, 1]" -- \
    robustness "$work/tr1/checkpoint.bin" --noise deletion=2 --out "$work/x"
  expect_error "robustness: unknown noise" 2 "unknown noise 'loud'" -- \
    robustness "$work/tr1/checkpoint.bin" --noise loud --out "$work/x"
  # Decisions in time: the last step's accuracy is eval's.
  "$volley" eval "$work/tr1/checkpoint.bin" --test-limit 256 --early-exit 0.8 > "$work/dec.txt" 2>&1 \
    && grep -q "100: $(grep -o 'accuracy [0-9.]*' "$work/eval.txt" | cut -d' ' -f2);" "$work/dec.txt" \
    && grep -q "early exit at softmax margin 0.8" "$work/dec.txt" \
    && pass "eval --early-exit: full-length accuracy equals eval" || fail "eval --early-exit: $(cat "$work/dec.txt")"
  expect_error "train into a used directory" 1 "pass --resume" -- train "$cfg" "${quick[@]}" --epochs 1 --out "$work/tr1"
  expect_error "train: wrong dataset path" 1 "no/such/dir" "apt-get install dataset-fashion-mnist" -- \
    train "$cfg" --set 'data.path="no/such/dir"' --out "$work/bad1"
  expect_error "train: bad layer field" 2 "layers[0].tau_mem" "needs a unit" -- \
    train "$cfg" --set layers.0.tau_mem=10 --out "$work/bad2"
  expect_error "train: --resume with other options" 2 "options differ" -- \
    train "$cfg" --train-limit 256 --test-limit 256 --epochs 2 --out "$work/resumed" --resume
  expect_error "eval: not a checkpoint" 1 "not a volley checkpoint" -- eval "$cfg"
else
  echo "skip: training checks need $fm (apt-get install dataset-fashion-mnist)"
fi

# --- volley example sound-localization: summary.json with the required keys, and a plot ---
if "$volley" example sound-localization --step 30 --out "$work/sl" >/dev/null 2>&1; then
  ok=1
  for key in fibres_per_ear mean_abs_error_deg per_ipd true_deg estimate_deg; do
    grep -q "\"$key\"" "$work/sl/summary.json" || { fail "sound-localization summary.json lacks $key"; ok=0; }
  done
  grep -q "<svg" "$work/sl/ipd.svg" || { fail "sound-localization ipd.svg"; ok=0; }
  "$volley" sim "$work/sl/model_ipd90.toml" --duration "100 ms" --out "$work/sl_sim" -q || { fail "sim of the generated model"; ok=0; }
  [ "$ok" -eq 1 ] && pass "example sound-localization"
else
  fail "example sound-localization"
fi

# --- progress on a terminal: the run goes in parts with a progress line, and gives the same
#     spikes as one uninterrupted run ---
if command -v script >/dev/null 2>&1; then
  script -qec "$volley sim --duration '300 ms' --out $work/tty" /dev/null >"$work/tty.txt" 2>&1
  "$volley" sim --duration "300 ms" --out "$work/notty" -q
  if grep -q "s simulated" "$work/tty.txt" && h5diff -q "$work/tty/spikes.h5" "$work/notty/spikes.h5"; then
    pass "sim: progress on a terminal, same spikes as one run"
  else
    fail "sim progress: $(tail -c 300 "$work/tty.txt")"
  fi
fi

# --- Hebbian examples run by volley sim (short runs; tests/sim/test_hebbian_examples.cpp checks
# the figures): weight monitors end up in spikes.h5 ---
for ex in oja_pca bcm_selectivity; do
  "$volley" sim "$examples/$ex.toml" --duration "5 s" --out "$work/$ex" -q \
    && "$volley" analyze "$work/$ex/spikes.h5" --json >/dev/null && pass "sim $ex" || fail "sim $ex"
done

# --- synapses written as equations (examples/stdp_equations.toml): every synapse's w at the end ---
"$volley" sim "$examples/stdp_equations.toml" --duration "2 s" --set 'monitors.w.every="2 s"' \
  --out "$work/stdp_eq" -q && h5ls "$work/stdp_eq/spikes.h5/input/weights/w" | grep -q "^w .*Dataset {1, 1000}" \
  && pass "sim stdp_equations (synapse equations, weights recorded)" || fail "sim stdp_equations"

# --- volley reservoir: a liquid state machine with a ridge readout (small, quick) ---
if [ -d "$fm" ]; then
  res=(reservoir "$examples/fmnist_reservoir.toml" --train-limit 400 --test-limit 100 --set layers.0.size=100)
  if "$volley" "${res[@]}" --set reservoir.memory_capacity=false --out "$work/res" >/dev/null 2>&1 \
     && grep -q '"test_accuracy"' "$work/res/summary.json"; then
    pass "reservoir"
  else
    fail "reservoir"
  fi
  expect_error "reservoir: negative ridge" 2 "reservoir.ridge" -- "${res[@]}" --set reservoir.ridge=-1 --out "$work/res2"
fi

# --- volley evolve: evolution strategies on a training file's network; the same checkpoint for
#     1 and 2 threads; volley eval reads it; bad settings named ---
evo=(evolve "$examples/ipd_evolution.toml" --generations 3 --train-limit 128 --test-limit 64
     --set evolution.population=6 --set evolution.batch_size=16)
if "$volley" "${evo[@]}" --threads 1 --out "$work/evo1" >/dev/null 2>&1 \
   && "$volley" "${evo[@]}" --threads 2 --out "$work/evo2" >/dev/null 2>&1; then
  cmp -s "$work/evo1/checkpoint.bin" "$work/evo2/checkpoint.bin" && grep -q '"test_acc"' "$work/evo1/metrics.jsonl" \
    && pass "evolve: same checkpoint with 1 and 2 threads" || fail "evolve: checkpoints differ"
  "$volley" eval "$work/evo1/checkpoint.bin" --test-limit 32 >/dev/null 2>&1 && pass "eval reads an evolve checkpoint" \
    || fail "eval of an evolve checkpoint"
  if [ -f "$work/tr1/checkpoint.bin" ]; then
    expect_error "robustness --against: another task" 2 "--against" "another task" -- \
      robustness "$work/tr1/checkpoint.bin" --against "$work/evo1/checkpoint.bin" --out "$work/x"
  fi
  "$volley" "${evo[@]}" --set 'evolution.kind="sep_cmaes"' --out "$work/evo3" >/dev/null 2>&1 \
    && pass "evolve: sep_cmaes" || fail "evolve: sep_cmaes"
else
  fail "evolve"
fi
expect_error "evolve: odd population" 2 "evolution.population" "even" -- "${evo[@]}" --set evolution.population=5 --out "$work/evo4"
expect_error "evolve: bad kind" 2 "evolution.kind" -- "${evo[@]}" --set 'evolution.kind="genetic"' --out "$work/evo5"

# --- volley dataset spoken-digits: SHD layout, the same bytes for a seed whatever the thread
#     count, read back by h5py the way SHD files are read and trained on by volley train ---
py=/usr/bin/python3; [ -x "$py" ] || py=python3
if command -v espeak-ng >/dev/null 2>&1; then
  sd=(dataset spoken-digits --speakers m1,f2,m3 --test-speakers 1 --speeds 170 --pitches 50)
  if "$volley" "${sd[@]}" --threads 1 --out "$work/sd1/d.h5" >/dev/null 2>&1 \
     && "$volley" "${sd[@]}" --threads 2 --out "$work/sd2/d.h5" >/dev/null 2>&1; then
    cmp -s "$work/sd1/d_train.h5" "$work/sd2/d_train.h5" && cmp -s "$work/sd1/d_test.h5" "$work/sd2/d_test.h5" \
      && pass "dataset spoken-digits: same files with 1 and 2 threads" || fail "dataset spoken-digits: files differ with threads"
    "$volley" "${sd[@]}" --seed 5 --out "$work/sd3/d.h5" >/dev/null 2>&1
    cmp -s "$work/sd1/d_train.h5" "$work/sd3/d_train.h5" && fail "dataset spoken-digits: seed changes nothing" \
      || pass "dataset spoken-digits: another seed, other spikes"
    if "$py" -c "import h5py" 2>/dev/null; then
      "$py" "$here/../io/shd_h5py_check.py" "$work/sd1/d_train.h5" "$work/sd1/d.json" train \
        && "$py" "$here/../io/shd_h5py_check.py" "$work/sd1/d_test.h5" "$work/sd1/d.json" test \
        && pass "dataset spoken-digits: h5py reads it as SHD" || fail "dataset spoken-digits: h5py read-back"
    else
      fail "dataset spoken-digits: h5py is missing (apt-get install python3-h5py) so the read-back is unchecked"
    fi
    "$volley" train "$examples/spoken_digits.toml" --epochs 1 --out "$work/sd-train" \
      --set "data.train=\"$work/sd1/d_train.h5\"" --set "data.test=\"$work/sd1/d_test.h5\"" >/dev/null 2>&1 \
      && grep -q '"test_acc"' "$work/sd-train/metrics.jsonl" \
      && pass "example spoken_digits.toml trains on the generated files" || fail "example spoken_digits.toml"
    "$volley" train "$examples/spoken_digits_adlif.toml" --epochs 1 --out "$work/sd-adlif" \
      --set "data.train=\"$work/sd1/d_train.h5\"" --set "data.test=\"$work/sd1/d_test.h5\"" >/dev/null 2>&1 \
      && grep -q '"test_acc"' "$work/sd-adlif/metrics.jsonl" && grep -q '"trainable_parameters": *184832' "$work/sd-adlif/summary.json" \
      && pass "example spoken_digits_adlif.toml trains (184 832 trainable parameters)" || fail "example spoken_digits_adlif.toml"
    "$volley" train "$examples/spoken_digits_eprop.toml" --epochs 1 --out "$work/sd-eprop" \
      --set "data.train=\"$work/sd1/d_train.h5\"" --set "data.test=\"$work/sd1/d_test.h5\"" >"$work/out.txt" 2>&1 \
      && grep -q "e-prop, symmetric feedback" "$work/out.txt" && grep -q '"active_fraction":0.0' "$work/sd-eprop/metrics.jsonl" \
      && pass "example spoken_digits_eprop.toml trains with e-prop" || fail "example spoken_digits_eprop.toml: $(tail -3 "$work/out.txt")"
  else
    fail "dataset spoken-digits"
  fi
  expect_error "dataset: --out must be .h5" 2 "--out" ".h5" -- dataset spoken-digits --out "$work/x.txt"
  expect_error "dataset: one speaker" 2 "speakers" "at least two" -- dataset spoken-digits --speakers m1 --out "$work/y.h5"
  expect_error "dataset: unknown language" 2 "languages" "fr" -- dataset spoken-digits --languages fr --out "$work/y.h5"
  expect_error "dataset: missing held-out voice" 2 "test_speaker_names" "x9" -- dataset spoken-digits --test-speaker-names x9 --out "$work/y.h5"
fi

# --- counts on the command line: a plain message, not CLI11's range up to the largest double;
# a bad command line is bad input, exit 2 like a bad model file (docs/cli.md) ---
expect_error "train: --test-limit 0" 2 "--test-limit" "whole number >= 1" "'0'" -- train "$examples/fmnist.toml" --test-limit 0 --out "$work/x"
expect_error "sim: --threads 1.5" 2 "--threads" "whole number >= 1" -- sim "$examples/cuba.toml" --threads 1.5 --out "$work/x"
expect_error "unknown option" 2 "--no-such-option" -- sim --no-such-option
# A file that cannot be written is a failed run, exit 1, naming the file.
touch "$work/a_file"
expect_error "sim: --out is a file" 1 "a_file" -- sim "$here/small.toml" --out "$work/a_file"
mkdir -p "$work/summary_is_dir/summary.json"
expect_error "sim: summary.json cannot be written" 1 "summary_is_dir/summary.json" -- sim "$here/small.toml" --out "$work/summary_is_dir"

# --- fi: point models without R default to a voltage sweep (regression: lif used to fail); lif is
# class I (f -> 0 as 1/log), Izhikevich's regular-spiking default (b > a: Andronov-Hopf) class II ---
for mc in lif:I izhikevich:II; do
  m=${mc%%:*}
  "$volley" fi --model "$m" --points 9 --duration "200 ms" --out "$work/fi-$m" >"$work/out.txt" 2>&1 \
    && grep -q "class ${mc##*:}," "$work/out.txt" && grep -q '"unit": "V"' "$work/fi-$m/fi.json" \
    && pass "fi --model $m" || fail "fi --model $m: $(cat "$work/out.txt")"
done
# --- fi finds the rheobase itself: Morris-Lecar SNLC is class I with the default range (which used
# to say "none") and with one reaching its depolarisation block (which used to say II, hysteresis) ---
for range in "" "--i-max 150uA"; do
  "$volley" fi --model morris_lecar --preset snlc $range --points 11 --out "$work/fi-snlc" >"$work/out.txt" 2>&1 \
    && grep -q "class I, rheobase 4" "$work/out.txt" && ! grep -q "hysteresis" "$work/out.txt" \
    && grep -q '"sqrt_fit"' "$work/fi-snlc/fi.json" && head -1 "$work/fi-snlc/fi.csv" | grep -q "rate_from_firing_hz" \
    && pass "fi morris_lecar snlc $range" || fail "fi morris_lecar snlc $range: $(cat "$work/out.txt")"
done
# --- without gnuplot the f-I results still stand; only the figure is left out, with a warning ---
mkdir -p "$work/nognuplot" && printf '#!/bin/sh\nexit 127\n' > "$work/nognuplot/gnuplot" && chmod +x "$work/nognuplot/gnuplot"
PATH="$work/nognuplot:$PATH" "$volley" fi --model qif --out "$work/fi-nognuplot" >"$work/out.txt" 2>"$work/err.txt" \
  && [ -s "$work/fi-nognuplot/fi.json" ] && [ ! -e "$work/fi-nognuplot/fi.svg" ] \
  && grep -qF "fi.svg not drawn" "$work/err.txt" \
  && pass "fi without gnuplot: results, a warning, no figure" \
  || fail "fi without gnuplot: $(cat "$work/err.txt")"
expect_error "fi: unknown preset" 2 "--preset" "'snlc'" -- fi --model morris_lecar --preset saddle --out "$work/x"
expect_error "fi: a voltage range for a current-driven model" 2 "--i-min/--i-max" -- fi --model hh --i-max "5 mV" --out "$work/x"

# --- every example runs as written (shortened): model files with sim, training files with train ---
for model in "$examples"/*.toml; do
  if grep -q '^dataset = "shd"' "$model"; then
    continue  # needs generated files: checked above (spoken_digits*.toml)
  elif grep -q '^\[data\]' "$model"; then
    [ -d "$fm" ] || continue
    "$volley" train "$model" --epochs 1 --train-limit 256 --test-limit 256 --out "$work/ex-$(basename "$model")" \
      >/dev/null 2>&1 && pass "example $(basename "$model")" || fail "example $(basename "$model")"
  elif grep -q '^\[\[events\]\]' "$model"; then
    # Scheduled changes must lie within the run: run it whole (a few seconds at most).
    "$volley" sim "$model" --out "$work/example" -q && pass "example $(basename "$model")" \
      || fail "example $(basename "$model")"
  else
    "$volley" sim "$model" --duration "50 ms" --out "$work/example" -q && pass "example $(basename "$model")" \
      || fail "example $(basename "$model")"
  fi
done
expect_error "sim: an event after the shortened run" 2 "neuron_turnover.toml:" "events[0].time" \
  "beyond the run's duration (0.05 s)" -- sim "$examples/neuron_turnover.toml" --duration "50 ms" --out "$work/x"

if [ "$failures" -ne 0 ]; then echo "$failures CLI check(s) failed"; exit 1; fi
echo "all CLI checks passed"

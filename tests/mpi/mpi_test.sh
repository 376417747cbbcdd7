#!/usr/bin/env bash
# Distributed simulation and training end to end. `mpirun -np R volley sim` writes a spikes.h5 identical
# (every dataset and attribute, bit for bit) to one process's, for R = 1, 2, 4 (oversubscribed on a
# small machine) x threads 1, 2, on CUBA, Brunel (delays: spikes exchanged once per 1.5 ms) and
# a plastic E/I network with every section of the model format (STDP, weight and state
# monitors: exchanged every step); features that cannot be distributed are refused by name.
# `mpirun -np R volley train` writes the metrics and checkpoints of one process (Fashion-MNIST
# and a small spoken-digits set, BPTT and e-prop), also when resumed under another R, and
# `mpirun -np R volley evolve` the checkpoint of one process (OpenAI-ES, separable CMA-ES).
# Files are compared by h5_identical.py (shapes, types, bytes and attributes of everything).
# Usage: mpi_test.sh VOLLEY_BINARY MPIEXEC PYTHON TEST_DIR EXAMPLES_DIR
set -uo pipefail
volley=$1
mpiexec=$2
python=$3
here=$4
examples=$5
same() { "$python" "$here/h5_identical.py" "$1" "$2"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok:   $*"; }
# OpenMPI refuses root unless told (CI runs as root); more processes than cores is the point.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi() { "$mpiexec" --oversubscribe --bind-to none -np "$@"; }

# projection counts of summary.json (synapses, events): whole-network totals on any R
counts() { grep -E '"(synapses|events)"' "$1/summary.json"; }

check_model() {
  local name=$1 model=$2 duration=$3
  local ref="$work/$name-ref"
  if ! "$volley" sim "$model" --duration "$duration" -t 1 -q -o "$ref"; then
    fail "$name: the one-process run failed"; return
  fi
  # The comparison can fail: another seed gives another file.
  "$volley" sim "$model" --duration "$duration" -t 1 -q -s 12345 -o "$work/$name-seed"
  same "$ref/spikes.h5" "$work/$name-seed/spikes.h5" >/dev/null
  [ $? -eq 1 ] && pass "$name: another seed differs (the comparison can fail)" \
    || fail "$name: the comparison did not tell another seed's file apart"
  for r in 1 2 4; do
    for t in 1 2; do
      local out="$work/$name-$r-$t"
      if ! mpi "$r" "$volley" sim "$model" --duration "$duration" -t "$t" --fixed-threads -q -o "$out" \
           >"$work/log.txt" 2>&1; then
        fail "$name R=$r T=$t: mpirun failed: $(tail -5 "$work/log.txt")"; continue
      fi
      if same "$ref/spikes.h5" "$out/spikes.h5" >"$work/diff.txt" 2>&1; then
        pass "$name R=$r T=$t: spikes.h5 identical to one process"
      else
        fail "$name R=$r T=$t: spikes.h5 differs: $(head -20 "$work/diff.txt")"
      fi
      diff <(counts "$ref") <(counts "$out") >/dev/null \
        || fail "$name R=$r T=$t: summary.json synapse/event totals differ"
      # Only the first process writes.
      [ "$(ls "$out" | wc -l)" -eq 2 ] || fail "$name R=$r T=$t: expected spikes.h5 and summary.json only"
    done
  done
}

check_model cuba "$examples/cuba.toml" "300 ms"
check_model brunel "$examples/brunel_delta.toml" "150 ms"
check_model every_section "$here/every_section.toml" "300 ms"

# The spike files are not empty (identical empty files would prove nothing).
for name in cuba brunel every_section; do
  n=$(h5dump -H "$work/$name-ref/spikes.h5" | grep -A3 'DATASET "times"' | grep -oE '\( [0-9]+ \)' | head -1 | tr -dc 0-9)
  [ "${n:-0}" -gt 100 ] && pass "$name: $n spikes in the first population" || fail "$name: too few spikes (${n:-0})"
done

# Reward-modulated STDP (Izhikevich's distal reward, shortened and made eventful): the pairing
# reward follows the 50th synapse of neuron 0's row, held by a later process; every process
# sees the same spikes and releases the same dopamine. The summary's reward records (weight,
# mean of the others, pairings) and release times equal one process's, and so do the spikes.
rset=(--set 'rewards.chosen.window="200 ms"' --set 'rewards.chosen.delay_min="0.1 s"'
      --set 'rewards.chosen.delay_max="0.3 s"' --set 'rewards.chosen.record_every="0.5 s"'
      --set rewards.chosen.synapse=50)
rewards() { "$python" -c "
import json, sys
d = json.load(open(sys.argv[1]))
print(json.dumps([d['rewards'], d['modulators']], sort_keys=True))" "$1/summary.json"; }
if "$volley" sim "$examples/distal_reward.toml" --duration "10 s" "${rset[@]}" -q -o "$work/reward-ref"; then
  n=$("$python" -c "import json,sys; print(json.load(open(sys.argv[1]))['modulators']['dopamine']['releases'])" "$work/reward-ref/summary.json")
  [ "${n:-0}" -gt 2 ] && pass "reward: $n dopamine releases in one process" || fail "reward: too few releases (${n:-0})"
  for r in 2 4; do
    out="$work/reward-$r"
    if mpi "$r" "$volley" sim "$examples/distal_reward.toml" --duration "10 s" "${rset[@]}" -q -o "$out" \
         >"$work/log.txt" 2>&1; then
      [ "$(rewards "$work/reward-ref")" = "$(rewards "$out")" ] \
        && pass "reward R=$r: rewards and modulators in summary.json identical to one process" \
        || fail "reward R=$r: summary.json rewards or modulators differ"
      same "$work/reward-ref/spikes.h5" "$out/spikes.h5" >/dev/null \
        && pass "reward R=$r: spikes.h5 identical" || fail "reward R=$r: spikes.h5 differs"
    else
      fail "reward R=$r: mpirun failed: $(tail -5 "$work/log.txt")"
    fi
  done
else
  fail "reward: the one-process run failed"
fi

# Data-parallel training (2 epochs): metrics.jsonl (timings left out) and checkpoint.bin
# identical to one process for R = 2, 4 x T = 1, 2; a run resumed under another R continues
# the same run.
metrics() { "$python" -c "
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    print(json.dumps({k: v for k, v in d.items() if 'second' not in k}, sort_keys=True))" "$1"; }
check_training() {
  local name=$1; shift
  local ref="$work/train-$name-ref"
  if ! "$volley" train "$@" --epochs 2 -t 1 -o "$ref" >"$work/log.txt" 2>&1; then
    fail "train $name: the one-process run failed: $(tail -3 "$work/log.txt")"; return
  fi
  [ "$(wc -l < "$ref/metrics.jsonl")" -eq 2 ] || fail "train $name: expected 2 epochs of metrics"
  for r in 2 4; do
    for t in 1 2; do
      local out="$work/train-$name-$r-$t"
      if ! mpi "$r" "$volley" train "$@" --epochs 2 -t "$t" -o "$out" >"$work/log.txt" 2>&1; then
        fail "train $name R=$r T=$t: mpirun failed: $(tail -5 "$work/log.txt")"; continue
      fi
      if diff <(metrics "$ref/metrics.jsonl") <(metrics "$out/metrics.jsonl") >/dev/null &&
         cmp -s "$ref/checkpoint.bin" "$out/checkpoint.bin"; then
        pass "train $name R=$r T=$t: metrics.jsonl and checkpoint.bin identical to one process"
      else
        fail "train $name R=$r T=$t: results differ from one process"
      fi
    done
  done
  # One epoch on 4 processes, the second resumed on 2: the two-epoch run of one process.
  local split="$work/train-$name-split"
  mpi 4 "$volley" train "$@" --epochs 1 -t 1 -o "$split" >/dev/null 2>&1 &&
    mpi 2 "$volley" train "$@" --epochs 2 --resume -t 1 -o "$split" >/dev/null 2>&1 &&
    cmp -s "$ref/checkpoint.bin" "$split/checkpoint.bin" &&
    diff <(metrics "$ref/metrics.jsonl") <(metrics "$split/metrics.jsonl") >/dev/null \
    && pass "train $name: 1 epoch on 4 processes + --resume on 2 = 2 epochs on one" \
    || fail "train $name: a run resumed under another process count differs"
  # The comparison can fail: another seed trains differently.
  "$volley" train "$@" --epochs 2 -t 1 -s 99 -o "$work/train-$name-seed" >/dev/null 2>&1
  cmp -s "$ref/checkpoint.bin" "$work/train-$name-seed/checkpoint.bin" \
    && fail "train $name: another seed gave the same checkpoint" \
    || pass "train $name: another seed differs (the comparison can fail)"
}
# Fashion-MNIST (the Debian package dataset-fashion-mnist), 512 training samples: 8 chunks of
# 32 in each batch of 256, shared by the processes.
check_training fmnist "$examples/fmnist.toml" --train-limit 512 --test-limit 256
# Spoken digits: a small set from volley's generator (240 training and 60 test utterances).
if "$volley" dataset spoken-digits --out "$work/sd/tiny.h5" --speakers m1 m2 m3 f1 f2 \
     --test-speakers 1 --speeds 130 165 200 --pitches 50 --threads 2 >/dev/null 2>&1; then
  for cfg in spoken_digits spoken_digits_eprop; do
    check_training "$cfg" "$examples/$cfg.toml" --set "data.train=\"$work/sd/tiny_train.h5\"" \
      --set "data.test=\"$work/sd/tiny_test.h5\"" --set training.batch_size=128
  done
else
  fail "volley dataset spoken-digits (a small set) failed"
fi

# Evolution strategies: candidates shared out; the same checkpoint and metrics as one process.
for kind in openai_es sep_cmaes; do
  args=("$examples/ipd_evolution.toml" --set "evolution.kind=\"$kind\"" --set evolution.population=12
        --set evolution.batch_size=32 --generations 3)
  "$volley" evolve "${args[@]}" -t 1 -o "$work/evolve-$kind-ref" >/dev/null 2>&1 \
    || fail "evolve $kind: the one-process run failed"
  for r in 2 4; do
    out="$work/evolve-$kind-$r"
    mpi "$r" "$volley" evolve "${args[@]}" -t 2 -o "$out" >/dev/null 2>&1 &&
      cmp -s "$work/evolve-$kind-ref/checkpoint.bin" "$out/checkpoint.bin" &&
      diff <(metrics "$work/evolve-$kind-ref/metrics.jsonl") <(metrics "$out/metrics.jsonl") >/dev/null \
      && pass "evolve $kind R=$r: checkpoint.bin and metrics.jsonl identical to one process" \
      || fail "evolve $kind R=$r: results differ from one process"
  done
done

# Refused by name, with a non-zero exit on every process.
mpi 2 "$volley" sim "$examples/wang_buzsaki_gap.toml" --duration "10 ms" -q -o "$work/gap" \
  >"$work/out.txt" 2>"$work/err.txt"
rc=$?
[ $rc -ne 0 ] && grep -q "cannot run distributed over 2 processes" "$work/err.txt" \
  && pass "gap junctions refused under mpirun -np 2" \
  || fail "gap junctions under mpirun: exit $rc, $(cat "$work/err.txt" | head -5)"
mpi 2 "$volley" reservoir "$examples/fmnist_reservoir.toml" >"$work/out.txt" 2>"$work/err.txt"
rc=$?
[ $rc -ne 0 ] && grep -q "only \`volley sim\`, \`volley train\` and \`volley evolve\` run on several" "$work/err.txt" \
  && pass "volley reservoir refused under mpirun -np 2" \
  || fail "volley reservoir under mpirun: exit $rc, $(cat "$work/err.txt" | head -5)"
# -np 1 is one process: everything runs.
mpi 1 "$volley" sim "$examples/wang_buzsaki_gap.toml" --duration "10 ms" -q -o "$work/gap1" \
  && pass "mpirun -np 1 runs what one process runs" || fail "mpirun -np 1 with gap junctions failed"

if [ "$failures" -ne 0 ]; then echo "$failures failure(s)"; exit 1; fi
echo "all distributed-run checks passed"

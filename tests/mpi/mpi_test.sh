#!/usr/bin/env bash
# Distributed simulation end to end: `mpirun -np R volley sim` writes a spikes.h5 identical
# (every dataset and attribute, bit for bit) to one process's, for R = 1, 2, 4 (oversubscribed on a
# small machine) x threads 1, 2, on CUBA, Brunel (delays: spikes exchanged once per 1.5 ms) and
# a plastic E/I network with every section of the model format (STDP, weight and state
# monitors: exchanged every step); features that cannot be distributed are refused by name.
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
      if ! mpi "$r" "$volley" sim "$model" --duration "$duration" -t "$t" -q -o "$out" \
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

# Refused by name, with a non-zero exit on every process.
mpi 2 "$volley" sim "$examples/wang_buzsaki_gap.toml" --duration "10 ms" -q -o "$work/gap" \
  >"$work/out.txt" 2>"$work/err.txt"
rc=$?
[ $rc -ne 0 ] && grep -q "cannot run distributed over 2 processes" "$work/err.txt" \
  && pass "gap junctions refused under mpirun -np 2" \
  || fail "gap junctions under mpirun: exit $rc, $(cat "$work/err.txt" | head -5)"
mpi 2 "$volley" train "$examples/fmnist.toml" >"$work/out.txt" 2>"$work/err.txt"
rc=$?
[ $rc -ne 0 ] && grep -q "only \`volley sim\` runs on several processes" "$work/err.txt" \
  && pass "volley train refused under mpirun -np 2" \
  || fail "volley train under mpirun: exit $rc, $(cat "$work/err.txt" | head -5)"
# -np 1 is one process: everything runs.
mpi 1 "$volley" sim "$examples/wang_buzsaki_gap.toml" --duration "10 ms" -q -o "$work/gap1" \
  && pass "mpirun -np 1 runs what one process runs" || fail "mpirun -np 1 with gap junctions failed"

if [ "$failures" -ne 0 ]; then echo "$failures failure(s)"; exit 1; fi
echo "all distributed-run checks passed"

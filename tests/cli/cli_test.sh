#!/usr/bin/env bash
# End-to-end checks of `volley sim`. Usage: cli_test.sh VOLLEY_BINARY TEST_DIR EXAMPLES_DIR
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
"$volley" --help | grep -q "sim" && pass "volley --help" || fail "volley --help"
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

# --- same seed, 1 vs 2 threads: identical spikes.h5 ---
"$volley" sim "$here/small.toml" --threads 1 --out "$work/t1" -q || fail "small.toml, 1 thread"
"$volley" sim "$here/small.toml" --threads 2 --out "$work/t2" -q || fail "small.toml, 2 threads"
if cmp -s "$work/t1/spikes.h5" "$work/t2/spikes.h5"; then pass "1 and 2 threads give identical spikes.h5"
else fail "spikes.h5 differs between 1 and 2 threads"; fi
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

# --- every example model runs as written (shortened) ---
for model in "$examples"/*.toml; do
  "$volley" sim "$model" --duration "50 ms" --out "$work/example" -q && pass "example $(basename "$model")" \
    || fail "example $(basename "$model")"
done

if [ "$failures" -ne 0 ]; then echo "$failures CLI check(s) failed"; exit 1; fi
echo "all CLI checks passed"

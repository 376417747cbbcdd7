# Shared set-up for the bench/run_*.sh scripts (sourced, not run): a native release build with
# the CLI, an output folder under bench/out/, and a JSON field reader.
# Usage: source bench/common.sh NAME   -> sets py, volley, out; defines json FILE EXPR
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
py=/usr/bin/python3
if [ -z "${VOLLEY:-}" ]; then  # VOLLEY=path/to/volley skips the build (smoke tests of a script)
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DVOLLEY_NATIVE=ON -DVOLLEY_BUILD_TESTS=OFF \
    -DVOLLEY_BUILD_CLI=ON -DVOLLEY_BUILD_BENCH=ON >/dev/null
  cmake --build build-bench -j2 >/dev/null
fi
volley=${VOLLEY:-build-bench/volley}
out=bench/out/$1-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
json() { $py -c "import json,sys; d=json.load(open('$1')); print($2)"; }
# CLI overrides for examples/cuba.toml at size N with 80 synapses per neuron (4:1 E:I).
cuba_scale() {
  local n=$1 ne=$(( $1 * 4 / 5 ))
  local p
  p=$($py -c "print(80.0/$n)")
  echo --set populations.P.size=$n --set "projections.Ce.source=\"P[0:$ne]\"" \
       --set "projections.Ci.source=\"P[$ne:]\"" --set projections.Ce.connect.p=$p \
       --set projections.Ci.connect.p=$p
}

#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, then configures and builds the consumer
# project against it and runs one program per installed library.
set -euo pipefail
build_dir=$1
src_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
# Only public headers are installed: nothing internal (detail/, reference solvers) leaks.
if [ -e "$work/prefix/include/volley/detail" ] || [ -e "$work/prefix/include/volley/models/ode_reference.hpp" ]; then
  echo "internal headers were installed" >&2
  exit 1
fi
cmake -S "$src_dir" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" -j2 >/dev/null
for lib in volley data train ear io analysis report all_headers; do
  "$work/build/consume_$lib"
done

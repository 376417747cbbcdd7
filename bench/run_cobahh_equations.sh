#!/usr/bin/env bash
# Issue 18: Brian2's COBAHH equations pasted (examples/cobahh_equations.toml) beside the built-in
# traub_hh kernel (examples/cobahh.toml) and Brian2 2.5.1 cpp_standalone
# (../shared/anchors/brian2_cobahh.py), N = 4000, 1 s, one thread, seeds 1..S (default 3): mean
# rates (acceptance: the equations' within 5 % of Brian2's) and run times (best of 2 per seed).
# Usage: bench/run_cobahh_equations.sh [S]   (VOLLEY=build/volley skips the bench build)
source "$(dirname "$0")/common.sh" cobahh_equations
S=${1:-3}
export VOLLEY_KERNEL_CACHE="$PWD/$out/cache"
best() { $py -c "import sys; print(min(float(x) for x in sys.argv[1:]))" "$@"; }
rows=""
for s in $(seq 1 "$S"); do
  line=$(cd /tmp && $py "$OLDPWD/../shared/anchors/brian2_cobahh.py" 4000 1 "$s" 2>/dev/null | tail -1)
  brate=$(sed -E 's/.*rate=([0-9.]+)Hz.*/\1/' <<<"$line")
  bt=("$(sed -E 's/.*run_seconds=([0-9.]+).*/\1/' <<<"$line")")
  declare -a tf=() ti=() tb=()
  for rep in 1 2; do
    $volley sim examples/cobahh_equations.toml --seed "$s" --out "$out/eq_$s" -q
    $volley sim examples/cobahh_equations.toml --seed "$s" --out "$out/ieee_$s" -q --set populations.P.fast_math=false
    $volley sim examples/cobahh.toml --seed "$s" --out "$out/builtin_$s" -q
    (cd /tmp/b2cobahh_4000 && ./main >/dev/null 2>&1)
    tf+=("$(json "$out/eq_$s/summary.json" "d['wall_seconds']")")
    ti+=("$(json "$out/ieee_$s/summary.json" "d['wall_seconds']")")
    tb+=("$(json "$out/builtin_$s/summary.json" "d['wall_seconds']")")
    bt+=("$(cut -d' ' -f1 /tmp/b2cobahh_4000/results/last_run_info.txt)")
  done
  r() { json "$1/summary.json" "round(d['populations']['P']['rate_hz'],3)"; }
  rows+="| $s | $(r "$out/eq_$s") | $(r "$out/ieee_$s") | $(r "$out/builtin_$s") | $brate | $(best "${tf[@]}") | $(best "${ti[@]}") | $(best "${tb[@]}") | $(best "${bt[@]}") |"$'\n'
done
summary=$($py - <<PY
import statistics as st
rows = [[float(x) for x in r.split("|")[2:-1]] for r in """$rows""".strip().splitlines()]
m = lambda k: st.mean(r[k] for r in rows)
print(f"Mean rate: equations (fast_math) {m(0):.2f} Hz ({100*(m(0)-m(3))/m(3):+.1f} % vs Brian2), "
      f"equations IEEE {m(1):.2f} Hz ({100*(m(1)-m(3))/m(3):+.1f} %), built-in traub_hh {m(2):.2f} Hz "
      f"({100*(m(2)-m(3))/m(3):+.1f} %), Brian2 {m(3):.2f} Hz.")
print()
print(f"Mean run time: equations (fast_math) {m(4):.3f} s (Brian2/volley {m(7)/m(4):.1f}x, "
      f"built-in/equations {m(6)/m(4):.2f}x), equations IEEE {m(5):.3f} s, built-in {m(6):.3f} s, Brian2 {m(7):.3f} s.")
PY
)
{
  echo "## COBAHH as equations (issue 18) — $(date -u +%Y-%m-%d) — commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' + uncommitted changes')"
  echo
  echo "N = 4000, 1 s, one thread, seeds 1..$S, $(lscpu | sed -n 's/^Model name: *//p'); times best of 2 interleaved runs per seed."
  echo "Brian2 $($py -c 'import brian2; print(brian2.__version__)') cpp_standalone (run_seconds). Rates in Hz, times in s."
  echo
  echo "| seed | equations fast_math | equations IEEE | built-in traub_hh | Brian2 | t eq fast | t eq IEEE | t built-in | t Brian2 |"
  echo "|---|---|---|---|---|---|---|---|---|"
  printf "%s" "$rows"
  echo
  echo "$summary"
} > "$out/section.md"
cat "$out/section.md"
{ echo; cat "$out/section.md"; } >> bench/RESULTS.md

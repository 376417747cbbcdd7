#!/usr/bin/env bash
# Issue 18: CUBA written as Brian2's equations (examples/cuba_equations.toml, kernel generated and
# compiled at run time) beside the built-in lif kernel (examples/cuba.toml) and Brian2
# cpp_standalone, N = 4000, 10 s, one thread, best of 3 interleaved runs; plus the warm-cache
# build overhead. Usage: bench/run_equations.sh   (VOLLEY=build/volley skips the bench build)
source "$(dirname "$0")/common.sh" equations
anchor=../shared/anchors/brian2_cuba.py
[ -f "$anchor" ] || { echo "missing $anchor"; exit 1; }
export VOLLEY_KERNEL_CACHE="$PWD/$out/cache"
best() { $py -c "import sys; print(min(float(x) for x in sys.argv[1:]))" "$@"; }
declare -a tb te ted tbr
rates=""
for r in 1 2 3; do
  $volley sim examples/cuba.toml --duration "10 s" --seed $r --out "$out/builtin_$r" -q
  $volley sim examples/cuba_equations.toml --duration "10 s" --seed $r --out "$out/eq_$r" -q
  $volley sim examples/cuba_equations.toml --duration "10 s" --seed $r --out "$out/eqd_$r" -q \
    --set 'populations.P.precision="double"'
  tb+=("$(json "$out/builtin_$r/summary.json" "d['wall_seconds']")")
  te+=("$(json "$out/eq_$r/summary.json" "d['wall_seconds']")")
  ted+=("$(json "$out/eqd_$r/summary.json" "d['wall_seconds']")")
  read -r brun brate < <(cd /tmp && $py "$OLDPWD/$anchor" 4000 10 cpp_standalone $r 2>/dev/null | tail -1 |
                         sed -E 's/.*run_seconds=([0-9.]+).*rate=([0-9.]+)Hz.*/\1 \2/')
  tbr+=("$brun")
  rates+="| $r | $(json "$out/builtin_$r/summary.json" "round(d['populations']['P']['rate_hz'],3)") | $(json "$out/eq_$r/summary.json" "round(d['populations']['P']['rate_hz'],3)") | $(json "$out/eqd_$r/summary.json" "round(d['populations']['P']['rate_hz'],3)") | $brate |"$'\n'
done
first_compile=$(json "$out/eq_1/summary.json" "d['compile_seconds']")
warm_build=$(json "$out/eq_3/summary.json" "d['build_seconds']")
builtin_build=$(json "$out/builtin_3/summary.json" "d['build_seconds']")
b=$(best "${tb[@]}"); e=$(best "${te[@]}"); ed=$(best "${ted[@]}"); br=$(best "${tbr[@]}")
ratio() { $py -c "print(f'{$1/$2:.2f}')"; }
{
  echo "## Equations (issue 18) — $(date -u +%Y-%m-%d) — commit $(git rev-parse --short HEAD)"
  echo
  echo "CUBA, N = 4000, 10 s, one thread, $(lscpu | sed -n 's/^Model name: *//p'); best of 3 interleaved runs."
  echo
  echo "| runner | run (s) | vs built-in | Brian2 cpp_standalone / runner |"
  echo "|---|---|---|---|"
  echo "| built-in lif (examples/cuba.toml) | $b | 1.00 | $(ratio $br $b)x |"
  echo "| equations, single (examples/cuba_equations.toml) | $e | $(ratio $e $b) | $(ratio $br $e)x |"
  echo "| equations, double precision | $ed | $(ratio $ed $b) | $(ratio $br $ed)x |"
  echo "| Brian2 $($py -c 'import brian2; print(brian2.__version__)') cpp_standalone (run_seconds) | $br | | 1.0x |"
  echo
  echo "Compile on first run: $first_compile s (compile_seconds). Build with a warm cache: $warm_build s"
  echo "(built-in CUBA's build: $builtin_build s)."
  echo
  echo "| seed | built-in rate (Hz) | equations single (Hz) | equations double (Hz) | Brian2 (Hz) |"
  echo "|---|---|---|---|---|"
  printf "%s" "$rates"
} > "$out/section.md"
cat "$out/section.md"
{ echo; cat "$out/section.md"; } >> bench/RESULTS.md

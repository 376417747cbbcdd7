#!/usr/bin/env bash
# B2 (COBAHH) beside Brian2 2.5.1 cpp_standalone in one run: examples/cobahh.toml against
# ../shared/anchors/brian2_cobahh.py, seeds 1..S (default 3). Appends to bench/RESULTS.md.
seeds=${1:-3}
source "$(dirname "$0")/common.sh" b2
{
  echo "## B2 COBAHH — $(date -u +%Y-%m-%d) — commit $(git rev-parse --short HEAD)"
  echo
  echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores. N = 4000, 1 s, one thread, volley VOLLEY_NATIVE=ON."
  echo "Anchor: Brian2 $($py -c 'import brian2; print(brian2.__version__)' 2>/dev/null) cpp_standalone (run_seconds), same run. Times: best of the two simulators' runs per seed (interleaved)."
  echo
  echo "| seed | volley rate (Hz) | Brian2 rate (Hz) | volley run (s) | Brian2 run (s) | speed-up |"
  echo "|---|---|---|---|---|---|"
} > "$out/section.md"
vsum=0; bsum=0
for s in $(seq 1 "$seeds"); do
  line=$(cd /tmp && $py "$OLDPWD/../shared/anchors/brian2_cobahh.py" 4000 1 "$s" 2>/dev/null | tail -1)
  brate=$(echo "$line" | sed -E 's/.*rate=([0-9.]+)Hz.*/\1/')
  b_runs=("$(echo "$line" | sed -E 's/.*run_seconds=([0-9.]+).*/\1/')")
  v_runs=()
  for rep in 1 2; do
    $volley sim examples/cobahh.toml --seed "$s" --out "$out/v$s" -q
    v_runs+=("$(json "$out/v$s/summary.json" "d['wall_seconds']")")
    (cd /tmp/b2cobahh_4000 && ./main >/dev/null 2>&1)
    b_runs+=("$(cut -d' ' -f1 /tmp/b2cobahh_4000/results/last_run_info.txt)")
  done
  vrate=$(json "$out/v$s/summary.json" "round(d['populations']['P']['rate_hz'],2)")
  vrun=$($py -c "import sys; print(min(map(float, sys.argv[1:])))" "${v_runs[@]}")
  brun=$($py -c "import sys; print(min(map(float, sys.argv[1:])))" "${b_runs[@]}")
  ratio=$($py -c "print(f'{$brun/$vrun:.2f}x')")
  echo "| $s | $vrate | $brate | $(printf %.3f "$vrun") | $(printf %.3f "$brun") | $ratio |" >> "$out/section.md"
  vsum=$($py -c "print($vsum + $vrate)"); bsum=$($py -c "print($bsum + $brate)")
done
$py -c "print(f'\nMean rate over {$seeds} seeds: volley {$vsum/$seeds:.2f} Hz, Brian2 {$bsum/$seeds:.2f} Hz ({100*($vsum-$bsum)/$bsum:+.1f} %).\n')" >> "$out/section.md"
cat "$out/section.md"
cat "$out/section.md" >> bench/RESULTS.md

#!/usr/bin/env bash
# B1 (CUBA) beside Brian2 2.5.1 cpp_standalone, in one run on one machine.
# Usage: bench/run_b1.sh [SEEDS]    (default 5 seeds for the N = 4000, 10 s fidelity comparison)
# Needs: scripts/install-deps.sh --bench. Appends a section to bench/RESULTS.md and keeps the raw
# outputs under bench/out/ (git-ignored).
seeds=${1:-5}
source "$(dirname "$0")/common.sh" b1
log="$out/log.txt"

b2() {  # N SECONDS SEED -> "run_seconds rate"
  (cd /tmp && $py "$OLDPWD/../shared/anchors/brian2_cuba.py" "$1" "$2" cpp_standalone "$3" 2>/dev/null |
     tail -1 | sed -E 's/.*run_seconds=([0-9.]+).*rate=([0-9.]+)Hz.*/\1 \2/')
}
anchor_script=../shared/anchors/brian2_cuba.py
[ -f "$anchor_script" ] || { echo "missing $anchor_script"; exit 1; }

echo "## B1 CUBA — $(date -u +%Y-%m-%d) — commit $(git rev-parse --short HEAD)" > "$out/section.md"
{
  echo
  echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores. volley built with VOLLEY_NATIVE=ON."
  echo "Anchor: Brian2 $($py -c 'import brian2; print(brian2.__version__)' 2>/dev/null) cpp_standalone, run_seconds (its own timing of the run loop), same machine, same run."
  echo
  echo "### Fidelity: N = 4000, 10 s, one thread, seeds 1-5 (single runs; times are indicative)"
  echo
  echo "| seed | volley rate (Hz) | Brian2 rate (Hz) | volley CV | Brian2 CV | volley run (s) | volley build (s) | Brian2 run (s) | speed-up |"
  echo "|---|---|---|---|---|---|---|---|---|"
} >> "$out/section.md"

for s in $(seq 1 "$seeds"); do
  $volley sim examples/cuba.toml --duration "10 s" --seed "$s" --threads 1 --out "$out/v4000_$s" -q
  vrun=$(json "$out/v4000_$s/summary.json" "d['wall_seconds']")
  vbuild=$(json "$out/v4000_$s/summary.json" "d['build_seconds']")
  read -r vrate vcv < <($py bench/cuba_stats.py volley "$out/v4000_$s/spikes.h5" 4000 10 | sed -E 's/rate_hz=([0-9.]+) cv_isi=([0-9.na]+)/\1 \2/')
  read -r brun brate < <(b2 4000 10 "$s")
  read -r _ bcv < <((cd /tmp && $py "$OLDPWD/bench/cuba_stats.py" brian2 4000 10 "$s" 2>/dev/null | tail -1) | sed -E 's/rate_hz=([0-9.]+) cv_isi=([0-9.na]+)/\1 \2/')
  ratio=$($py -c "print(f'{$brun/$vrun:.1f}x')")
  echo "| $s | $vrate | $brate | $vcv | $bcv | $vrun | $vbuild | $brun | $ratio |" >> "$out/section.md"
  echo "seed $s done" >> "$log"
done

{
  echo
  echo "### Speed: best of 3 runs on each side (80 synapses per neuron)"
  echo
  echo "The machine is shared and noisy; each figure is the fastest of three runs, the two simulators"
  echo "interleaved. Brian2's runs execute the standalone binary its anchor script builds and times."
  echo
  echo "| N | T (s) | threads | volley run (s) | volley build (s) | Brian2 run (s) | speed-up | volley rate (Hz) | Brian2 rate (Hz) | volley peak RSS (MB) | bytes/synapse |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
} >> "$out/section.md"
best() { $py -c "import sys; print(min(float(x) for x in sys.argv[1:]))" "$@"; }
for spec in "4000 10" "40000 1" "400000 1"; do
  read -r n T <<< "$spec"
  read -r _ brate < <(b2 "$n" "$T" 1)  # builds the standalone binary; timed below with the rest
  b_runs=()
  v_runs_1=()
  v_runs_2=()
  # Interleave the two simulators so that both see the same machine conditions.
  for rep in 1 2 3; do
    (cd "/tmp/b2cuba_$n" && ./main >/dev/null 2>&1)
    b_runs+=("$(cut -d' ' -f1 "/tmp/b2cuba_$n/results/last_run_info.txt")")
    for t in 1 2; do
      # shellcheck disable=SC2046
      /usr/bin/time -f "%M" -o "$out/rss_${n}_$t" $volley sim examples/cuba.toml $(cuba_scale "$n") --duration "$T s" --threads "$t" --fixed-threads --out "$out/v${n}_t$t" -q
      w=$(json "$out/v${n}_t$t/summary.json" "d['wall_seconds']")
      if [ "$t" = 1 ]; then v_runs_1+=("$w"); else v_runs_2+=("$w"); fi
    done
  done
  brun=$(best "${b_runs[@]}")
  for t in 1 2; do
    if [ "$t" = 1 ]; then vrun=$(best "${v_runs_1[@]}"); else vrun=$(best "${v_runs_2[@]}"); fi
    vbuild=$(json "$out/v${n}_t$t/summary.json" "round(d['build_seconds'],3)")
    vrate=$(json "$out/v${n}_t$t/summary.json" "round(d['populations']['P']['rate_hz'],3)")
    bps=$(json "$out/v${n}_t$t/summary.json" "d['projections']['Ce']['bytes_per_synapse']")
    rss=$(( $(cat "$out/rss_${n}_$t") / 1024 ))
    ratio=$($py -c "print(f'{$brun/$vrun:.1f}x')")
    echo "| $n | $T | $t | $(printf %.3f "$vrun") | $vbuild | $(printf %.3f "$brun") | $ratio | $vrate | $brate | $rss | $bps |" >> "$out/section.md"
  done
done
echo >> "$out/section.md"
cat "$out/section.md"
cat "$out/section.md" >> bench/RESULTS.md

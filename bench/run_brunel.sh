#!/usr/bin/env bash
# Delivery-bound networks (issue 19, part 1): Brunel (2000) beside Brian2 2.5.1 cpp_standalone in
# one run, with the machine's memory bandwidth measured by bench_stream.
#   examples/brunel_p01.toml   — Brian2's examples/frompapers/Brunel_2000.py as written (p = 0.1)
#   examples/brunel_delta.toml — the same network with fixed in-degrees (1000 E + 250 I inputs)
# Brian2's anchor (../shared/anchors/brian2_brunel.py) is the p = 0.1 network; both volley files
# are timed against it. Best of REPS (default 3) interleaved runs, one thread.
# Optional: BASE=path/to/older/volley adds that build's times on the same files, plus CUBA,
# COBAHH and Auryn's COBA (regression check). Appends a section to bench/RESULTS.md.
reps=${1:-3}
source "$(dirname "$0")/common.sh" brunel
stream=${STREAM:-build-bench/bench/bench_stream}
best() { $py -c "import sys; print(min(float(x) for x in sys.argv[1:]))" "$@"; }
events() { json "$1" "sum(p['events'] for p in d['projections'].values())"; }

line=$(cd /tmp && $py "$OLDPWD/../shared/anchors/brian2_brunel.py" 1 2>/dev/null | tail -1)
b_rate=$(echo "$line" | sed -E 's/.*rateE=([0-9.]+)Hz.*/\1/')
b_cv=$(echo "$line" | sed -E 's/.*cvE=([0-9.]+).*/\1/')
b_syn=$(echo "$line" | sed -E 's/.*synapses=([0-9]+).*/\1/')
declare -A runs
files=(brunel_p01 brunel_delta)
for rep in $(seq 1 "$reps"); do
  (cd /tmp/b2brunel && ./main >/dev/null 2>&1)
  runs[b2]+=" $(cut -d' ' -f1 /tmp/b2brunel/results/last_run_info.txt)"
  for f in "${files[@]}"; do
    $volley sim "examples/$f.toml" --threads 1 --out "$out/$f" -q
    runs[$f]+=" $(json "$out/$f/summary.json" "d['wall_seconds']")"
    if [ -n "${BASE:-}" ]; then
      "$BASE" sim "examples/$f.toml" --threads 1 --out "$out/base_$f" -q
      runs[base_$f]+=" $(json "$out/base_$f/summary.json" "d['wall_seconds']")"
    fi
  done
done
# shellcheck disable=SC2086
brun=$(best ${runs[b2]})
{
  echo "## Brunel (2000), delivery-bound — $(date -u +%Y-%m-%d) — commit $(git rev-parse --short HEAD) (\`bench/run_brunel.sh\`)"
  echo
  echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; one thread; volley VOLLEY_NATIVE=ON."
  echo "Anchor: Brian2 $($py -c 'import brian2; print(brian2.__version__)' 2>/dev/null) cpp_standalone running its Brunel_2000.py network"
  echo "(12 500 neurons, p = 0.1, $b_syn synapses, 1 s), run_seconds, same run. Best of $reps interleaved runs."
  echo "Rates and CVs are over the 10 000 excitatory neurons (CV over neurons with >= 3 spikes)."
  echo
  echo "| network | synapses | volley run (s) | Brian2 run (s) | speed-up | rate E (Hz) | Brian2 rate E | CV E | Brian2 CV E | events (M) | events/s (G) | ns/event |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
} > "$out/section.md"
for f in "${files[@]}"; do
  s="$out/$f/summary.json"
  # shellcheck disable=SC2086
  vrun=$(best ${runs[$f]})
  pop=$(json "$s" "list(d['populations'])[0]")
  read -r vrate vcv < <($py bench/brunel_stats.py "$out/$f/spikes.h5" "$pop" 10000 1 | sed -E 's/rate_hz=([0-9.]+) cv_isi=([0-9.na]+)/\1 \2/')
  ev=$(events "$s")
  syn=$(json "$s" "sum(p['synapses'] for p in d['projections'].values())")
  $py - "$f" "$syn" "$vrun" "$brun" "$vrate" "$b_rate" "$vcv" "$b_cv" "$ev" >> "$out/section.md" <<'PY'
import sys
f, syn, v, b, vr, br, vc, bc, ev = sys.argv[1:]
v, b, ev = float(v), float(b), int(ev)
print(f"| {f} | {int(syn):,} | {v:.3f} | {b:.3f} | {b/v:.1f}x | {vr} ({100*(float(vr)/float(br)-1):+.1f} %) | {br} | {vc} | {bc} | {ev/1e6:.0f} | {ev/v/1e9:.2f} | {v/ev*1e9:.2f} |")
PY
done
if [ -x "$stream" ]; then
  {
    echo
    echo "Memory bandwidth of one thread on this machine (\`$stream\`, STREAM-style, 512 MiB arrays):"
    echo "$("$stream" 2>/dev/null | tr '\n' ';' | sed 's/;$//; s/;/, /g')."
  } >> "$out/section.md"
fi
if [ -n "${BASE:-}" ]; then
  {
    echo
    echo "Before/after on the same machine in the same run (BASE = $BASE, best of $reps):"
    echo
    echo "| model | before (s) | after (s) | after/before |"
    echo "|---|---|---|---|"
  } >> "$out/section.md"
  for f in "${files[@]}"; do
    # shellcheck disable=SC2086
    echo "| $f | $(best ${runs[base_$f]}) | $(best ${runs[$f]}) | $($py -c "print(f'{$(best ${runs[$f]})/$(best ${runs[base_$f]}):.2f}')") |" >> "$out/section.md"
  done
  for spec in "cuba --duration 10s" "cobahh" "auryn_coba --duration 20s"; do
    read -r f args <<< "$spec"
    a=(); b=()
    for rep in $(seq 1 "$reps"); do
      # shellcheck disable=SC2086
      "$BASE" sim "examples/$f.toml" $args --threads 1 --out "$out/base_$f" -q
      b+=("$(json "$out/base_$f/summary.json" "d['wall_seconds']")")
      # shellcheck disable=SC2086
      $volley sim "examples/$f.toml" $args --threads 1 --out "$out/$f" -q
      a+=("$(json "$out/$f/summary.json" "d['wall_seconds']")")
    done
    counts() { json "$1/summary.json" "[p['spikes'] for p in d['populations'].values()]"; }
    same=$([ "$(counts "$out/base_$f")" = "$(counts "$out/$f")" ] && echo "same spike counts" || echo "spike counts differ")
    echo "| $f ${args:-} ($same) | $(best "${b[@]}") | $(best "${a[@]}") | $($py -c "print(f'{$(best "${a[@]}")/$(best "${b[@]}"):.2f}')") |" >> "$out/section.md"
  done
fi
echo >> "$out/section.md"
cat "$out/section.md"
cat "$out/section.md" >> bench/RESULTS.md

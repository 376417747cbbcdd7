#!/usr/bin/env bash
# Issue 21: distributed simulation on this machine. CUBA at N = 400 000 (80 synapses per neuron,
# exchange every step) and Brunel's model A at N = 100 000 (E 80 000, I 20 000, in-degrees 1000
# and 250 as in examples/brunel_delta.toml, delays 1.5 ms: exchange every 15 steps), for
# R = 1 and 2 processes of one thread (and one process of two threads, beside), best of
# REPEATS interleaved runs. Splits process 0's run into neuron update, spike exchange and
# delivery (each phase includes its waits), and checks that the spike files are identical.
# Usage: bench/run_mpi.sh [REPEATS] [CUBA_SECONDS] [BRUNEL_SECONDS]   (default 3, 1, 0.2)
repeats=${1:-3}
cuba_s=${2:-1}
brunel_s=${3:-0.2}
source "$(dirname "$0")/common.sh" mpi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

cuba=(examples/cuba.toml --duration "$cuba_s s" --set populations.P.size=400000
      --set 'projections.Ce.source="P[0:320000]"' --set 'projections.Ci.source="P[320000:]"'
      --set projections.Ce.connect.p=0.0002 --set projections.Ci.connect.p=0.0002)
brunel=(examples/brunel_delta.toml --duration "$brunel_s s" --set populations.E.size=80000
        --set populations.I.size=20000)

run() {  # NAME CONFIG(R1T1|R2T1|R1T2) REPEAT ARGS...
  local name=$1 cfg=$2 k=$3; shift 3
  local dir="$out/$name-$cfg-$k"
  case $cfg in
    R1T1) mpirun --bind-to none -np 1 "$volley" sim "$@" -t 1 -q -o "$dir" ;;
    R2T1) mpirun --bind-to none -np 2 "$volley" sim "$@" -t 1 -q -o "$dir" ;;
    R1T2) "$volley" sim "$@" -t 2 --fixed-threads -q -o "$dir" ;;
  esac
}
for k in $(seq 1 "$repeats"); do
  for cfg in R1T1 R2T1 R1T2; do
    run cuba $cfg "$k" "${cuba[@]}"
    run brunel $cfg "$k" "${brunel[@]}"
  done
done

{
  echo
  echo "## Distributed simulation (issue 21) — $(date -u +%Y-%m-%d) — commit $(git rev-parse --short HEAD)"
  echo
  echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(mpirun --version | head -1)."
  echo "bench/run_mpi.sh $repeats $cuba_s $brunel_s: best of $repeats interleaved runs (run loop, summary.json wall_seconds of process 0)."
  echo "Phases are process 0's first thread: update (inputs, neuron updates, waiting for its threads),"
  echo "exchange (MPI_Allgather + Allgatherv, waiting for the other process), delivery (spikes into"
  echo "rings, recording). Efficiency = t(1 process) / (2 x t(2 processes))."
  echo
  echo "| network | synapses | spikes | config | run (s) | update (s) | exchange (s) | delivery (s) | peak RSS of process 0 (MB) | efficiency | identical to R=1 |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
} > "$out/section.md"
for name in cuba brunel; do
  for cfg in R1T1 R2T1 R1T2; do
    best=""
    for k in $(seq 1 "$repeats"); do
      t=$(json "$out/$name-$cfg-$k/summary.json" "d['wall_seconds']")
      if [ -z "$best" ] || $py -c "import sys; sys.exit(0 if $t < $best else 1)"; then best=$t; bk=$k; fi
    done
    s="$out/$name-$cfg-$bk/summary.json"
    eval "t_$cfg=$best"
    same=$($py tests/mpi/h5_identical.py "$out/$name-R1T1-1/spikes.h5" "$out/$name-$cfg-$bk/spikes.h5" >/dev/null && echo yes || echo NO)
    eff="—"
    [ "$cfg" = R2T1 ] && eff=$($py -c "print(f'{$t_R1T1 / (2 * $best):.0%}')")
    [ "$cfg" = R1T2 ] && eff="$($py -c "print(f'{$t_R1T1 / (2 * $best):.0%}')") (threads)"
    $py - "$s" "$name" "$cfg" "$eff" "$same" >> "$out/section.md" <<'PY'
import json, sys
path, name, cfg, eff, same = sys.argv[1:]
d = json.load(open(path))
syn = sum(p["synapses"] for p in d["projections"].values()) if isinstance(d["projections"], dict) else sum(p["synapses"] for p in d["projections"])
spikes = sum(p["spikes"] for p in d["populations"].values())
ph = d.get("phases", {})
label = {"R1T1": "1 process x 1 thread", "R2T1": "2 processes x 1 thread", "R1T2": "1 process x 2 threads"}[cfg]
print(f"| {name} | {syn:,} | {spikes:,} | {label} | {d['wall_seconds']:.2f} | {ph.get('update_seconds', 0):.2f} | "
      f"{ph.get('exchange_seconds', 0):.2f} | {ph.get('deliver_seconds', 0):.2f} | {d.get('peak_rss_bytes', 0) / 1e6:.0f} | {eff} | {same} |")
PY
  done
done
cat "$out/section.md" | tee -a bench/RESULTS.md

#!/usr/bin/env bash
# Issue 21: data-parallel training on this machine. One epoch of B3 (examples/fmnist.toml, the
# full 60 000 Fashion-MNIST samples, test on 10 000) and of spoken digits (examples/
# spoken_digits.toml on data/spoken_digits_*.h5, made by `volley dataset spoken-digits --out
# data/spoken_digits.h5`), for 1 and 2 processes of one thread and one process of two threads,
# best of REPEATS interleaved runs; checks the checkpoints are identical.
# Usage: bench/run_mpi_train.sh [REPEATS]   (default 3)
repeats=${1:-3}
source "$(dirname "$0")/common.sh" mpi-train
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

run() {  # NAME CONFIG REPEAT ARGS...
  local name=$1 cfg=$2 k=$3; shift 3
  local dir="$out/$name-$cfg-$k"
  case $cfg in
    R1T1) mpirun --bind-to none -np 1 "$volley" train "$@" -t 1 -o "$dir" >/dev/null ;;
    R2T1) mpirun --bind-to none -np 2 "$volley" train "$@" -t 1 -o "$dir" >/dev/null ;;
    R1T2) "$volley" train "$@" -t 2 -o "$dir" >/dev/null ;;
  esac
}
nets=(fmnist)
[ -f data/spoken_digits_train.h5 ] && nets+=(spoken_digits)
for k in $(seq 1 "$repeats"); do
  for cfg in R1T1 R2T1 R1T2; do
    for name in "${nets[@]}"; do run "$name" $cfg "$k" "examples/$name.toml" --epochs 1; done
  done
done
{
  echo
  echo "## Data-parallel training (issue 21) — $(date -u +%Y-%m-%d) — commit $(git rev-parse --short HEAD)"
  echo
  echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(mpirun --version | head -1)."
  echo "bench/run_mpi_train.sh $repeats: one epoch, best of $repeats interleaved runs (metrics.jsonl epoch_seconds: training only; test_seconds: the evaluation)."
  echo "Efficiency = t(1 process) / (2 x t(2 processes))."
  echo
  echo "| training file | config | epoch (s) | test pass (s) | efficiency | test accuracy | checkpoint identical to 1 process |"
  echo "|---|---|---|---|---|---|---|"
} > "$out/section.md"
for name in "${nets[@]}"; do
  for cfg in R1T1 R2T1 R1T2; do
    best=""; bk=1
    for k in $(seq 1 "$repeats"); do
      t=$(json "$out/$name-$cfg-$k/metrics.jsonl" "d['epoch_seconds']")
      if [ -z "$best" ] || $py -c "import sys; sys.exit(0 if $t < $best else 1)"; then best=$t; bk=$k; fi
    done
    eval "t_$cfg=$best"
    m="$out/$name-$cfg-$bk/metrics.jsonl"
    same=$(cmp -s "$out/$name-R1T1-1/checkpoint.bin" "$out/$name-$cfg-$bk/checkpoint.bin" && echo yes || echo NO)
    eff="—"
    [ "$cfg" = R2T1 ] && eff=$($py -c "print(f'{$t_R1T1 / (2 * $best):.0%}')")
    [ "$cfg" = R1T2 ] && eff="$($py -c "print(f'{$t_R1T1 / (2 * $best):.0%}')") (threads)"
    label=$(case $cfg in R1T1) echo "1 process x 1 thread";; R2T1) echo "2 processes x 1 thread";; R1T2) echo "1 process x 2 threads";; esac)
    echo "| examples/$name.toml | $label | $(printf '%.2f' "$best") | $(printf '%.2f' "$(json "$m" "d['test_seconds']")") | $eff | $(json "$m" "d['test_acc']") | $same |" >> "$out/section.md"
  done
done
cat "$out/section.md" | tee -a bench/RESULTS.md

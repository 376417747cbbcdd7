#!/usr/bin/env bash
# Benchmark B4 (long spike sequences): 700 inputs, 500 steps of 2 ms, two hidden layers of 400
# LIF neurons, 20 readouts, batch 128, synthetic SHD-like spikes. volley's forward and
# backward (dense and active-set) from bench_train, and PyTorch for the same network
# (bench/torch_b4.py), 2 threads each, with peak memory from /usr/bin/time -v.
# Usage: bench/run_b4.sh [VOLLEY_BATCHES=4] [TORCH_BATCHES=2] [THREADS=2]
source "$(dirname "$0")/common.sh" b4
vb=${1:-4}
tb=${2:-2}
threads=${3:-2}
/usr/bin/time -v build-bench/bench/bench_train b4 "$threads" "$vb" > "$out/volley.jsonl" 2> "$out/volley.time"
/usr/bin/time -v $py bench/torch_b4.py "$tb" "$threads" > "$out/torch.txt" 2> "$out/torch.time"
cat "$out/volley.jsonl" "$out/torch.txt"
grep "Maximum resident" "$out/volley.time" "$out/torch.time"

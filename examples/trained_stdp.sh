#!/usr/bin/env bash
# A trained network in the simulator, then changed by plasticity: the B3 Fashion-MNIST network
# exported with `volley export`, its input weights made plastic with pair STDP, and its accuracy
# followed over 2000 test samples against the network as trained.
#
# Usage: examples/trained_stdp.sh [CHECKPOINT] [OUT=out/trained_stdp] [A=0.00002]
#   CHECKPOINT defaults to out/fmnist/checkpoint.bin; without it, B3 is trained first
#   (build/volley train examples/fmnist.toml --out out/fmnist: 30 epochs, about 2 minutes).
# Expected (measured 2026-12-04 on B3 after 30 epochs, test accuracy 0.864, A = 2e-5; see
# bench/RESULTS.md): the export alone is identical to the trainer on every sample; with STDP the
# accuracy per block of 200 samples falls from 0.885 in the first block to 0.62, 0.32, ... and
# about 0.10 (chance) after 1600 samples, while the trained network stays at 0.84-0.90:
# unsupervised STDP overwrites the learned input weights within a few hundred samples.
# Then `volley report OUT/run` shows the rasters and the weights of 16 input synapses drifting.
set -euo pipefail
cd "$(dirname "$0")/.."
ckpt=${1:-out/fmnist/checkpoint.bin}
out=${2:-out/trained_stdp}
a=${3:-0.00002}
volley=build/volley
if [ ! -f "$ckpt" ]; then
  $volley train examples/fmnist.toml --out "$(dirname "$ckpt")" --threads 2
fi
stdp="projections.layer0_w.plasticity={rule=\"stdp\", a_plus=$a, a_minus=$a, tau_plus=\"20 ms\", tau_minus=\"20 ms\", w_min=-1, w_max=1}"
# 1. The export, checked against the trainer (exit status 1 if any spike differs).
$volley export "$ckpt" --out "$out" --samples 2000 --check --threads 2
# 2. The same samples with STDP on the input weights: accuracy per block of 200 samples.
$volley export "$ckpt" --out "$out" --samples 2000 --check --threads 2 --blocks 10 --set "$stdp"
# 3. The plastic run in the simulator with a weight monitor, and its report.
synapses="[[100,0],[100,1],[200,2],[200,3],[300,4],[300,5],[400,6],[400,7],[500,8],[500,9],[600,10],[600,11],[700,12],[700,13],[406,14],[406,15]]"
$volley sim "$out/model.toml" --threads 2 --out "$out/run" --set "$stdp" \
  --set "monitors.w0={type=\"weights\", projection=\"layer0_w\", synapses=$synapses, every=\"100 ms\"}"
$volley report "$out/run"
echo "report: $out/run/report.html"

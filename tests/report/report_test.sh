#!/usr/bin/env bash
# volley report end to end: a simulation, a training run with a recorded network and an f-I run
# are reported; each report.html renders in headless Chromium without console errors and with
# figures that are not blank (render_check.py); volley analyze prints statistics.
# Usage: report_test.sh VOLLEY_BINARY THIS_DIR EXAMPLES_DIR
set -uo pipefail
volley=$1
here=$2
examples=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok:   $*"; }
py=/usr/bin/python3; [ -x "$py" ] || py=python3
for tool in gnuplot chromium; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (scripts/install-deps.sh installs it)"; exit 1; }
done
"$py" -c "import PIL" 2>/dev/null || { echo "FAIL: python3-pil is missing (scripts/install-deps.sh installs it)"; exit 1; }

# --- simulation: CUBA with a state and a rate monitor ---
if "$volley" sim "$examples/cuba.toml" --duration "300 ms" --out "$work/sim" -q \
   --set 'monitors.v={type="state", population="P[0:5]", variables=["v"], every="0.5 ms"}' \
   --set 'monitors.r={type="rate", population="P", bin="2 ms"}' >/dev/null 2>&1; then
  if "$volley" report "$work/sim" >"$work/out.txt" 2>&1; then
    ls "$work/sim/figures/"*.svg >/dev/null 2>&1 && pass "report: simulation figures as SVG files" || fail "report: no SVG files"
    "$py" "$here/render_check.py" "$work/sim/report.html" "$work/sim.png" 6 \
      && pass "report: simulation renders in Chromium" || fail "report: simulation render"
  else
    fail "report simulation: $(cat "$work/out.txt")"
  fi
  "$volley" analyze "$work/sim/spikes.h5" --json > "$work/a.json" 2>&1 \
    && "$py" -c "import json,sys; d=json.load(open('$work/a.json'))['populations']['P']; sys.exit(0 if d['spikes'] > 0 and 0 < d['rate_mean'] < 100 else 1)" \
    && pass "analyze --json" || fail "analyze --json: $(head -c 400 "$work/a.json")"
  "$volley" analyze "$work/sim/spikes.h5" --population Q >/dev/null 2>"$work/err.txt"
  [ $? -eq 2 ] && grep -q "Q" "$work/err.txt" && pass "analyze: unknown population named" || fail "analyze: unknown population"
else
  fail "sim for the report"
fi

# --- reward-modulated STDP: the reward figure from summary.json ---
if "$volley" sim "$examples/distal_reward.toml" --duration "30 s" --out "$work/da" -q \
   --set 'rewards.chosen.record_every="1 s"' >/dev/null 2>&1 \
   && "$volley" report "$work/da" >"$work/out.txt" 2>&1; then
  [ -s "$work/da/figures/reward_chosen.svg" ] && pass "report: reward figure" || fail "report: no reward figure"
  "$py" "$here/render_check.py" "$work/da/report.html" "$work/da.png" 1 \
    && pass "report: reward report renders" || fail "report: reward render"
else
  fail "distal reward report: $(cat "$work/out.txt" 2>/dev/null)"
fi

# --- training + recorded network (Fashion-MNIST when installed) ---
fm=/usr/share/datasets/fashion-mnist
if [ -d "$fm" ]; then
  if "$volley" train "$examples/fmnist.toml" --epochs 2 --train-limit 512 --test-limit 256 --out "$work/train" >/dev/null 2>&1 \
     && "$volley" eval "$work/train/checkpoint.bin" --record "$work/train" >/dev/null 2>&1 \
     && "$volley" report "$work/train" >"$work/out.txt" 2>&1; then
    grep -q "training, recording" "$work/out.txt" && pass "report: training and recording sections" || fail "report kinds: $(cat "$work/out.txt")"
    "$py" "$here/render_check.py" "$work/train/report.html" "$work/train.png" 8 \
      && pass "report: training renders in Chromium" || fail "report: training render"
    "$volley" analyze "$work/train/record.h5" --population layer0 >/dev/null 2>&1 && pass "analyze record.h5" || fail "analyze record.h5"
  else
    fail "training report: $(cat "$work/out.txt" 2>/dev/null)"
  fi
  # Learned, heterogeneous time constants: a histogram per layer with the start in the caption.
  if "$volley" train "$examples/fmnist.toml" --epochs 1 --train-limit 256 --test-limit 64 --out "$work/tau" \
       --set 'layers.0.tau_init="gamma"' --set layers.0.tau_cv=0.5 --set layers.0.learn_tau=true >/dev/null 2>&1 \
     && "$volley" report "$work/tau" >/dev/null 2>&1; then
    [ -f "$work/tau/figures/tau_layer0.beta.svg" ] && [ -f "$work/tau/figures/tau_layer0.alpha.svg" ] \
      && grep -q "at the start" "$work/tau/report.html" && [ ! -f "$work/tau/figures/tau_layer1.beta.svg" ] \
      && pass "report: learned time constants of layer 0 only" || fail "report: time-constant histograms"
  else
    fail "report of a learned-τ run"
  fi
  # adlif with learned adaptation and thresholds: ρ as time constants, θ, a and b as values.
  if "$volley" train "$examples/fmnist.toml" --epochs 1 --train-limit 256 --test-limit 64 --out "$work/adlif" \
       --set 'layers.0.type="adlif"' --set layers.0.learn_tau=true --set layers.0.learn_adapt=true \
       --set layers.0.learn_threshold=true --set layers.0.adapt_coupling=1.0 >/dev/null 2>&1 \
     && "$volley" report "$work/adlif" >/dev/null 2>&1; then
    [ -f "$work/adlif/figures/tau_layer0.rho.svg" ] && [ -f "$work/adlif/figures/param_layer0.theta.svg" ] \
      && [ -f "$work/adlif/figures/param_layer0.a.svg" ] && [ -f "$work/adlif/figures/param_layer0.b.svg" ] \
      && grep -q "adaptation jumps b" "$work/adlif/report.html" \
      && pass "report: learned adlif dynamics and thresholds" || fail "report: adlif histograms"
  else
    fail "report of an adlif run"
  fi
  # Learned delays: a histogram of the rounded delays after training.
  if "$volley" train "$examples/fmnist.toml" --epochs 2 --train-limit 256 --test-limit 64 --out "$work/delays" \
       --set 'layers.0.max_delay="5 ms"' --set 'layers.0.delay_sigma="2 ms"' \
       --set layers.0.learn_delay=true >/dev/null 2>&1 \
     && "$volley" report "$work/delays" >/dev/null 2>&1; then
    [ -f "$work/delays/figures/param_layer0.delay.svg" ] && grep -q "synaptic delays" "$work/delays/report.html" \
      && pass "report: learned delays" || fail "report: delay histogram"
  else
    fail "report of a run with learned delays"
  fi
  # Deep R: the connectivity per epoch and the synapses per pixel.
  if "$volley" train "$examples/fmnist_deep_r.toml" --epochs 2 --train-limit 512 --test-limit 64 \
       --out "$work/deep_r" >/dev/null 2>&1 && "$volley" report "$work/deep_r" >/dev/null 2>&1; then
    ok=1
    for f in rewiring_rewired rewiring_active rewiring_rows rewiring_pixels; do
      [ -s "$work/deep_r/figures/$f.svg" ] || ok=0
    done
    [ "$ok" -eq 1 ] && grep -q "Synapses per input pixel" "$work/deep_r/report.html" \
      && pass "report: Deep R connectivity" || fail "report: Deep R figures"
  else
    fail "report of a Deep R run"
  fi
fi

# --- f-I ---
if "$volley" fi --model hh --out "$work/fi" >/dev/null 2>&1 && "$volley" report "$work/fi" >/dev/null 2>&1; then
  "$py" "$here/render_check.py" "$work/fi/report.html" "$work/fi.png" 1 && pass "report: f-I renders" || fail "report: f-I render"
else
  fail "f-I report"
fi

# --- nothing to report ---
mkdir -p "$work/empty"
"$volley" report "$work/empty" >/dev/null 2>"$work/err.txt"
[ $? -eq 1 ] && grep -q "holds no volley results" "$work/err.txt" && pass "report: empty dir explained" || fail "report: empty dir"

if [ "$failures" -ne 0 ]; then echo "$failures report check(s) failed"; exit 1; fi
echo "all report checks passed"

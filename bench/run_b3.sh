#!/usr/bin/env bash
# Benchmark B3: Fashion-MNIST surrogate-gradient training, volley beside the PyTorch reference
# (../shared/anchors/torch_fmnist_sg.py) on the same training subset, 2 threads each, in one run.
# Usage: bench/run_b3.sh [N_TRAIN=5120] [THREADS=2]
# Per-sample training time = epoch wall / samples trained; inference = test wall / 10 000.
# Peak memory from /usr/bin/time -v. Also volley's dense backward and the recurrent variant.
source "$(dirname "$0")/common.sh" b3
n=${1:-5120}
threads=${2:-2}
anchor=../shared/anchors/torch_fmnist_sg.py
rss() { grep "Maximum resident" "$1" | awk '{print $NF/1024}'; }

run_volley() {  # NAME CONFIG [--set ...]
  local name=$1 cfg=$2; shift 2
  /usr/bin/time -v $volley train "$cfg" --out "$out/$name" --epochs 1 --train-limit "$n" \
    --threads "$threads" "$@" > "$out/$name.txt" 2> "$out/$name.time"
  $py - "$out/$name" "$(rss "$out/$name.time")" <<'PY'
import json, sys
m = json.loads(open(sys.argv[1] + "/metrics.jsonl").readline())
s = json.load(open(sys.argv[1] + "/summary.json"))
train = m["epoch_seconds"] / (m["samples_per_second"] * m["epoch_seconds"])
print(json.dumps({"train_ms_per_sample": 1e3 / m["samples_per_second"],
                  "infer_ms_per_sample": 1e3 * m["test_seconds"] / s["test_samples"],
                  "test_acc": m["test_acc"], "active_fraction": m["active_fraction"],
                  "peak_rss_mb": float(sys.argv[2])}))
PY
}

run_torch() {  # NAME RECURRENT
  /usr/bin/time -v $py $anchor 1 "$n" "$2" "$threads" > "$out/$1.txt" 2> "$out/$1.time"
  $py - "$out/$1.txt" "$n" "$(rss "$out/$1.time")" <<'PY'
import re, sys, json
line = open(sys.argv[1]).read()
wall = float(re.search(r"epoch_wall=([\d.]+)s", line).group(1))
test = float(re.search(r"test_wall=([\d.]+)s", line).group(1))
acc = float(re.search(r"test_acc=([\d.]+)", line).group(1))
n = int(sys.argv[2]) // 256 * 256
print(json.dumps({"train_ms_per_sample": 1e3 * wall / n, "infer_ms_per_sample": 1e3 * test / 10000,
                  "test_acc": acc, "peak_rss_mb": float(sys.argv[3])}))
PY
}

echo "B3 on $n training samples, $threads threads; outputs in $out"
{
  echo "\"volley_ff\": $(run_volley volley_ff examples/fmnist.toml),"
  echo "\"volley_ff_dense\": $(run_volley volley_ff_dense examples/fmnist.toml --set backward.mode=dense),"
  echo "\"volley_rec\": $(run_volley volley_rec examples/fmnist_recurrent.toml),"
  echo "\"torch_ff\": $(run_torch torch_ff 0),"
  echo "\"torch_rec\": $(run_torch torch_rec 1)"
} > "$out/parts.txt"
$py - "$out/parts.txt" <<'PY' | tee "$out/b3.json"
import json, sys
d = json.loads("{" + open(sys.argv[1]).read() + "}")
for v, t in (("volley_ff", "torch_ff"), ("volley_ff_dense", "torch_ff"), ("volley_rec", "torch_rec")):
    d[v]["train_speedup_vs_torch"] = d[t]["train_ms_per_sample"] / d[v]["train_ms_per_sample"]
    d[v]["infer_speedup_vs_torch"] = d[t]["infer_ms_per_sample"] / d[v]["infer_ms_per_sample"]
print(json.dumps(d, indent=1))
PY

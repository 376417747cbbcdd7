#!/usr/bin/env bash
# What spikes buy (issue 15): each network beside its ANN twin — clean accuracy, input noise,
# adversarial attacks with the masking checks, robust accuracy, energy, decisions in time.
# Trains what is missing under runs/: B3 (examples/fmnist.toml) and spoken digits
# (examples/spoken_digits.toml; needs data/spoken_digits_{train,test}.h5 from
# `volley dataset spoken-digits --out data/spoken_digits.h5`), each also with --twin ann.
# Then `volley robustness SNN --against TWIN` on every test sample (Square Attack / Sparse-RS on
# the first 1000 / 200 samples), and prints the tables of bench/RESULTS.md.
# Usage: bench/run_robustness.sh [THREADS=2]   (about 12 minutes on 2 cores with the runs trained)
source "$(dirname "$0")/common.sh" robustness
threads=${1:-2}
train() {  # NAME CONFIG [ARGS...]
  local name=$1 cfg=$2; shift 2
  [ -f "runs/$name/checkpoint.bin" ] || $volley train "$cfg" --out "runs/$name" --threads "$threads" "$@" > "$out/$name-train.txt" 2>&1
}
train b3 examples/fmnist.toml
train b3_ann examples/fmnist.toml --twin ann
if [ -f data/spoken_digits_test.h5 ]; then
  train sd examples/spoken_digits.toml
  train sd_ann examples/spoken_digits.toml --twin ann
fi
/usr/bin/time -f "%e s" $volley robustness runs/b3/checkpoint.bin --against runs/b3_ann/checkpoint.bin \
  --out "$out/b3" -t "$threads" > "$out/b3.txt" 2>&1
if [ -f runs/sd/checkpoint.bin ]; then
  /usr/bin/time -f "%e s" $volley robustness runs/sd/checkpoint.bin --against runs/sd_ann/checkpoint.bin \
    --out "$out/sd" --square-limit 200 --queries 500 -t "$threads" > "$out/sd.txt" 2>&1
fi
$volley report "$out/b3" > /dev/null
for name in b3 sd; do
  [ -f "$out/$name/robustness.json" ] || continue
  $py - "$out/$name/robustness.json" "$name" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); name = sys.argv[2]
print(f"\n### {name}: {j['data']}, {j['samples']} samples")
for m in j["models"]:
    e = m["energy"]
    tot = e.get("snn_total_pj", e["ann_total_pj"])
    print(f"{m['role']} ({m['network']}): clean {m['clean_accuracy']:.4f}, energy {tot/1e3:.1f} nJ per sample")
for m in j["models"]:
    for n in m["noise"]:
        print(f"noise {n['noise']} {m['network']}: " + " ".join(f"{l:g}:{a:.4f}" for l, a in zip(n["levels"], n["accuracy"])))
for norm in ("linf", "l2"):
    rows = {}
    for m in j["models"]:
        for a in m["attacks"]:
            if a["norm"] != norm: continue
            key = (m["network"], a["attack"])
            rows.setdefault(key, {})[a["eps"]] = a["accuracy"]
        for r in m.get("robust", []):
            if r["norm"] == norm:
                rows.setdefault((m["network"], "ROBUST (" + r["worst_attack"] + ")"), {})[r["eps"]] = r["accuracy"]
    if not rows: continue
    eps = sorted({e for v in rows.values() for e in v})
    unit = (lambda e: f"{e*255:g}/255") if norm == "linf" else (lambda e: f"{e:g}")
    print(f"\n| {norm} | " + " | ".join(unit(e) for e in eps) + " |")
    print("|---|" + "---|" * len(eps))
    for (net, att), v in rows.items():
        print(f"| {net} {att} | " + " | ".join(f"{v[e]:.4f}" if e in v else "" for e in eps) + " |")
PY
done

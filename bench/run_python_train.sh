#!/usr/bin/env bash
# Training B3 from Python against the CLI (docs/python.md, issue 20; acceptance: within 5 % of the
# CLI's epoch time): one epoch of examples/fmnist.toml, `volley.train(...)` beside
# `volley train ...` with the same options, interleaved, best of REPEATS each.
# Usage: bench/run_python_train.sh [TRAIN_LIMIT=all] [THREADS=2] [REPEATS=2]
#   TRAIN_LIMIT: "all" = the CLI's defaults (60 000 samples, the full B3 epoch), or N (bench/run_b3.sh
#   uses 5120). The test set is always the full 10 000.
# Needs a build with VOLLEY_PYTHON=ON: BUILD=path (default build/; only volley_python is built;
# the CLI is $BUILD/volley). Appends a section to bench/RESULTS.md; raw output under bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=${1:-all}
threads=${2:-2}
repeats=${3:-2}
build=${BUILD:-build}
py=/usr/bin/python3
cmake --build "$build" -j2 --target volley_python >/dev/null
out=bench/out/python-train-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"

PYTHONPATH="$build/python" $py - "$limit" "$threads" "$repeats" "$build/volley" "$out" \
  > "$out/section.md" <<'PYEOF'
import json, os, platform, subprocess, sys, time
import volley

limit, threads, repeats, cli, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
config = "examples/fmnist.toml"
kw = {} if limit == "all" else {"train_limit": int(limit)}
args = [] if limit == "all" else ["--train-limit", limit]
TIMINGS = {"epoch_seconds", "samples_per_second", "test_seconds"}

def metrics(d):
    return json.loads(open(os.path.join(d, "metrics.jsonl")).readline())

runs = {"cli": [], "python": []}
for k in range(repeats):
    d = f"{out}/cli-{k}"
    t = time.perf_counter()
    subprocess.run([cli, "train", config, "--out", d, "--epochs", "1", "--threads", str(threads), *args],
                   check=True, capture_output=True)
    runs["cli"].append((time.perf_counter() - t, metrics(d)))
    d = f"{out}/python-{k}"
    t = time.perf_counter()
    volley.train(config, out=d, epochs=1, threads=threads, **kw)
    runs["python"].append((time.perf_counter() - t, metrics(d)))

def best(name, f):
    return min(f(r) for r in runs[name])

same = all({k: v for k, v in m.items() if k not in TIMINGS} ==
           {k: v for k, v in runs["cli"][0][1].items() if k not in TIMINGS}
           for rs in runs.values() for _, m in rs)
rows = [("epoch (training)", lambda r: r[1]["epoch_seconds"]),
        ("test set (10 000)", lambda r: r[1]["test_seconds"]),
        ("whole call / process", lambda r: r[0])]
m = runs["cli"][0][1]
samples = round(m["samples_per_second"] * m["epoch_seconds"])
cpu = "?"
try:
    cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
except Exception:
    pass
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
print(f"## Training B3 from Python (issue 20) — {time.strftime('%Y-%m-%d')} — commit {commit} + uncommitted changes\n")
print(f"One epoch of examples/fmnist.toml ({samples} training samples"
      f"{'' if limit == 'all' else f', --train-limit {limit}'}; test set 10 000), {threads} threads, "
      f"{cpu}, {os.cpu_count()} cores; best of {repeats} interleaved runs each. "
      f"`volley.train(config, epochs=1, ...)` from /usr/bin/python3 {platform.python_version()} against "
      f"`volley train` with the same options. bench/run_python_train.sh.\n")
print("| time (s) | CLI | Python | Python / CLI |\n|---|---|---|---|")
ratios = {}
for name, f in rows:
    c, p = best("cli", f), best("python", f)
    ratios[name] = p / c
    print(f"| {name} | {c:.3f} | {p:.3f} | {p / c:.3f} |")
r = ratios["epoch (training)"]
print(f"\nEpoch time from Python / CLI: **{r:.3f}** (acceptance: within 5 %: "
      f"{'met' if abs(r - 1) <= 0.05 else 'not met'}); metrics identical to the CLI's in every run "
      f"(losses, accuracies, active fraction): {same}. Every run: "
      + "; ".join(f"{n} " + ", ".join(f"{x[1]['epoch_seconds']:.3f}" for x in rs) for n, rs in runs.items())
      + " s per epoch.")
PYEOF
cat "$out/section.md"
{ echo; cat "$out/section.md"; } >> bench/RESULTS.md

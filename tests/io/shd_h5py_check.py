#!/usr/bin/env python3
"""Reads an SHD-layout file with h5py the way Spiking Heidelberg Digits files are read
(f['spikes']['times'][i], f['spikes']['units'][i], f['labels'], f['extra']['speaker'],
f['extra']['keys']) and checks it against the JSON summary `volley dataset` wrote beside it.
Usage: shd_h5py_check.py FILE.h5 SUMMARY.json train|test   (exit 1 with a message on a mismatch)
"""
import json
import sys

import h5py
import numpy as np


def fail(msg):
    print(f"shd_h5py_check: {sys.argv[1]}: {msg}")
    sys.exit(1)


path, summary_path, split = sys.argv[1], sys.argv[2], sys.argv[3]
summary = json.load(open(summary_path))
expect = summary[split]
units_max = summary["units"]
with h5py.File(path, "r") as f:
    times, units, labels = f["spikes"]["times"], f["spikes"]["units"], f["labels"]
    speaker, keys = f["extra"]["speaker"], f["extra"]["keys"]
    n = len(labels)
    if n != expect["samples"]:
        fail(f"{n} labels, summary says {expect['samples']}")
    if len(times) != n or len(units) != n or len(speaker) != n:
        fail("spikes/times, spikes/units, extra/speaker and labels differ in length")
    names = [k.decode() if isinstance(k, bytes) else k for k in keys[:]]
    if names != summary["keys"]:
        fail(f"extra/keys {names[:3]}... differ from the summary's {summary['keys'][:3]}...")
    total = 0
    last = 0.0
    for i in range(n):
        t, u = times[i], units[i]
        if t.dtype != np.float32 or u.dtype != np.uint16:
            fail(f"sample {i}: dtypes {t.dtype}, {u.dtype}; SHD has float32 and uint16")
        if len(t) != len(u):
            fail(f"sample {i}: {len(t)} times but {len(u)} units")
        if len(t) and (np.any(np.diff(t) < 0) or t[0] < 0):
            fail(f"sample {i}: times not ascending from 0")
        if len(u) and u.max() >= units_max:
            fail(f"sample {i}: unit {u.max()} >= {units_max}")
        total += len(t)
        if len(t):
            last = max(last, float(t[-1]))
    lab = labels[:]
    if lab.min() < 0 or lab.max() > 19:
        fail(f"labels outside 0..19: {lab.min()}..{lab.max()}")
    per_class = np.bincount(lab, minlength=20).tolist()
    if per_class != expect["per_class"]:
        fail(f"per-class counts {per_class} differ from the summary's {expect['per_class']}")
    mean = total / n
    if abs(mean - expect["mean_spikes_per_sample"]) > 1e-6 * max(1.0, mean):
        fail(f"mean spikes per sample {mean} differs from the summary's {expect['mean_spikes_per_sample']}")
    if abs(last - expect["last_spike_s"]) > 1e-6:  # float32 in the file, float64 in the summary
        fail(f"last spike {last} s differs from the summary's {expect['last_spike_s']} s")
    spk = sorted(set(speaker[:].tolist()))
    test_ids = sorted(summary["speakers"].index(s) for s in summary["test_speakers"])
    if split == "test" and spk != test_ids:
        fail(f"test speakers {spk}, summary says {test_ids}")
    if split == "train" and set(spk) & set(test_ids):
        fail(f"training split holds held-out speakers {set(spk) & set(test_ids)}")
print(f"h5py: {path}: {n} samples, {mean:.0f} spikes/sample, speakers {spk}, keys {names[0]}..{names[-1]}")

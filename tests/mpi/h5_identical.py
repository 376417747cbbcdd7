#!/usr/bin/env python3
"""Exit 0 when two HDF5 files hold the same groups, datasets (shape, type and bytes) and
attributes; 1 with the first differences otherwise. (h5diff exits 0 on datasets of different
shapes, "not comparable", so it cannot prove two spike files identical.)
Usage: h5_identical.py A.h5 B.h5"""
import sys

import h5py
import numpy as np


def value_bytes(v):
    a = np.asarray(v)
    return repr(a.tolist()).encode() if a.dtype.kind == "O" else a.tobytes()


def describe(f):
    items = {}

    def visit(name, obj):
        attrs = {k: value_bytes(v) for k, v in obj.attrs.items()}
        if isinstance(obj, h5py.Dataset):
            data = np.asarray(obj[()])
            # Variable-length strings come back as objects: compare their text, not pointers.
            raw = repr(data.tolist()).encode() if data.dtype.kind == "O" else data.tobytes()
            items[name] = ("dataset", obj.shape, str(obj.dtype), raw, attrs)
        else:
            items[name] = ("group", None, None, None, attrs)

    f.visititems(visit)
    items["/"] = ("group", None, None, None, {k: value_bytes(v) for k, v in f.attrs.items()})
    return items


def main():
    with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
        da, db = describe(a), describe(b)
    problems = []
    for name in sorted(set(da) | set(db)):
        if name not in da or name not in db:
            problems.append(f"{name}: only in {'second' if name not in da else 'first'} file")
        elif da[name] != db[name]:
            ka, kb = da[name], db[name]
            what = ["kind", "shape", "type", "values", "attributes"]
            diff = [w for w, x, y in zip(what, ka, kb) if x != y]
            problems.append(f"{name}: {', '.join(diff)} differ")
    if problems:
        print("\n".join(problems[:20]))
        sys.exit(1)
    print(f"identical: {len(da)} objects")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Rate and ISI CV of the excitatory neurons of a volley Brunel run, computed by the same code
as bench/cuba_stats.py (and with the definition Brian2's anchor uses: CV over neurons with at
least 3 spikes).

Usage: brunel_stats.py SPIKES_H5 POPULATION N_E SECONDS   (units < N_E of POPULATION)
"""
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cuba_stats import stats  # noqa: E402

path, pop, n_e, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
with h5py.File(path, "r") as f:
    times, units = f[pop + "/times"][:], f[pop + "/units"][:].astype(np.int64)
keep = units < n_e
rate, cv = stats(times[keep], units[keep], n_e, seconds)
print(f"rate_hz={rate:.4f} cv_isi={cv:.4f}")

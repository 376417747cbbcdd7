"""Brian2's examples/synapses/STDP.py (Song, Miller & Abbott 2000), the anchor of
bench/run_stdp_equations.sh. Usage: brian2_stdp.py SECONDS SEED [runtime|cpp_standalone]
Prints one line: low=<fraction of w below 0.1 gmax> high=<above 0.9 gmax> mean=<mean w/gmax>
rate=<output Hz> run_seconds=<s>."""
import sys
import time

from brian2 import (ms, mV, Hz, second, PoissonGroup, NeuronGroup, Synapses, SpikeMonitor,
                    run, seed, set_device, prefs, defaultclock, device)
import numpy as np

duration = float(sys.argv[1])
rng_seed = int(sys.argv[2])
target = sys.argv[3] if len(sys.argv) > 3 else "cpp_standalone"
if target == "cpp_standalone":
    workdir = f"/tmp/brian2_stdp_{rng_seed}"
    set_device("cpp_standalone", build_on_run=False, directory=workdir)
else:
    prefs.codegen.target = target
seed(rng_seed)
defaultclock.dt = 0.1 * ms

N = 1000
taum = 10 * ms
taupre = 20 * ms
taupost = taupre
Ee = 0 * mV
vt = -54 * mV
vr = -60 * mV
El = -74 * mV
taue = 5 * ms
F = 15 * Hz
gmax = .01
dApre = .01
dApost = -dApre * taupre / taupost * 1.05
dApost *= gmax
dApre *= gmax

eqs_neurons = '''
dv/dt = (ge * (Ee-v) + El - v) / taum : volt
dge/dt = -ge / taue : 1
'''
poisson_input = PoissonGroup(N, rates=F)
neurons = NeuronGroup(1, eqs_neurons, threshold='v>vt', reset='v = vr', method='euler')
S = Synapses(poisson_input, neurons,
             '''w : 1
                dApre/dt = -Apre / taupre : 1 (event-driven)
                dApost/dt = -Apost / taupost : 1 (event-driven)''',
             on_pre='''ge += w
                    Apre += dApre
                    w = clip(w + Apost, 0, gmax)''',
             on_post='''Apost += dApost
                     w = clip(w + Apre, 0, gmax)''')
S.connect()
S.w = 'rand() * gmax'
out = SpikeMonitor(neurons)
t0 = time.perf_counter()
run(duration * second, report=None)
run_seconds = time.perf_counter() - t0
if target == "cpp_standalone":
    device.build(directory=workdir, compile=True, run=False)
    device.run(directory=workdir, with_output=False, run_args=[])
    with open(f"{workdir}/results/last_run_info.txt") as f:
        run_seconds = float(f.read().split()[0])  # the run() loop alone, as Brian2 times it
w = np.asarray(S.w[:]) / gmax
print(f"low={np.mean(w < 0.1):.4f} high={np.mean(w > 0.9):.4f} mean={np.mean(w):.4f} "
      f"rate={out.num_spikes / duration:.3f} run_seconds={run_seconds:.3f}")

"""PyTorch reference for benchmark B4 (long spike sequences): 700 inputs, 500 steps, two hidden
layers of 400 current-based LIF neurons and 20 leaky readouts, batch 128, written the way the
SpyTorch tutorials (and ../shared/anchors/torch_fmnist_sg.py) write it: dense input tensor,
einsum for the input weights, a Python loop over steps, fast-sigmoid surrogate (scale 100),
max-over-time cross-entropy. Input: random spikes with SHD-like density (about 2 % of
(channel, step) bins). Prints forward and backward time per batch and the peak RSS.
Usage: python3 torch_b4.py [BATCHES] [THREADS]"""
import resource, sys, time
import numpy as np, torch

BATCHES = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 2)
torch.manual_seed(1)
bs, n_in, n_hid, n_out, T, dt = 128, 700, 400, 20, 500, 2e-3
alpha, beta = float(np.exp(-dt / 10e-3)), float(np.exp(-dt / 20e-3))

class SG(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x > 0).float()
    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g / (100.0 * torch.abs(x) + 1.0) ** 2
spike = SG.apply

ws = 7 * (1 - beta)
w1 = torch.empty(n_in, n_hid).normal_(0, ws / np.sqrt(n_in)).requires_grad_()
w2 = torch.empty(n_hid, n_hid).normal_(0, ws / np.sqrt(n_hid)).requires_grad_()
w3 = torch.empty(n_hid, n_out).normal_(0, ws / np.sqrt(n_hid)).requires_grad_()

def lif_layer(h):
    syn = torch.zeros(bs, n_hid); mem = torch.zeros(bs, n_hid); out = []
    for t in range(T):
        o = spike(mem - 1.0)
        rst = o.detach()
        new_syn = alpha * syn + h[:, t]
        mem = (beta * mem + syn) * (1.0 - rst)
        syn = new_syn
        out.append(o)
    return torch.stack(out, 1)

def run(X):
    s1 = lif_layer(torch.einsum('abc,cd->abd', X, w1))
    s2 = lif_layer(torch.einsum('abc,cd->abd', s1, w2))
    h3 = torch.einsum('abc,cd->abd', s2, w3)
    flt = torch.zeros(bs, n_out); o = torch.zeros(bs, n_out); outs = []
    for t in range(T):
        new_flt = alpha * flt + h3[:, t]
        o = beta * o + flt
        flt = new_flt
        outs.append(o)
    return torch.stack(outs, 1), s1, s2

lossf = torch.nn.CrossEntropyLoss()
fw, bw = [], []
for b in range(BATCHES):
    X = (torch.rand(bs, T, n_in) < 0.02).float()
    Y = torch.randint(0, n_out, (bs,))
    t0 = time.time()
    out, s1, s2 = run(X)
    m, _ = out.max(1)
    loss = lossf(m, Y)
    t1 = time.time()
    loss.backward()
    t2 = time.time()
    fw.append(t1 - t0); bw.append(t2 - t1)
    print(f"batch {b+1}: forward {t1-t0:.2f} s backward {t2-t1:.2f} s "
          f"hidden1 spikes/sample {s1.sum().item()/bs:.0f}", flush=True)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"RESULT forward_s_per_batch={np.min(fw):.3f} backward_s_per_batch={np.min(bw):.3f} "
      f"peak_rss_mb={rss:.0f} batch={bs} threads={torch.get_num_threads()}")

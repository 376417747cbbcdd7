// Training-engine timing for benchmarks B3 and B4: per-sample forward (inference) time and
// forward+backward time in the dense and active-set modes, the active fraction, and the memory
// the backward pass keeps per sample.
//   bench_train b3 [THREADS] [BATCHES] [FMNIST_DIR]   Fashion-MNIST, SpyTorch network, batch 256
//   bench_train b3sparse [THREADS] [BATCHES] [DENSITY] [MODE]
//                                                     784 → 1000 → 10 at that input density
//                                                     (examples/fmnist_sparse.toml): sparse and
//                                                     event modes (or only MODE)
//   bench_train b4 [THREADS] [BATCHES]                700 → 400 → 400 → 20, 500 steps, batch 128,
//                                                     synthetic SHD-like spikes
//   bench_train eprop [THREADS] [SAMPLES] [STEPS] [MODE]
//                                                     700 → 128 recurrent LIF → 20, 1 s of
//                                                     synthetic SHD-like spikes in STEPS steps:
//                                                     BPTT (dense, active set) and e-prop, time
//                                                     per sample and gradient state per thread;
//                                                     MODE bptt_dense|bptt_sparse|eprop: only it
//                                                     (one process per mode for peak RSS)
// Prints one JSON object per mode on stdout.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <string>

#include "volley/rng.hpp"
#include "volley/train/encoders.hpp"
#include "volley/train/idx.hpp"
#include "volley/train/trainer.hpp"

namespace vt = volley::train;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// SHD-like events: 700 channels with a smooth tonotopic activity profile that moves over the
// sample (as a spoken word sweeps formants), ~60 spikes per active channel-second; about 6-8k
// events per 1 s sample, like SHD's mean.
// `rate` scales the per-step probabilities (500 / steps keeps the rate per second of 500 steps).
std::unique_ptr<vt::StoredEvents> shd_like(std::size_t n, std::size_t steps, std::uint64_t seed,
                                           double rate = 1.0) {
  auto data = std::make_unique<vt::StoredEvents>(700, steps, 20, "synthetic SHD-like");
  vt::SampleEvents s;
  for (std::size_t k = 0; k < n; ++k) {
    volley::CounterRng rng(seed, 0x7300, static_cast<std::uint32_t>(k), 0);
    const double c0 = 100 + 500 * rng.uniform(), drift = (rng.uniform() - 0.5) * 300;
    std::vector<std::uint32_t> st, un;
    std::vector<float> va;
    for (std::size_t t = 0; t < steps; ++t) {
      const double x = static_cast<double>(t) / static_cast<double>(steps);
      const double envelope = std::sin(3.14159265 * x);
      const double centre = c0 + drift * x;
      for (std::uint32_t i = 0; i < 700; ++i) {
        const double d = (i - centre) / 120.0;
        const double p = rate * (0.06 * envelope * std::exp(-0.5 * d * d) + 0.002);
        if (rng.uniform() < p) {
          st.push_back(static_cast<std::uint32_t>(t));
          un.push_back(i);
          va.push_back(1.0f);
        }
      }
    }
    vt::build_sample(st, un, va, steps, s);
    data->add(s, static_cast<int>(k % 20));
  }
  return data;
}

std::size_t record_bytes(const vt::SampleRecord& r) {
  std::size_t b = 0;
  for (const auto& l : r.layers) {
    b += (l.off.size() + l.idx.size() + l.aoff.size() + l.aidx.size()) * 4;
    b += (l.val.size() + l.u.size() + l.mt.size() + l.mem.size() + l.syn.size() + l.au.size() +
          l.amt.size() + l.y.size()) * 4;
  }
  return b;
}

// e-prop against BPTT as the number of steps grows (bench/run_eprop.sh): the same network and
// samples; time per sample of forward + gradient (one thread per sample, `threads` in
// parallel), and the gradient state one thread keeps: BPTT's forward record, e-prop's traces.
int eprop_bench(int threads, std::size_t samples, std::size_t steps, const std::string& only) {
  vt::NetConfig net;
  net.n_inputs = 700;
  net.n_steps = steps;
  net.dt = 1.0 / static_cast<double>(steps);
  vt::LayerConfig h;
  h.size = 128;
  h.tau_mem = 20e-3;
  h.tau_syn = 10e-3;
  h.recurrent = true;
  h.weight_scale = 3.0;
  vt::LayerConfig o;
  o.kind = vt::LayerKind::readout;
  o.size = 20;
  o.tau_mem = 20e-3;
  o.tau_syn = 10e-3;
  net.layers = {h, o};
  net.surrogate.scale = 10.0f;
  const auto data = shd_like(samples, steps, 1, 500.0 / static_cast<double>(steps));
  vt::LossConfig loss;
  loss.kind = vt::LossKind::mean_ce;
  std::vector<std::size_t> idx(samples);
  std::iota(idx.begin(), idx.end(), 0);
  for (const char* mode : {"bptt_dense", "bptt_sparse", "eprop"}) {
    if (!only.empty() && only != mode) continue;
    vt::NetConfig c = net;
    c.backward = std::string(mode) == "bptt_sparse" ? vt::BackwardMode::sparse : vt::BackwardMode::dense;
    vt::Net model(c);
    vt::TrainSettings st;
    st.batch_size = samples;
    st.threads = threads;
    st.chunk = 1;
    if (std::string(mode) == "eprop") st.gradient = vt::GradientKind::eprop;
    vt::Trainer trainer(model, loss, vt::OptimizerConfig{}, st);
    const double t0 = now();
    trainer.gradients(*data, idx, 0);
    const double train = now() - t0;
    std::size_t bytes = 0;
    vt::SampleEvents ev;
    if (st.gradient == vt::GradientKind::eprop) {
      vt::EpropWorkspace ws;
      auto grads = model.zero_grads();
      for (std::size_t i = 0; i < data->size(); ++i) {
        data->fill(i, 0, ev);
        trainer.eprop()->sample(ev, data->label(i), 1.0f, nullptr, grads, ws);
      }
      bytes = ws.bytes();
    } else {
      vt::SampleRecord rec;
      vt::Workspace ws;
      for (std::size_t i = 0; i < data->size(); ++i) {
        data->fill(i, 0, ev);
        model.forward(ev, rec, ws, true);
        bytes = std::max(bytes, record_bytes(rec));
      }
    }
    fmt::print("{{\"bench\": \"eprop\", \"mode\": \"{}\", \"steps\": {}, \"threads\": {}, "
               "\"samples\": {}, \"synapses\": {}, \"train_ms_per_sample\": {:.3f}, "
               "\"gradient_state_bytes_per_thread\": {}}}\n",
               mode, steps, threads, samples, model.n_synapses(),
               1e3 * train * threads / static_cast<double>(samples), bytes);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string which = argc > 1 ? argv[1] : "b3";
  if (which == "eprop")
    return eprop_bench(argc > 2 ? std::atoi(argv[2]) : 1, argc > 3 ? static_cast<std::size_t>(std::atol(argv[3])) : 64,
                       argc > 4 ? static_cast<std::size_t>(std::atol(argv[4])) : 100,
                       argc > 5 ? argv[5] : "");
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  const int batches = argc > 3 ? std::atoi(argv[3]) : 10;
  vt::NetConfig net;
  std::unique_ptr<vt::EventSource> data;
  std::size_t batch = 256;
  const bool b3sparse = which == "b3sparse";
  if (which == "b3" || b3sparse) {
    const std::string dir = argc > 4 && !b3sparse ? argv[4] : vt::kFashionMnistDir;
    vt::EncoderConfig enc;
    data = std::make_unique<vt::ImageSource>(
        vt::load_fashion_mnist(dir, true, static_cast<std::size_t>(batches) * batch), enc, "fmnist");
    net.n_inputs = 784;
    net.n_steps = 100;
    vt::LayerConfig h;
    h.size = 100;
    if (b3sparse) {  // examples/fmnist_sparse.toml
      h.size = 1000;
      h.density = argc > 4 ? std::atof(argv[4]) : 0.1;
    }
    vt::LayerConfig o;
    o.kind = vt::LayerKind::readout;
    o.size = 10;
    net.layers = {h, o};
  } else {
    batch = 128;
    net.n_inputs = 700;
    net.n_steps = 500;
    net.dt = 2e-3;
    vt::LayerConfig h;
    h.size = 400;
    h.tau_mem = 20e-3;
    h.tau_syn = 10e-3;
    vt::LayerConfig o;
    o.kind = vt::LayerKind::readout;
    o.size = 20;
    o.tau_mem = 20e-3;
    o.tau_syn = 10e-3;
    net.layers = {h, h, o};
    data = shd_like(static_cast<std::size_t>(batches) * batch, 500, 1);
  }
  std::size_t events = 0;
  vt::SampleEvents ev;
  for (std::size_t i = 0; i < data->size(); ++i) {
    data->fill(i, 0, ev);
    events += ev.size();
  }
  for (const char* mode : {"dense", "sparse", "event"}) {
    if (std::string(mode) == (b3sparse ? "dense" : "event")) continue;
    if (b3sparse && argc > 5 && std::string(mode) != argv[5]) continue;
    vt::NetConfig c = net;
    c.backward = vt::backward_modes().get(mode).value;
    vt::Net model(c);
    vt::TrainSettings st;
    st.batch_size = batch;
    st.threads = threads;
    vt::Trainer trainer(model, vt::LossConfig{}, vt::OptimizerConfig{}, st);
    // Inference (forward only) over all samples.
    const double f0 = now();
    const vt::EvalStats ev_stats = trainer.evaluate(*data);
    const double fwd = now() - f0;
    // Training: forward + loss + backward + gradient reduction per batch (no update, so every
    // mode sees the same network).
    std::vector<std::size_t> idx(batch);
    double train = 0.0, fastest = 1e300;
    for (int b = 0; b < batches; ++b) {
      std::iota(idx.begin(), idx.end(), static_cast<std::size_t>(b) * batch);
      const double t0 = now();
      trainer.gradients(*data, idx, 0);
      train += now() - t0;
      fastest = std::min(fastest, now() - t0);
    }
    // Active fraction and the state kept for the backward pass, from one sample.
    vt::SampleRecord rec;
    vt::Workspace ws;
    std::size_t active = 0, bytes = 0;
    for (std::size_t i = 0; i < data->size(); ++i) {
      data->fill(i, 0, ev);
      model.forward(ev, rec, ws, true);
      active += model.active_pairs(rec);
      bytes = std::max(bytes, record_bytes(rec));
    }
    const double n = static_cast<double>(data->size());
    fmt::print(
        "{{\"bench\": \"{}\", \"mode\": \"{}\", \"threads\": {}, \"samples\": {}, "
        "\"input_events_per_sample\": {:.1f}, \"hidden_spikes_per_sample\": {:.1f}, "
        "\"forward_us_per_sample\": {:.2f}, \"train_us_per_sample\": {:.2f}, "
        "\"backward_us_per_sample\": {:.2f}, \"fastest_batch_train_us_per_sample\": {:.2f}, "
        "\"active_fraction\": {:.4f}, "
        "\"backward_state_bytes_per_sample\": {}}}\n",
        which, mode, threads, data->size(), static_cast<double>(events) / n,
        ev_stats.spikes_per_sample[0], 1e6 * fwd / n, 1e6 * train / n, 1e6 * (train - fwd) / n,
        1e6 * fastest / static_cast<double>(batch), static_cast<double>(active) / (n * static_cast<double>(model.hidden_pairs())), bytes);
  }
  return 0;
}

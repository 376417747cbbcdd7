// Mini-batch training with a thread-count-independent gradient reduction (see trainer.hpp).
#include "volley/train/trainer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "volley/error.hpp"
#include "volley/rng.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace volley::train {
namespace {

// Communicator::fold_in_rank_order over nested vectors of numbers (gradients per parameter,
// counts per layer), through one flat buffer.
template <class T>
void fold_nested(Communicator& comm, std::vector<std::vector<T>>& v, const std::function<void()>& add_mine) {
  std::size_t total = 0;
  for (const auto& x : v) total += x.size();
  std::vector<T> flat(total);
  auto pack = [&] {
    std::size_t at = 0;
    for (const auto& x : v) at = static_cast<std::size_t>(std::copy(x.begin(), x.end(), flat.begin() + static_cast<std::ptrdiff_t>(at)) - flat.begin());
  };
  auto unpack = [&] {
    std::size_t at = 0;
    for (auto& x : v) {
      std::copy(flat.begin() + static_cast<std::ptrdiff_t>(at), flat.begin() + static_cast<std::ptrdiff_t>(at + x.size()), x.begin());
      at += x.size();
    }
  };
  pack();
  comm.fold_in_rank_order(std::as_writable_bytes(std::span<T>(flat)), [&] {
    unpack();
    add_mine();
    pack();
  });
  unpack();
}

constexpr std::uint32_t kStreamShuffle = 0x7200;

int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Fisher–Yates from a counter-based stream keyed by (seed, epoch).
std::vector<std::size_t> permutation(std::size_t n, std::uint64_t seed, int epoch) {
  std::vector<std::size_t> p(n);
  std::iota(p.begin(), p.end(), 0);
  CounterRng rng(seed, kStreamShuffle, 0, static_cast<std::uint64_t>(epoch));
  for (std::size_t i = n; i > 1; --i) {
    const auto j = static_cast<std::size_t>(rng.uniform() * static_cast<double>(i));
    std::swap(p[i - 1], p[std::min(j, i - 1)]);
  }
  return p;
}

}  // namespace

void TrainSettings::validate() const {
  if (epochs < 0) throw ParameterError(fmt::format("training: epochs must be >= 0, got {}", epochs));
  if (batch_size == 0) throw ParameterError("training: batch_size must be > 0");
  if (threads < 1) throw ParameterError(fmt::format("training: threads must be >= 1, got {}", threads));
  if (chunk == 0) throw ParameterError("training: chunk must be > 0");
}

Trainer::Trainer(Net& net, LossConfig loss, OptimizerConfig opt, TrainSettings settings)
    : net_(net),
      loss_(loss),
      opt_cfg_(opt),
      settings_(settings),
      opt_(opt, net.params()) {
  settings_.validate();
  if (!(loss_.reg_l1 >= 0.0) || !(loss_.reg_l2 >= 0.0))
    throw ParameterError("loss: reg_l1 and reg_l2 must be >= 0");
  const bool readout = !net_.emits_events(net_.config().layers.size() - 1);
  if (is_count_loss(loss_.kind) == readout)
    throw ParameterError(fmt::format(
        "loss: '{}' {}", loss_name(loss_.kind),
        readout ? "needs a spiking last layer (type = \"lif\"), not a readout"
                : "needs a readout last layer (type = \"readout\"); use count_ce or count_mse "
                  "for a spiking output"));
  if (settings_.gradient == GradientKind::eprop)
    eprop_ = std::make_unique<Eprop>(net_, loss_, EpropConfig{settings_.feedback, net_.config().seed});
  threads_.resize(static_cast<std::size_t>(settings_.threads));
  net_.set_threads(settings_.threads);
  grads_ = net_.zero_grads();
}

void Trainer::batch_gradients(const data::EventSource& data, const std::size_t* idx, std::size_t n,
                              int epoch, double& loss_sum, std::size_t& correct,
                              std::size_t& active) {
  const std::size_t chunk = settings_.chunk;
  const std::size_t n_chunks = (n + chunk - 1) / chunk;
  // This process's chunks (all of them in one process).
  const auto [c_lo, c_hi] = comm_ ? share(n_chunks, comm_->rank(), comm_->size())
                                  : std::pair<std::size_t, std::size_t>{0, n_chunks};
  const auto my_chunks = static_cast<std::ptrdiff_t>(c_hi - c_lo);
  if (chunk_grads_.size() < n_chunks) chunk_grads_.resize(n_chunks);
  for (std::size_t c = c_lo; c < c_hi; ++c)
    if (chunk_grads_[c].empty()) chunk_grads_[c] = net_.zero_grads();
  // Rewiring (or a checkpoint of a rewired run) may have resized sparse matrices.
  const auto& params = net_.params();
  for (std::size_t k = 0; k < params.size(); ++k) {
    grads_[k].resize(params[k].value.size());
    for (auto& c : chunk_grads_)
      if (!c.empty()) c[k].resize(params[k].value.size());
  }
  const std::size_t L = net_.config().layers.size();
  const auto reg = regularised_layers(loss_, net_);
  const bool use_reg = loss_.reg_l1 > 0.0 || loss_.reg_l2 > 0.0;
  const auto ep = static_cast<std::uint64_t>(epoch);

  // Batch spike counts per neuron of the regularised layers (the L2 term needs them before
  // any backward pass): a forward-only pass, summed in chunk order.
  std::vector<std::vector<float>> extra(L);
  std::vector<std::vector<double>> counts(L);
  if (use_reg) {
    for (std::size_t l = 0; l < L; ++l)
      if (reg[l]) counts[l].assign(net_.config().layers[l].size, 0.0);
    if (loss_.reg_l2 > 0.0) {
      std::vector<std::vector<std::vector<double>>> part(n_chunks, counts);
#pragma omp parallel for schedule(dynamic, 1) num_threads(settings_.threads)
      for (std::ptrdiff_t ci = 0; ci < my_chunks; ++ci) {
        const std::size_t c = c_lo + static_cast<std::size_t>(ci);
        ThreadState& ts = threads_[static_cast<std::size_t>(thread_id())];
        for (std::size_t s = c * chunk; s < std::min(n, (c + 1) * chunk); ++s) {
          data.fill(idx[s], ep, ts.events);
          net_.forward(ts.events, ts.rec, ts.ws, false);
          for (std::size_t l = 0; l < L; ++l) {
            if (!reg[l]) continue;
            const LayerRecord& r = ts.rec.layers[l];
            for (std::size_t e = 0; e < r.idx.size(); ++e) part[c][l][r.idx[e]] += r.val[e];
          }
        }
      }
      auto add_chunks = [&] {
        for (std::size_t c = c_lo; c < c_hi; ++c)
          for (std::size_t l = 0; l < L; ++l)
            for (std::size_t j = 0; j < counts[l].size(); ++j) counts[l][j] += part[c][l][j];
      };
      if (comm_)
        fold_nested(*comm_, counts, add_chunks);
      else
        add_chunks();
    }
    for (std::size_t l = 0; l < L; ++l) {
      if (!reg[l]) continue;
      const double N = static_cast<double>(counts[l].size());
      extra[l].resize(counts[l].size());
      for (std::size_t j = 0; j < counts[l].size(); ++j)
        extra[l][j] = static_cast<float>(loss_.reg_l1 + loss_.reg_l2 * 2.0 * counts[l][j] / N);
    }
  }

  std::vector<double> losses(n, 0.0), reg_spikes(n, 0.0);
  std::vector<std::uint8_t> hit(n, 0);
  std::vector<std::size_t> act(n, 0);
  const float scale = 1.0f / static_cast<float>(n);
#pragma omp parallel for schedule(dynamic, 1) num_threads(settings_.threads)
  for (std::ptrdiff_t ci = 0; ci < my_chunks; ++ci) {
    const std::size_t c = c_lo + static_cast<std::size_t>(ci);
    ThreadState& ts = threads_[static_cast<std::size_t>(thread_id())];
    auto& g = chunk_grads_[c];
    for (auto& v : g) std::fill(v.begin(), v.end(), 0.0f);
    for (std::size_t s = c * chunk; s < std::min(n, (c + 1) * chunk); ++s) {
      data.fill(idx[s], ep, ts.events);
      const int label = data.label(idx[s]);
      if (eprop_) {
        // Forward and gradient in one online pass; no active set (active_fraction 0).
        const SampleLoss sl =
            eprop_->sample(ts.events, label, scale, use_reg ? &extra : nullptr, g, ts.eprop);
        losses[s] = sl.loss;
        hit[s] = sl.predicted == label;
        for (std::size_t l = 0; l < L; ++l)
          if (use_reg && reg[l]) reg_spikes[s] += ts.eprop.spikes[l];
        continue;
      }
      net_.forward(ts.events, ts.rec, ts.ws, true);
      const SampleLoss sl = sample_loss(loss_, net_, ts.rec, label, scale, &ts.dy);
      losses[s] = sl.loss;
      hit[s] = sl.predicted == label;
      act[s] = net_.active_pairs(ts.rec);
      for (std::size_t l = 0; l < L; ++l)
        if (use_reg && reg[l])
          for (float v : ts.rec.layers[l].val) reg_spikes[s] += v;
      ts.ws.defer_fold = true;  // delayed layers: one fold per chunk (the same sums in order)
      net_.backward(ts.events, ts.rec, ts.dy, use_reg ? &extra : nullptr, g, ts.ws);
    }
    net_.fold_gradients(ts.ws, g);
  }
  // Fixed-order reduction over chunks, parallel over parameter elements; distributed, each
  // process adds its chunks onto the running sums of the processes before it.
  auto add_chunks = [&](bool from_zero) {
    for (std::size_t k = 0; k < grads_.size(); ++k) {
      float* out = grads_[k].data();
      const auto m = static_cast<std::ptrdiff_t>(grads_[k].size());
#pragma omp parallel for num_threads(settings_.threads) schedule(static) if (m > 65536)
      for (std::ptrdiff_t i = 0; i < m; ++i) {
        float s = from_zero ? 0.0f : out[i];
        for (std::size_t c = c_lo; c < c_hi; ++c) s += chunk_grads_[c][k][static_cast<std::size_t>(i)];
        out[i] = s;
      }
    }
  };
  if (comm_) {
    for (auto& g : grads_) std::fill(g.begin(), g.end(), 0.0f);
    fold_nested(*comm_, grads_, [&] { add_chunks(false); });
    merge_disjoint(*comm_, losses);
    merge_disjoint(*comm_, hit);
    merge_disjoint(*comm_, act);
    merge_disjoint(*comm_, reg_spikes);
  } else {
    add_chunks(true);
  }
  loss_sum = 0.0;
  correct = 0;
  active = 0;
  double total_spikes = 0.0;
  for (std::size_t s = 0; s < n; ++s) {
    loss_sum += losses[s];
    correct += hit[s];
    active += act[s];
    total_spikes += reg_spikes[s];
  }
  if (use_reg) {
    double l2 = 0.0;
    for (std::size_t l = 0; l < L; ++l) {
      if (!reg[l]) continue;
      double sq = 0.0;
      for (double cnt : counts[l]) sq += cnt * cnt;
      l2 += sq / static_cast<double>(counts[l].size());
    }
    loss_sum += static_cast<double>(n) * (loss_.reg_l1 * total_spikes + loss_.reg_l2 * l2);
  }
}

EpochStats Trainer::train_epoch(const data::EventSource& data, int epoch,
                                const std::function<void(const BatchProgress&)>& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t n = data.size();
  const std::size_t B = std::min(settings_.batch_size, n);
  const std::size_t batches = B == 0 ? 0 : n / B;
  const auto order = permutation(n, settings_.seed, epoch);
  const double lr = opt_cfg_.lr_at(epoch, settings_.epochs);
  EpochStats st;
  if (deep_r_) deep_r_->reset_counts(net_);
  double loss_total = 0.0;
  std::size_t correct_total = 0, active_total = 0;
  for (std::size_t b = 0; b < batches; ++b) {
    double loss_sum = 0.0;
    std::size_t correct = 0, active = 0;
    batch_gradients(data, order.data() + b * B, B, epoch, loss_sum, correct, active);
    bool finite = std::isfinite(loss_sum);
    for (const auto& g : grads_)
      for (float x : g) finite = finite && std::isfinite(x);
    if (!finite) {
      st.finite = false;
      st.loss = loss_sum / static_cast<double>(B);
      st.samples += B;
      break;
    }
    if (deep_r_) deep_r_->add_l1_gradient(net_, grads_);
    opt_.step(net_.params(), grads_, lr, settings_.threads);
    net_.constrain();
    if (deep_r_) deep_r_->rewire(net_, opt_, lr, opt_.steps());
    // An update can overflow even when loss and gradients were finite (a huge learning rate);
    // NaN weights can then silence the network without ever making the loss NaN.
    for (const auto& p : net_.params())
      for (float x : p.value) finite = finite && std::isfinite(x);
    if (!finite) {
      st.finite = false;
      st.loss = loss_sum / static_cast<double>(B);
      st.samples += B;
      break;
    }
    loss_total += loss_sum;
    correct_total += correct;
    active_total += active;
    st.samples += B;
    if (progress)
      progress({b + 1, batches, st.samples, loss_total / static_cast<double>(st.samples),
                static_cast<double>(correct_total) / static_cast<double>(st.samples)});
  }
  if (st.finite && st.samples > 0) {
    st.loss = loss_total / static_cast<double>(st.samples);
    st.accuracy = static_cast<double>(correct_total) / static_cast<double>(st.samples);
    st.active_fraction = static_cast<double>(active_total) /
                         (static_cast<double>(st.samples) *
                          static_cast<double>(std::max<std::size_t>(1, net_.hidden_pairs())));
  }
  if (deep_r_) st.rewiring = deep_r_->matrices();
  st.seconds = seconds_since(t0);
  return st;
}

void Trainer::enable_rewiring(const RewiringConfig& config) {
  deep_r_ = config.kind == RewiringKind::none ? nullptr : std::make_unique<DeepR>(config, net_);
}

std::vector<std::vector<float>> Trainer::gradients(const data::EventSource& data,
                                                   const std::vector<std::size_t>& indices,
                                                   int epoch, double* loss) {
  double loss_sum = 0.0;
  std::size_t correct = 0, active = 0;
  batch_gradients(data, indices.data(), indices.size(), epoch, loss_sum, correct, active);
  if (loss) *loss = loss_sum / static_cast<double>(indices.size());
  return grads_;
}

EvalStats Trainer::evaluate(const data::EventSource& data,
                            const std::function<void(const BatchProgress&)>& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t n = data.size();
  const std::size_t C = net_.n_outputs();
  const std::size_t L = net_.config().layers.size();
  const std::size_t block = std::max<std::size_t>(settings_.batch_size, 1);
  EvalStats st;
  st.confusion.assign(C * C, 0);
  st.spikes_per_sample.assign(L, 0.0);
  std::vector<double> losses(n, 0.0);
  std::vector<int> pred(n, 0);
  std::vector<double> spikes(n * L, 0.0);  // [sample][layer]
  // Distributed, each process evaluates its share of every block.
  for (std::size_t b0 = 0; b0 < n; b0 += block) {
    const std::size_t b1 = std::min(n, b0 + block);
    const auto [k0, k1] = comm_ ? share(b1 - b0, comm_->rank(), comm_->size())
                                : std::pair<std::size_t, std::size_t>{0, b1 - b0};
    const auto m = static_cast<std::ptrdiff_t>(k1 - k0);
#pragma omp parallel for schedule(dynamic, 8) num_threads(settings_.threads)
    for (std::ptrdiff_t k = 0; k < m; ++k) {
      const std::size_t s = b0 + k0 + static_cast<std::size_t>(k);
      ThreadState& ts = threads_[static_cast<std::size_t>(thread_id())];
      data.fill(s, 0, ts.events);
      net_.forward(ts.events, ts.rec, ts.ws, false);
      const SampleLoss sl = sample_loss(loss_, net_, ts.rec, data.label(s), 1.0f, nullptr);
      losses[s] = sl.loss;
      pred[s] = sl.predicted;
      for (std::size_t l = 0; l < L; ++l)
        spikes[s * L + l] = net_.spiking(l) ? static_cast<double>(ts.rec.layers[l].idx.size()) : 0.0;
    }
    if (progress) progress({b1 / block, (n + block - 1) / block, b1, 0.0, 0.0});
  }
  if (comm_) {
    merge_disjoint(*comm_, losses);
    merge_disjoint(*comm_, pred);
    merge_disjoint(*comm_, spikes);
  }
  std::size_t correct = 0;
  for (std::size_t s = 0; s < n; ++s) {
    const auto y = static_cast<std::size_t>(data.label(s));
    st.loss += losses[s];
    correct += static_cast<int>(y) == pred[s];
    st.confusion[y * C + static_cast<std::size_t>(pred[s])] += 1;
    for (std::size_t l = 0; l < L; ++l) st.spikes_per_sample[l] += spikes[s * L + l];
  }
  st.samples = n;
  if (n > 0) {
    st.loss /= static_cast<double>(n);
    st.accuracy = static_cast<double>(correct) / static_cast<double>(n);
    for (double& x : st.spikes_per_sample) x /= static_cast<double>(n);
  }
  st.seconds = seconds_since(t0);
  return st;
}

}  // namespace volley::train

// Liquid state machine readouts by ridge regression, and Jaeger's memory capacity (see
// reservoir.hpp).
#include "volley/train/reservoir.hpp"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

#include "volley/error.hpp"
#include "volley/rng.hpp"

namespace volley::train {
namespace {

constexpr std::size_t kChunk = 256;
constexpr std::uint32_t kStreamMemory = 0x15A00000;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Features of samples [first, first + rows) of `data` into the rows of X (rows × F): spike counts
// of each reservoir neuron per time bin, then a constant 1. Samples are spread over threads; each
// row is written by one thread only, so X does not depend on the thread count.
void features(const Net& net, const EventSource& data, std::size_t first, std::size_t rows, std::size_t bins,
              int threads, Eigen::MatrixXd& X, double& spikes) {
  const std::size_t N = net.config().layers[0].size, T = net.config().n_steps, F = N * bins + 1;
  X.setZero(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(F));
  std::vector<double> per_row(rows, 0.0);
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    SampleEvents ev;
    SampleRecord rec;
    Workspace ws;
    for (std::size_t r; (r = next.fetch_add(1)) < rows;) {
      data.fill(first + r, 0, ev);
      net.forward(ev, rec, ws, false);
      const LayerRecord& l = rec.layers[0];
      for (std::size_t t = 0; t < T; ++t) {
        const std::size_t b = t * bins / T;
        for (std::uint32_t e = l.off[t]; e < l.off[t + 1]; ++e)
          X(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(b * N + l.idx[e])) += 1.0;
      }
      X(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(F - 1)) = 1.0;
      per_row[r] = static_cast<double>(l.idx.size());
    }
  };
  const std::size_t workers = std::max<std::size_t>(1, std::min<std::size_t>(static_cast<std::size_t>(threads), rows));
  if (workers == 1) {
    work();
  } else {
    std::vector<std::jthread> pool;
    for (std::size_t k = 0; k < workers; ++k) pool.emplace_back(work);
  }
  for (double s : per_row) spikes += s;
}

// Accuracy (and confusion) of readout W on `data`.
double accuracy(const Net& net, const EventSource& data, std::size_t limit, const Eigen::MatrixXd& W,
                std::size_t bins, int threads, std::vector<std::size_t>* confusion) {
  const std::size_t n = std::min(limit, data.size()), C = static_cast<std::size_t>(W.cols());
  if (confusion) confusion->assign(C * C, 0);
  std::size_t correct = 0;
  double spikes = 0.0;
  Eigen::MatrixXd X;
  for (std::size_t first = 0; first < n; first += kChunk) {
    const std::size_t rows = std::min(kChunk, n - first);
    features(net, data, first, rows, bins, threads, X, spikes);
    const Eigen::MatrixXd scores = X * W;
    for (std::size_t r = 0; r < rows; ++r) {
      Eigen::Index best = 0;
      scores.row(static_cast<Eigen::Index>(r)).maxCoeff(&best);
      const auto y = static_cast<std::size_t>(data.label(first + r));
      correct += static_cast<std::size_t>(best) == y;
      if (confusion) ++(*confusion)[y * C + static_cast<std::size_t>(best)];
    }
  }
  return n ? static_cast<double>(correct) / static_cast<double>(n) : 0.0;
}

// W = (XᵀX + αI)⁻¹ XᵀY.
Eigen::MatrixXd ridge_solve(Eigen::MatrixXd xtx, const Eigen::MatrixXd& xty, double alpha) {
  xtx.diagonal().array() += alpha;
  return xtx.ldlt().solve(xty);
}

}  // namespace

void ReservoirConfig::validate() const {
  if (!(ridge >= 0.0) || !std::isfinite(ridge)) throw ParameterError(fmt::format("reservoir: ridge: must be >= 0, got {}", ridge));
  if (time_bins < 1) throw ParameterError("reservoir: time_bins: must be at least 1");
  if (threads < 1) throw ParameterError("reservoir: threads: must be at least 1");
}

ReservoirResult fit_reservoir(const Net& net, const EventSource& train, const EventSource& test,
                              const ReservoirConfig& c) {
  c.validate();
  if (!net.spiking(0)) throw ParameterError("reservoir: the first layer must be spiking (lif or alif)");
  Eigen::setNbThreads(1);  // one summation order whatever the machine
  const std::size_t N = net.config().layers[0].size, F = N * c.time_bins + 1, C = net.n_outputs();
  ReservoirResult r;
  r.features = F;
  const auto t0 = std::chrono::steady_clock::now();
  Eigen::MatrixXd xtx = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(F), static_cast<Eigen::Index>(F));
  Eigen::MatrixXd xty = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(F), static_cast<Eigen::Index>(C));
  Eigen::MatrixXd X;
  double spikes = 0.0;
  for (std::size_t first = 0; first < train.size(); first += kChunk) {
    const std::size_t rows = std::min(kChunk, train.size() - first);
    features(net, train, first, rows, c.time_bins, c.threads, X, spikes);
    Eigen::MatrixXd Y = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(C));
    for (std::size_t k = 0; k < rows; ++k) Y(static_cast<Eigen::Index>(k), train.label(first + k)) = 1.0;
    xtx.selfadjointView<Eigen::Lower>().rankUpdate(X.transpose());
    xty.noalias() += X.transpose() * Y;
  }
  xtx = xtx.selfadjointView<Eigen::Lower>();
  r.mean_spikes_per_sample = train.size() ? spikes / static_cast<double>(train.size()) : 0.0;
  r.seconds_features = seconds_since(t0);
  const auto t1 = std::chrono::steady_clock::now();
  const Eigen::MatrixXd W = ridge_solve(xtx, xty, c.ridge);
  r.seconds_solve = seconds_since(t1);
  r.train_accuracy = accuracy(net, train, 10000, W, c.time_bins, c.threads, nullptr);
  r.test_accuracy = accuracy(net, test, test.size(), W, c.time_bins, c.threads, &r.confusion);
  return r;
}

MemoryCapacityResult memory_capacity(const LayerConfig& layer, double dt, const MemoryCapacityConfig& m) {
  if (m.values < 4 * m.max_delay || m.max_delay < 1)
    throw ParameterError("memory capacity: values must be at least 4 × max_delay, max_delay >= 1");
  if (m.hold < 1 || m.inputs < 1 || !(m.rate_max * dt <= 1.0) || !(m.tau_state > 0.0))
    throw ParameterError("memory capacity: hold, inputs >= 1, rate_max·dt <= 1, tau_state > 0");
  Eigen::setNbThreads(1);
  NetConfig nc;
  nc.n_inputs = m.inputs;
  nc.n_steps = m.hold * m.values;
  nc.dt = dt;
  nc.seed = m.seed;
  LayerConfig out;
  out.kind = LayerKind::readout;
  out.size = 1;
  nc.layers = {layer, out};
  nc.backward = BackwardMode::dense;
  Net net(nc);
  // The input: u_n ~ U(0, 1) held for `hold` steps; each fibre spikes with probability u·rate·dt.
  std::vector<double> u(m.values);
  for (std::size_t n = 0; n < m.values; ++n) u[n] = CounterRng(m.seed, kStreamMemory, 0, n).uniform();
  std::vector<std::uint32_t> steps, units;
  std::vector<float> values;
  for (std::size_t t = 0; t < nc.n_steps; ++t) {
    const double p = u[t / m.hold] * m.rate_max * dt;
    for (std::size_t i = 0; i < m.inputs; ++i)
      if (CounterRng(m.seed, kStreamMemory + 1, static_cast<std::uint32_t>(i), t).uniform() < p) {
        steps.push_back(static_cast<std::uint32_t>(t));
        units.push_back(static_cast<std::uint32_t>(i));
        values.push_back(1.0f);
      }
  }
  SampleEvents ev;
  build_sample(steps, units, values, nc.n_steps, ev);
  SampleRecord rec;
  Workspace ws;
  net.forward(ev, rec, ws, false);
  // Filtered spike trains, sampled at the end of each hold period.
  const std::size_t N = layer.size;
  const double decay = std::exp(-dt / m.tau_state);
  std::vector<double> state(N, 0.0);
  Eigen::MatrixXd X(static_cast<Eigen::Index>(m.values), static_cast<Eigen::Index>(N + 1));
  const LayerRecord& l = rec.layers[0];
  for (std::size_t t = 0; t < nc.n_steps; ++t) {
    for (double& s : state) s *= decay;
    for (std::uint32_t e = l.off[t]; e < l.off[t + 1]; ++e) state[l.idx[e]] += 1.0;
    if ((t + 1) % m.hold == 0) {
      const auto n = static_cast<Eigen::Index>(t / m.hold);
      for (std::size_t j = 0; j < N; ++j) X(n, static_cast<Eigen::Index>(j)) = state[j];
      X(n, static_cast<Eigen::Index>(N)) = 1.0;
    }
  }
  const std::size_t half = m.values / 2;
  const auto lo = static_cast<Eigen::Index>(m.max_delay), mid = static_cast<Eigen::Index>(half),
             hi = static_cast<Eigen::Index>(m.values);
  const Eigen::MatrixXd Xtr = X.middleRows(lo, mid - lo), Xte = X.middleRows(mid, hi - mid);
  const Eigen::MatrixXd xtx = Xtr.transpose() * Xtr;
  MemoryCapacityResult r;
  for (std::size_t k = 0; k <= m.max_delay; ++k) {
    Eigen::VectorXd ytr(mid - lo), yte(hi - mid);
    for (Eigen::Index n = lo; n < mid; ++n) ytr(n - lo) = u[static_cast<std::size_t>(n) - k];
    for (Eigen::Index n = mid; n < hi; ++n) yte(n - mid) = u[static_cast<std::size_t>(n) - k];
    const Eigen::VectorXd w = ridge_solve(xtx, Xtr.transpose() * ytr, m.ridge);
    const Eigen::VectorXd p = Xte * w;
    const double pm = p.mean(), ym = yte.mean();
    const double cov = ((p.array() - pm) * (yte.array() - ym)).sum();
    const double vp = (p.array() - pm).square().sum(), vy = (yte.array() - ym).square().sum();
    const double r2 = vp > 0 && vy > 0 ? cov * cov / (vp * vy) : 0.0;
    r.r2.push_back(r2);
    if (k > 0) r.capacity += r2;
  }
  return r;
}

}  // namespace volley::train

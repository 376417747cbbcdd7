// Deep R (see rewiring.hpp).
#include "volley/train/rewiring.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "volley/error.hpp"
#include "volley/rng.hpp"

namespace volley::train {
namespace {

constexpr std::uint32_t kStreamSign = 0x7A00;    // + 2·layer (+1 recurrent)
constexpr std::uint32_t kStreamRewire = 0x7B00;

std::uint32_t matrix_stream(const DeepR::Matrix& m) {
  return static_cast<std::uint32_t>(2 * m.layer + (m.recurrent ? 1 : 0));
}

std::size_t rows_connected(const std::vector<std::uint32_t>& row_ptr) {
  std::size_t n = 0;
  for (std::size_t i = 0; i + 1 < row_ptr.size(); ++i) n += row_ptr[i + 1] > row_ptr[i];
  return n;
}

}  // namespace

const Registry<Choice<RewiringKind>>& rewiring_kinds() {
  static const Registry<Choice<RewiringKind>> r(
      "rewiring kind",
      {{"none", RewiringKind::none, "a fixed sparsity pattern (the layers' density)"},
       {"deep_r", RewiringKind::deep_r,
        "Deep R (Bellec et al. 2018): synapses whose parameter crosses zero go dormant and as "
        "many dormant ones are activated at random, keeping the budget of the layers' density"}});
  return r;
}

const Registry<Choice<L1Mode>>& l1_modes() {
  static const Registry<Choice<L1Mode>> r(
      "rewiring l1_mode",
      {{"gradient", L1Mode::gradient,
        "l1·Σθ is part of the loss: its gradient joins the loss gradient before the optimiser "
        "step (with Adam, scaled like it)"},
       {"update", L1Mode::update, "every update moves each active θ by −lr·l1 after the step"}});
  return r;
}

std::span<const volley::Param<RewiringConfig>> rewiring_params() {
  using R = RewiringConfig;
  static const volley::Param<R> p[] = {
      {"l1", &R::l1, Dimension::none(), Range::non_negative(),
       "α: the L1 pressure towards dormancy (see l1_mode)"},
      {"temperature", &R::temperature, Dimension::none(), Range::non_negative(),
       "T: every update adds sqrt(2·lr·T)·N(0, 1) to each active θ (exploration)"},
      {"reset_value", &R::reset_value, Dimension::none(), Range::non_negative(),
       "θ (= |w|) of a newly activated synapse"},
  };
  return p;
}

void RewiringConfig::validate() const {
  for (const auto& p : rewiring_params())
    if (const std::string why = p.check(p.get(*this)); !why.empty())
      throw ParameterError(fmt::format("rewiring.{}: {}", p.key, why));
}

float DeepR::sign(const Matrix& m, std::size_t i, std::size_t j) const {
  CounterRng rng(seed_, kStreamSign + matrix_stream(m), static_cast<std::uint32_t>(i),
                 static_cast<std::uint64_t>(j));
  return (rng.next_u32() & 1u) ? 1.0f : -1.0f;
}

DeepR::DeepR(const RewiringConfig& config, Net& net) : config_(config), seed_(net.config().seed) {
  config_.validate();
  for (std::size_t l = 0; l < net.config().layers.size(); ++l) {
    for (const bool rec : {false, true}) {
      const WeightLayout& W = rec ? net.recurrent_weights(l) : net.input_weights(l);
      if (W.dense || W.n_pre == 0) continue;
      if (net.delay_param(l) != Net::kNone)
        throw ParameterError(fmt::format("rewiring: layer {} has synaptic delays; Deep R does "
                                         "not rewire them (remove max_delay or the rewiring)",
                                         l));
      Matrix m;
      m.name = net.params()[W.param].name;
      m.layer = l;
      m.recurrent = rec;
      m.active = W.cols.size();
      budget_ += m.active;
      m.potential = W.n_pre * W.n_post;
      m.rows_connected = rows_connected(W.row_ptr);
      matrices_.push_back(m);
      auto& w = net.params()[W.param].value;
      for (std::size_t i = 0; i < W.n_pre; ++i)
        for (std::uint32_t k = W.row_ptr[i]; k < W.row_ptr[i + 1]; ++k)
          w[k] = sign(m, i, W.cols[k]) * std::abs(w[k]);
    }
  }
  if (matrices_.empty())
    throw ParameterError("rewiring: the network has no sparse weight matrix to rewire; give a "
                         "layer a density below 1 (its budget of synapses)");
}

void DeepR::reset_counts(const Net& net) {
  for (auto& m : matrices_) {
    const WeightLayout& W = m.recurrent ? net.recurrent_weights(m.layer) : net.input_weights(m.layer);
    m.rewired = m.grown = 0;
    m.active = W.cols.size();
    m.rows_connected = rows_connected(W.row_ptr);
  }
}

void DeepR::add_l1_gradient(const Net& net, std::vector<std::vector<float>>& grads) const {
  if (config_.l1_mode != L1Mode::gradient || config_.l1 == 0.0) return;
  const auto a = static_cast<float>(config_.l1);
  for (const Matrix& m : matrices_) {
    const WeightLayout& W = m.recurrent ? net.recurrent_weights(m.layer) : net.input_weights(m.layer);
    auto& g = grads[W.param];
    for (std::size_t i = 0; i < W.n_pre; ++i)
      for (std::uint32_t k = W.row_ptr[i]; k < W.row_ptr[i + 1]; ++k)
        g[k] += a * sign(m, i, W.cols[k]);
  }
}

void DeepR::rewire(Net& net, Optimizer& opt, double lr, std::uint64_t update) {
  const double shrink = config_.l1_mode == L1Mode::update ? lr * config_.l1 : 0.0;
  const double noise = std::sqrt(2.0 * lr * config_.temperature);
  const std::size_t M = matrices_.size();
  CounterRng rng(seed_, kStreamRewire, 0, update);
  auto layout = [&](const Matrix& m) -> const WeightLayout& {
    return m.recurrent ? net.recurrent_weights(m.layer) : net.input_weights(m.layer);
  };

  // θ update and pruning, matrix by matrix; the survivors' flags in active_.
  active_.resize(M);
  std::vector<std::vector<char>> keep(M);
  std::vector<std::size_t> alive(M, 0);
  std::size_t dormant = 0;
  for (std::size_t x = 0; x < M; ++x) {
    Matrix& m = matrices_[x];
    const WeightLayout& W = layout(m);
    auto& w = net.params()[W.param].value;
    active_[x].assign(W.n_pre * W.n_post, 0);
    keep[x].assign(W.cols.size(), 0);
    for (std::size_t i = 0; i < W.n_pre; ++i)
      for (std::uint32_t k = W.row_ptr[i]; k < W.row_ptr[i + 1]; ++k) {
        const float s = sign(m, i, W.cols[k]);
        double theta = static_cast<double>(s * w[k]) - shrink;
        if (noise > 0.0) theta += noise * rng.normal();
        if (theta > 0.0) {
          w[k] = s * static_cast<float>(theta);
          keep[x][k] = 1;
          active_[x][i * W.n_post + W.cols[k]] = 1;
          ++alive[x];
        } else {
          ++m.rewired;
          ++dormant;
        }
      }
  }
  if (dormant == 0) return;  // the patterns stand (values were updated in place)

  // As many dormant positions, uniformly over all matrices' dormant positions: a matrix with
  // probability proportional to its dormant count, then a position in it by rejection.
  std::vector<std::vector<std::vector<std::uint32_t>>> grown(M);
  for (std::size_t x = 0; x < M; ++x) grown[x].resize(layout(matrices_[x]).n_pre);
  std::vector<std::size_t> free(M);
  std::size_t total_free = 0;
  for (std::size_t x = 0; x < M; ++x) total_free += free[x] = matrices_[x].potential - alive[x];
  // Per-matrix budgets: the draws for matrix x are those it lost, in matrix order.
  std::vector<std::size_t> lost(M, 0);
  for (std::size_t x = 0; x < M; ++x) lost[x] = keep[x].size() - alive[x];
  std::size_t local = 0;
  for (std::size_t g = 0; g < dormant; ++g) {
    std::size_t x = 0;
    if (config_.global_budget) {
      auto r = static_cast<std::size_t>(rng.uniform() * static_cast<double>(total_free));
      while (x + 1 < M && r >= free[x]) r -= free[x++];
    } else {
      while (lost[local] == 0) ++local;
      --lost[local];
      x = local;
    }
    const WeightLayout& W = layout(matrices_[x]);
    const std::size_t n = W.n_pre * W.n_post;
    for (;;) {
      const auto pos = static_cast<std::size_t>(rng.uniform() * static_cast<double>(n));
      if (pos >= n || active_[x][pos]) continue;
      active_[x][pos] = 1;
      grown[x][pos / W.n_post].push_back(static_cast<std::uint32_t>(pos % W.n_post));
      break;
    }
    --free[x];
    --total_free;
    ++matrices_[x].grown;
  }

  // The new patterns, rows in column order; values and optimiser state follow their synapses.
  for (std::size_t x = 0; x < M; ++x) {
    Matrix& m = matrices_[x];
    const WeightLayout& W = layout(m);
    const auto& w = net.params()[W.param].value;
    std::vector<std::uint32_t> row_ptr(W.n_pre + 1, 0), cols;
    std::vector<float> values;
    std::vector<std::int64_t> from;
    for (std::size_t i = 0; i < W.n_pre; ++i) {
      auto& add = grown[x][i];
      std::sort(add.begin(), add.end());
      std::uint32_t k = W.row_ptr[i];
      const std::uint32_t end = W.row_ptr[i + 1];
      std::size_t a = 0;
      for (;;) {
        while (k < end && !keep[x][k]) ++k;
        const bool old_left = k < end, new_left = a < add.size();
        if (!old_left && !new_left) break;
        if (old_left && (!new_left || W.cols[k] < add[a])) {
          cols.push_back(W.cols[k]);
          values.push_back(w[k]);
          from.push_back(k);
          ++k;
        } else {
          cols.push_back(add[a]);
          values.push_back(sign(m, i, add[a]) * static_cast<float>(config_.reset_value));
          from.push_back(-1);
          ++a;
        }
      }
      row_ptr[i + 1] = static_cast<std::uint32_t>(cols.size());
    }
    const std::size_t param = W.param;
    m.active = cols.size();
    m.rows_connected = rows_connected(row_ptr);
    net.set_pattern(m.layer, m.recurrent, std::move(row_ptr), std::move(cols), std::move(values));
    opt.remap(param, from);
  }
}

}  // namespace volley::train

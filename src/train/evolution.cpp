// Evolution strategies over a network's parameters (see evolution.hpp).
#include "volley/train/evolution.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <numeric>
#include <thread>

#include "volley/error.hpp"
#include "volley/rng.hpp"

namespace volley::train {
namespace {

constexpr std::uint32_t kStreamEvolution = 0xE5000000;

// ε (or z) of candidate pair/candidate `k` in generation `g`: n standard normals.
void noise(std::uint64_t seed, std::uint64_t g, std::size_t k, std::span<float> out) {
  CounterRng rng(seed, kStreamEvolution, static_cast<std::uint32_t>(k), g);
  for (float& x : out) x = static_cast<float>(rng.normal());
}

// Runs f(i) for i in [0, n) on `threads` threads, each with its own scratch copy of `net`.
template <class F>
void parallel_candidates(std::size_t n, int threads, const Net& net, F&& f) {
  const std::size_t workers = std::max<std::size_t>(1, std::min<std::size_t>(static_cast<std::size_t>(threads), n));
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    Net scratch = net;
    for (std::size_t i; (i = next.fetch_add(1)) < n;) f(i, scratch);
  };
  if (workers == 1) {
    work();
    return;
  }
  std::vector<std::jthread> pool;
  for (std::size_t t = 0; t < workers; ++t) pool.emplace_back(work);
}

}  // namespace

const Registry<Choice<EvolutionKind>>& evolution_kinds() {
  static const Registry<Choice<EvolutionKind>> r(
      "evolution strategy",
      {{"openai_es", EvolutionKind::openai_es,
        "OpenAI evolution strategies (Salimans et al. 2017): antithetic pairs θ ± σε, "
        "centred-rank fitness shaping, the search gradient handed to [optimizer]"},
       {"sep_cmaes", EvolutionKind::sep_cmaes,
        "separable CMA-ES (Ros & Hansen 2008): diagonal covariance, cumulative step-size "
        "adaptation ([optimizer] unused)"}});
  return r;
}

std::span<const volley::Param<EvolutionConfig>> evolution_params() {
  static const volley::Param<EvolutionConfig> p[] = {
      {"population", &EvolutionConfig::population, Dimension::none(), Range::closed(4, 100000),
       "λ, candidates per generation (even for openai_es)"},
      {"sigma", &EvolutionConfig::sigma, Dimension::none(),
       Range{0.0, std::numeric_limits<double>::infinity(), true, true},
       "perturbation scale (openai_es) or initial step size (sep_cmaes)"},
      {"batch_size", &EvolutionConfig::batch_size, Dimension::none(), Range::at_least(1),
       "training samples per generation (the same for every candidate)"},
      {"generations", &EvolutionConfig::generations, Dimension::none(), Range::at_least(1),
       "generations to run (--generations sets it)"},
  };
  return p;
}

void EvolutionConfig::validate() const {
  auto bad = [](const char* field, const std::string& why) {
    throw ParameterError(fmt::format("evolution: {}: {}", field, why));
  };
  if (population < 4) bad("population", fmt::format("must be at least 4, got {}", population));
  if (kind == EvolutionKind::openai_es && population % 2 != 0)
    bad("population", fmt::format("must be even for antithetic sampling, got {}", population));
  if (!(sigma > 0.0) || !std::isfinite(sigma)) bad("sigma", fmt::format("must be > 0, got {}", sigma));
  if (batch_size < 1) bad("batch_size", "must be at least 1");
  if (generations < 1) bad("generations", "must be at least 1");
  if (threads < 1) bad("threads", "must be at least 1");
}

Evolution::Evolution(Net& net, const LossConfig& loss, const OptimizerConfig& optimizer,
                     const EvolutionConfig& config)
    : net_(net), loss_(loss), opt_cfg_(optimizer), opt_(optimizer, net.params()), cfg_(config) {
  cfg_.validate();
  const auto& ps = net_.params();
  for (std::size_t p = 0; p < ps.size(); ++p)
    if (ps[p].trainable) slots_.emplace_back(p, ps[p].value.size());
  theta_ = flatten();
  if (theta_.empty()) throw ParameterError("evolution: the network has no trainable parameters");
  sigma_ = cfg_.sigma;
  if (cfg_.kind == EvolutionKind::sep_cmaes) {
    diag_.assign(theta_.size(), 1.0);
    p_sigma_.assign(theta_.size(), 0.0);
    p_c_.assign(theta_.size(), 0.0);
  }
}

std::vector<float> Evolution::flatten() const {
  std::vector<float> out;
  for (const auto& [p, n] : slots_) {
    const auto& v = net_.params()[p].value;
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

void Evolution::unflatten(std::span<const float> theta, Net& net) const {
  std::size_t k = 0;
  for (const auto& [p, n] : slots_) {
    std::copy_n(theta.begin() + static_cast<std::ptrdiff_t>(k), n, net.params()[p].value.begin());
    k += n;
  }
  net.constrain();
}

void Evolution::evaluate_candidates(std::vector<double>& f,
                                    const std::function<void(std::size_t, Net&)>& candidate) {
  const auto [lo, hi] = comm_ ? share(f.size(), comm_->rank(), comm_->size())
                              : std::pair<std::size_t, std::size_t>{0, f.size()};
  parallel_candidates(hi - lo, cfg_.threads, net_,
                      [&](std::size_t k, Net& scratch) { candidate(lo + k, scratch); });
  if (comm_) merge_disjoint(*comm_, f);
}

double Evolution::fitness(std::span<const float> theta, Net& scratch, const EventSource& data,
                          std::span<const std::size_t> batch) const {
  unflatten(theta, scratch);
  SampleEvents events;
  SampleRecord rec;
  Workspace ws;
  double loss = 0.0;
  for (std::size_t s : batch) {
    data.fill(s, generation_, events);
    scratch.forward(events, rec, ws, false);
    loss += sample_loss(loss_, scratch, rec, data.label(s), 1.0f, nullptr).loss;
  }
  return -loss / static_cast<double>(batch.size());
}

GenerationStats Evolution::step(const EventSource& data, std::span<const std::size_t> batch) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t n = theta_.size(), lambda = cfg_.population;
  const std::uint64_t g = generation_;
  std::vector<double> f(lambda, 0.0);
  GenerationStats st;

  if (cfg_.kind == EvolutionKind::openai_es) {
    const float sigma = static_cast<float>(cfg_.sigma);
    evaluate_candidates(f, [&](std::size_t j, Net& scratch) {
      std::vector<float> eps(n), x(n);
      noise(cfg_.seed, g, j / 2, eps);
      const float sign = j % 2 == 0 ? 1.0f : -1.0f;
      for (std::size_t i = 0; i < n; ++i) x[i] = theta_[i] + sign * sigma * eps[i];
      f[j] = fitness(x, scratch, data, batch);
    });
    // Centred ranks in [−0.5, 0.5] (ties broken by candidate index, so the order is total).
    std::vector<std::size_t> order(lambda);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return f[a] < f[b]; });
    std::vector<double> rank(lambda);
    for (std::size_t r = 0; r < lambda; ++r)
      rank[order[r]] = static_cast<double>(r) / static_cast<double>(lambda - 1) - 0.5;
    // g = Σ_pairs (F+ − F−) ε / (λσ); the optimiser minimises, so it gets −g.
    std::vector<double> grad(n, 0.0);
    std::vector<float> eps(n);
    for (std::size_t k = 0; k < lambda / 2; ++k) {
      noise(cfg_.seed, g, k, eps);
      const double w = rank[2 * k] - rank[2 * k + 1];
      for (std::size_t i = 0; i < n; ++i) grad[i] += w * eps[i];
    }
    std::vector<std::vector<float>> grads = net_.zero_grads();
    std::size_t k = 0;
    const double scale = -1.0 / (static_cast<double>(lambda) * cfg_.sigma);
    for (const auto& [p, size] : slots_)
      for (std::size_t i = 0; i < size; ++i, ++k) grads[p][i] = static_cast<float>(scale * grad[k]);
    opt_.step(net_.params(), grads, opt_cfg_.lr, cfg_.threads);
    net_.constrain();
    theta_ = flatten();
  } else {
    // ---- separable CMA-ES ----
    const std::size_t mu = lambda / 2;
    std::vector<double> w(mu);
    for (std::size_t i = 0; i < mu; ++i) w[i] = std::log(static_cast<double>(mu) + 0.5) - std::log(static_cast<double>(i + 1));
    const double wsum = std::accumulate(w.begin(), w.end(), 0.0);
    double w2 = 0.0;
    for (double& x : w) {
      x /= wsum;
      w2 += x * x;
    }
    const double dn = static_cast<double>(n), mueff = 1.0 / w2;
    const double cs = (mueff + 2.0) / (dn + mueff + 5.0);
    const double ds = 1.0 + 2.0 * std::max(0.0, std::sqrt((mueff - 1.0) / (dn + 1.0)) - 1.0) + cs;
    const double cc = (4.0 + mueff / dn) / (dn + 4.0 + 2.0 * mueff / dn);
    double c1 = 2.0 / ((dn + 1.3) * (dn + 1.3) + mueff);
    double cmu = std::min(1.0 - c1, 2.0 * (mueff - 2.0 + 1.0 / mueff) / ((dn + 2.0) * (dn + 2.0) + mueff));
    const double sep = (dn + 2.0) / 3.0;  // separable: faster learning of the diagonal
    c1 = std::min(1.0, c1 * sep);
    cmu = std::min(1.0 - c1, cmu * sep);
    const double chi_n = std::sqrt(dn) * (1.0 - 1.0 / (4.0 * dn) + 1.0 / (21.0 * dn * dn));

    std::vector<double> sd(n);
    for (std::size_t i = 0; i < n; ++i) sd[i] = std::sqrt(diag_[i]);
    evaluate_candidates(f, [&](std::size_t j, Net& scratch) {
      std::vector<float> z(n), x(n);
      noise(cfg_.seed, g, j, z);
      for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<float>(theta_[i] + sigma_ * sd[i] * z[i]);
      f[j] = fitness(x, scratch, data, batch);
    });
    std::vector<std::size_t> order(lambda);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return f[a] > f[b]; });
    // Weighted means of the best μ steps: y_w (in θ units / σ) and z_w (whitened), and the
    // rank-μ term Σ w_i y_i².
    std::vector<double> yw(n, 0.0), zw(n, 0.0), rank_mu(n, 0.0);
    std::vector<float> z(n);
    for (std::size_t r = 0; r < mu; ++r) {
      noise(cfg_.seed, g, order[r], z);
      for (std::size_t i = 0; i < n; ++i) {
        const double y = sd[i] * z[i];
        yw[i] += w[r] * y;
        zw[i] += w[r] * z[i];
        rank_mu[i] += w[r] * y * y;
      }
    }
    for (std::size_t i = 0; i < n; ++i) theta_[i] = static_cast<float>(theta_[i] + sigma_ * yw[i]);
    double ps_norm = 0.0;
    const double a = std::sqrt(cs * (2.0 - cs) * mueff);
    for (std::size_t i = 0; i < n; ++i) {
      p_sigma_[i] = (1.0 - cs) * p_sigma_[i] + a * zw[i];
      ps_norm += p_sigma_[i] * p_sigma_[i];
    }
    ps_norm = std::sqrt(ps_norm);
    const double hs_lhs = ps_norm / std::sqrt(1.0 - std::pow(1.0 - cs, 2.0 * static_cast<double>(g + 1)));
    const double hs = hs_lhs < (1.4 + 2.0 / (dn + 1.0)) * chi_n ? 1.0 : 0.0;
    const double b = std::sqrt(cc * (2.0 - cc) * mueff);
    for (std::size_t i = 0; i < n; ++i) {
      p_c_[i] = (1.0 - cc) * p_c_[i] + hs * b * yw[i];
      diag_[i] = (1.0 - c1 - cmu) * diag_[i] +
                 c1 * (p_c_[i] * p_c_[i] + (1.0 - hs) * cc * (2.0 - cc) * diag_[i]) + cmu * rank_mu[i];
    }
    sigma_ *= std::exp(std::min(1.0, (cs / ds) * (ps_norm / chi_n - 1.0)));
    unflatten(theta_, net_);
    theta_ = flatten();  // after constrain()
  }
  ++generation_;
  st.best_fitness = *std::max_element(f.begin(), f.end());
  st.mean_fitness = std::accumulate(f.begin(), f.end(), 0.0) / static_cast<double>(lambda);
  st.sigma = cfg_.kind == EvolutionKind::sep_cmaes ? sigma_ : cfg_.sigma;
  st.evaluations = lambda;
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return st;
}

}  // namespace volley::train

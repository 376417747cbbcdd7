#include "volley/inputs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "volley/error.hpp"
#include "volley/population.hpp"
#include "volley/rng.hpp"

namespace volley {

Input::Input(std::string name, Population& target, Slice slice)
    : name_(std::move(name)), target_(&target), lo_(slice.start) {
  if (slice.start > target.size())
    throw ParameterError(fmt::format("input '{}': slice start {} exceeds population '{}' of size {}",
                                     name_, slice.start, target.name(), target.size()));
  to_end_ = slice.count == Slice::npos;
  n_ = to_end_ ? target.size() - slice.start : slice.count;
  if (lo_ + n_ > target.size())
    throw ParameterError(fmt::format("input '{}': slice [{}, {}) exceeds population '{}' of size {}",
                                     name_, lo_, lo_ + n_, target.name(), target.size()));
}

void Input::sync_size() {
  if (to_end_) n_ = target_->size() - lo_;
}

PoissonInput::PoissonInput(const PoissonInputSpec& spec, Population& target, std::uint32_t id)
    : Input(spec.name, target, spec.slice),
      n_sources_(spec.n),
      stream_(stream_id(RngStream::kPoissonInput, id)),
      rate_(spec.rate) {
  const std::string where = fmt::format("input '{}'", name_);
  if (!(spec.rate >= 0.0))
    throw ParameterError(fmt::format("{}: rate must be >= 0, got {} Hz", where, spec.rate));
  if (target.channels().empty())
    throw ParameterError(fmt::format("{}: target '{}' has no synaptic channels", where, target.name()));
  try {
    channel_ = target.channel_index(spec.channel);
    weight_ = static_cast<float>(spec.weight * target.weight_factor(channel_, spec.weight_dim));
  } catch (const ParameterError& e) {
    throw ParameterError(fmt::format("{}: {}", where, e.what()));
  }
}

bool PoissonInput::uses_ring() const { return target_->channel_state(channel_) == nullptr; }

void PoissonInput::prepare(double dt) {
  p_ = rate_ * dt;
  if (p_ > 1.0)
    throw ParameterError(fmt::format("input '{}': rate {} Hz exceeds 1/dt", name_, rate_));
  // Cumulative Binomial(n, p) table for sampling by inversion with one uniform per draw; large
  // means use the generator's normal approximation instead.
  cdf_.clear();
  const double mean = n_sources_ * p_;
  if (p_ > 0.0 && p_ < 1.0 && !(mean > 30.0 && n_sources_ * (1.0 - p_) > 30.0)) {
    double pk = std::pow(1.0 - p_, static_cast<double>(n_sources_)), sum = 0.0;
    for (std::uint32_t k = 0; k <= n_sources_; ++k) {
      sum += pk;
      cdf_.push_back(sum);
      if (1.0 - sum < 1e-15) break;
      pk *= p_ / (1.0 - p_) * static_cast<double>(n_sources_ - k) / static_cast<double>(k + 1);
    }
    cdf_.back() = 1.0;
    // Entries past the end (above any uniform draw) let apply() count a fixed kHead entries.
    if (cdf_.size() < kHead + 1) cdf_.resize(kHead + 1, 2.0);
  }
}

void PoissonInput::apply(const StepContext& ctx, std::size_t lo, std::size_t hi) {
  lo = std::max(lo, lo_);
  hi = std::min(hi, lo_ + n_);
  if (lo >= hi || p_ <= 0.0) return;
  // Added before the update: into the channel state, or this step's ring row (delta channels).
  float* state = target_->channel_state(channel_);
  float* row = state ? state : target_->ring(channel_).row(ctx.step);
  if (!cdf_.empty()) {
    // k = the first index with cdf[k] > u = the number of entries <= u (the table does not
    // decrease). Counting over the first kHead entries has no branch and vectorises; the rare
    // draw past them continues the search. This replaced a data-dependent search loop whose
    // mispredictions cost most of a Brunel run (identical draws, identical counts).
    thread_local std::vector<double> u, count;
    const std::size_t n = hi - lo;
    u.resize(n);
    count.resize(n);
    uniform_batch(ctx.seed, stream_, ctx.step, lo, hi, u.data());
    double head[kHead];
    std::copy_n(cdf_.begin(), kHead, head);
    const double* __restrict x = u.data();
    double* __restrict k = count.data();
    std::int64_t past_head = 0;
    for (std::size_t i = 0; i < n; ++i) {
      double m = 0.0;
      for (std::size_t j = 0; j < kHead; ++j) m += head[j] <= x[i] ? 1.0 : 0.0;
      k[i] = m;
      past_head |= m == static_cast<double>(kHead) ? 1 : 0;
    }
    if (past_head) [[unlikely]]
      for (std::size_t i = 0; i < n; ++i)
        if (k[i] == static_cast<double>(kHead)) {
          std::size_t m = kHead;
          while (cdf_[m] <= x[i]) ++m;
          k[i] = static_cast<double>(m);
        }
    float* __restrict out = row + lo;
    const float w = weight_;
    for (std::size_t i = 0; i < n; ++i) {
      const float m = static_cast<float>(k[i]);
      out[i] = m != 0.0f ? out[i] + m * w : out[i];
    }
    return;
  }
  for (std::size_t i = lo; i < hi; ++i) {
    CounterRng rng(ctx.seed, stream_, static_cast<std::uint32_t>(i), ctx.step);
    const std::uint32_t k = rng.binomial(n_sources_, p_);
    if (k) row[i] += static_cast<float>(k) * weight_;
  }
}

double TimeSeries::at(double t) const {
  switch (kind) {
    case Kind::kConstant: return value;
    case Kind::kSteps: {
      auto it = std::upper_bound(times.begin(), times.end(), t + 1e-12);
      return it == times.begin() ? 0.0 : values[static_cast<std::size_t>(it - times.begin()) - 1];
    }
    case Kind::kArray: {
      auto k = static_cast<std::size_t>(std::max(0.0, std::floor(t / array_dt + 1e-9)));
      return values[std::min(k, values.size() - 1)];
    }
  }
  return 0.0;
}

void TimeSeries::validate(const std::string& where) const {
  if (kind == Kind::kSteps) {
    if (times.size() != values.size() || times.empty())
      throw ParameterError(fmt::format("{}: times and values must be non-empty and of equal length "
                                       "({} vs {})", where, times.size(), values.size()));
    for (std::size_t k = 1; k < times.size(); ++k)
      if (!(times[k] > times[k - 1]))
        throw ParameterError(fmt::format("{}: times must increase (entry {})", where, k));
  }
  if (kind == Kind::kArray) {
    if (values.empty()) throw ParameterError(fmt::format("{}: values is empty", where));
    if (!(array_dt > 0.0)) throw ParameterError(fmt::format("{}: dt must be > 0", where));
  }
}

CurrentInput::CurrentInput(const CurrentInputSpec& spec, Population& target, std::uint32_t id)
    : Input(spec.name, target, spec.slice),
      series_(spec.series),
      noise_(spec.noise),
      noisy_(!(spec.noise.is_constant() && spec.noise.a == 0.0)),
      stream_(stream_id(RngStream::kNoise, id)) {
  const std::string where = fmt::format("input '{}'", name_);
  series_.validate(where);
  if (noise_.is_ramp())
    throw ParameterError(fmt::format("{}: noise must be a distribution, not a ramp", where));
  noise_.validate(where + ": noise");
  try {
    factor_ = target.injection_factor(spec.dim);
  } catch (const ParameterError& e) {
    throw ParameterError(fmt::format("{}: {}", where, e.what()));
  }
}

void CurrentInput::prepare(double) {}

void CurrentInput::apply(const StepContext& ctx, std::size_t lo, std::size_t hi) {
  lo = std::max(lo, lo_);
  hi = std::min(hi, lo_ + n_);
  if (lo >= hi) return;
  const float value = static_cast<float>(series_.at(static_cast<double>(ctx.step) * ctx.dt) * factor_);
  float* d = target_->drive();
  if (!noisy_) {
    for (std::size_t i = lo; i < hi; ++i) d[i] += value;
    return;
  }
  if (noise_.kind == Distribution::Kind::kUniform) {
    // The same numbers as Distribution::sample on CounterRng(seed, stream, i, step), from the
    // vectorised generator (the noise was half of a distal-reward run's time before).
    thread_local std::vector<double> u;
    u.resize(hi - lo);
    uniform_batch(ctx.seed, stream_, ctx.step, lo, hi, u.data());
    const double a = noise_.a, span = noise_.b - noise_.a, mn = noise_.min, mx = noise_.max;
    for (std::size_t i = lo; i < hi; ++i) {
      double x = a + span * u[i - lo];
      x = x < mn ? mn : (x > mx ? mx : x);
      d[i] += value + static_cast<float>(x * factor_);
    }
    return;
  }
  for (std::size_t i = lo; i < hi; ++i) {
    CounterRng rng(ctx.seed, stream_, static_cast<std::uint32_t>(i), ctx.step);
    d[i] += value + static_cast<float>(noise_.sample(rng) * factor_);
  }
}

}  // namespace volley

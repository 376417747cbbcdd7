#include "volley/projection.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "volley/error.hpp"
#include "volley/population.hpp"
#include "volley/rng.hpp"

namespace volley {

void StdpParams::validate(const std::string& where) const {
  auto fail = [&](const std::string& m) { throw ParameterError(fmt::format("{}: {}", where, m)); };
  if (!(tau_plus > 0.0)) fail(fmt::format("tau_plus must be > 0, got {} s", tau_plus));
  if (!(tau_minus > 0.0)) fail(fmt::format("tau_minus must be > 0, got {} s", tau_minus));
  if (!(a_plus >= 0.0)) fail(fmt::format("a_plus must be >= 0, got {}", a_plus));
  if (!(a_minus >= 0.0)) fail(fmt::format("a_minus must be >= 0, got {}", a_minus));
  if (!(w_max >= w_min)) fail(fmt::format("w_max ({}) must be >= w_min ({})", w_max, w_min));
}

namespace {

std::pair<std::size_t, std::size_t> resolve(const Slice& s, const Population& p,
                                            const std::string& what) {
  if (s.start > p.size())
    throw ParameterError(fmt::format("{}: slice starts at {} but population '{}' has {} neurons",
                                     what, s.start, p.name(), p.size()));
  const std::size_t n = s.count == Slice::npos ? p.size() - s.start : s.count;
  if (s.start + n > p.size())
    throw ParameterError(fmt::format("{}: slice [{}, {}) exceeds population '{}' of size {}", what,
                                     s.start, s.start + n, p.name(), p.size()));
  return {s.start, n};
}

std::uint32_t delay_to_steps(double delay, double dt, const std::string& where) {
  if (!(delay >= 0.0) || !std::isfinite(delay))
    throw ParameterError(fmt::format("{}: delay must be >= 0, got {} s", where, delay));
  const long long steps = std::max(1LL, std::llround(delay / dt));
  if (steps > 65535)
    throw ParameterError(fmt::format("{}: delay {} s is more than 65535 steps of dt", where, delay));
  return static_cast<std::uint32_t>(steps);
}

}  // namespace

Projection::Projection(const ProjectionSpec& spec, Population& source, Population& target,
                       double dt, std::uint64_t seed, std::uint32_t id)
    : name_(spec.name),
      source_(&source),
      target_(&target),
      source_slice_(spec.source_slice),
      target_slice_(spec.target_slice),
      dt_(dt),
      stdp_(spec.stdp) {
  const std::string where = fmt::format("projection '{}'", name_);
  std::tie(pre_lo_, n_pre_) = resolve(spec.source_slice, source, where);
  std::tie(post_lo_, n_post_) = resolve(spec.target_slice, target, where);
  if (target.channels().empty())
    throw ParameterError(fmt::format("{}: target '{}' ({}) cannot receive synapses", where,
                                     target.name(), target.model()));
  try {
    channel_ = target.channel_index(spec.channel);
    weight_factor_ = target.weight_factor(channel_, spec.weight_dim);
    spec.weight.validate(where + ".weight");
    spec.delay.validate(where + ".delay");
    if (stdp_) stdp_->validate(where + ".plasticity");
  } catch (const ParameterError& e) {
    throw ParameterError(fmt::format("{}: {}", where, e.what()));
  }

  ConnectGeometry g{n_pre_, n_post_, &source == &target,
                    static_cast<std::int64_t>(post_lo_) - static_cast<std::int64_t>(pre_lo_)};
  SparsityPattern sp;
  try {
    sp = build_pattern(spec.connector, g, seed, stream_id(RngStream::kConnectivity, id));
  } catch (const ParameterError& e) {
    throw ParameterError(fmt::format("{}: {}", where, e.what()));
  }
  const std::size_t n = sp.cols.size();
  AlignedVector<float> w(n);
  std::vector<std::uint16_t> delays;
  // A ramp follows the synapse's target (or source) index within its slice.
  auto ramp_value = [this](const Distribution& d, std::size_t pre, std::uint32_t post) {
    return d.over == Distribution::Over::kSource ? d.at(pre, n_pre_) : d.at(post, n_post_);
  };
  const std::uint32_t wstream = stream_id(RngStream::kWeights, id);
  const std::uint32_t dstream = stream_id(RngStream::kDelays, id);
  for (std::size_t i = 0; i < n_pre_; ++i) {
    for (std::uint64_t s = sp.row_ptr[i]; s < sp.row_ptr[i + 1]; ++s) {
      const std::uint32_t col = sp.cols[s];  // within the target slice
      sp.cols[s] += static_cast<std::uint32_t>(post_lo_);
      if (spec.weight.is_ramp()) {
        w[s] = static_cast<float>(ramp_value(spec.weight, i, col) * weight_factor_);
      } else if (spec.weight.is_constant()) {
        w[s] = static_cast<float>(spec.weight.a * weight_factor_);
      } else {
        CounterRng rng(seed, wstream, static_cast<std::uint32_t>(i), s - sp.row_ptr[i]);
        w[s] = static_cast<float>(spec.weight.sample(rng) * weight_factor_);
      }
    }
  }
  if (spec.delay.is_constant()) {
    max_delay_ = delay_to_steps(spec.delay.a, dt, where);
  } else {
    delays.resize(n);
    for (std::size_t i = 0; i < n_pre_; ++i)
      for (std::uint64_t s = sp.row_ptr[i]; s < sp.row_ptr[i + 1]; ++s) {
        double d;
        if (spec.delay.is_ramp()) {
          d = ramp_value(spec.delay, i, sp.cols[s] - static_cast<std::uint32_t>(post_lo_));
        } else {
          CounterRng rng(seed, dstream, static_cast<std::uint32_t>(i), s - sp.row_ptr[i]);
          d = spec.delay.sample(rng);
        }
        delays[s] = static_cast<std::uint16_t>(delay_to_steps(d, dt, where));
      }
  }
  rebuild(std::move(sp.row_ptr), AlignedVector<std::uint32_t>(sp.cols.begin(), sp.cols.end()),
          std::move(w), std::move(delays));
  prepare(dt);
}

void Projection::rebuild(std::vector<std::uint64_t> row_ptr, AlignedVector<std::uint32_t> cols,
                         AlignedVector<float> weights, std::vector<std::uint16_t> delays) {
  row_ptr_ = std::move(row_ptr);
  cols_ = std::move(cols);
  weights_ = std::move(weights);
  delays_ = std::move(delays);
  if (!delays_.empty()) {
    const auto [mn, mx] = std::minmax_element(delays_.begin(), delays_.end());
    if (*mn == *mx) {
      max_delay_ = *mx;
      delays_.clear();
    } else {
      max_delay_ = *mx;
    }
  }
  if (stdp_) {
    build_post_index();
    x_pre_.resize(n_pre_, 0.0f);
    y_post_.resize(n_post_, 0.0f);
  }
}

void Projection::build_post_index() {
  col_ptr_.assign(n_post_ + 1, 0);
  for (auto c : cols_) ++col_ptr_[c - post_lo_ + 1];
  for (std::size_t j = 0; j < n_post_; ++j) col_ptr_[j + 1] += col_ptr_[j];
  col_syn_.resize(cols_.size());
  col_pre_.resize(cols_.size());
  std::vector<std::uint64_t> fill(col_ptr_.begin(), col_ptr_.end() - 1);
  for (std::size_t i = 0; i < n_pre_; ++i)
    for (std::uint64_t s = row_ptr_[i]; s < row_ptr_[i + 1]; ++s) {
      const std::uint64_t k = fill[cols_[s] - post_lo_]++;
      col_syn_[k] = s;
      col_pre_[k] = static_cast<std::uint32_t>(i);
    }
}

void Projection::prepare(double dt) {
  if (std::abs(dt - dt_) > 1e-12 * dt_)
    throw ParameterError(fmt::format("projection '{}' was built for dt = {} s, not {} s", name_,
                                     dt_, dt));
  if (stdp_) {
    decay_plus_ = static_cast<float>(std::exp(-dt / stdp_->tau_plus));
    decay_minus_ = static_cast<float>(std::exp(-dt / stdp_->tau_minus));
    a_plus_ = static_cast<float>(stdp_->a_plus * weight_factor_);
    a_minus_ = static_cast<float>(stdp_->a_minus * weight_factor_);
    w_min_ = static_cast<float>(stdp_->w_min * weight_factor_);
    w_max_ = static_cast<float>(stdp_->w_max * weight_factor_);
  }
}

void Projection::sync_sizes() {
  if (source_slice_.count == Slice::npos && source_->size() - pre_lo_ > n_pre_) {
    n_pre_ = source_->size() - pre_lo_;
    row_ptr_.resize(n_pre_ + 1, row_ptr_.back());
    if (stdp_) x_pre_.resize(n_pre_, 0.0f);
  }
  if (target_slice_.count == Slice::npos && target_->size() - post_lo_ > n_post_) {
    n_post_ = target_->size() - post_lo_;
    if (stdp_) {
      col_ptr_.resize(n_post_ + 1, col_ptr_.back());
      y_post_.resize(n_post_, 0.0f);
    }
  }
}

void Projection::add_synapses(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& pairs,
                              double weight_si, double delay_s) {
  sync_sizes();
  const std::string where = fmt::format("projection '{}'", name_);
  const std::uint32_t d = delay_to_steps(delay_s, dt_, where);
  std::vector<std::vector<std::pair<std::uint32_t, std::size_t>>> extra(n_pre_);
  for (std::size_t k = 0; k < pairs.size(); ++k) {
    const auto [pre, post] = pairs[k];
    if (pre >= n_pre_ || post >= n_post_)
      throw ParameterError(fmt::format("{}: new synapse {} -> {} is outside {} x {}", where, pre,
                                       post, n_pre_, n_post_));
    extra[pre].emplace_back(static_cast<std::uint32_t>(post + post_lo_), k);
  }
  const bool need_delays = !delays_.empty() || d != max_delay_;
  const float w = static_cast<float>(weight_si * weight_factor_);
  std::vector<std::uint64_t> rp(n_pre_ + 1, 0);
  AlignedVector<std::uint32_t> cols;
  AlignedVector<float> ws;
  std::vector<std::uint16_t> ds;
  cols.reserve(cols_.size() + pairs.size());
  for (std::size_t i = 0; i < n_pre_; ++i) {
    std::vector<std::tuple<std::uint32_t, float, std::uint16_t>> row;
    for (std::uint64_t s = row_ptr_[i]; s < row_ptr_[i + 1]; ++s)
      row.emplace_back(cols_[s], weights_[s], static_cast<std::uint16_t>(delay_steps(s)));
    for (const auto& [c, k] : extra[i]) row.emplace_back(c, w, static_cast<std::uint16_t>(d));
    std::stable_sort(row.begin(), row.end(),
                     [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
    for (const auto& [c, wt, dl] : row) {
      cols.push_back(c);
      ws.push_back(wt);
      if (need_delays) ds.push_back(dl);
    }
    rp[i + 1] = cols.size();
  }
  rebuild(std::move(rp), std::move(cols), std::move(ws), std::move(ds));
}

bool Projection::uses_ring() const {
  return !delays_.empty() || max_delay_ > 1 || target_->channel_state(channel_) == nullptr;
}

std::size_t Projection::bytes_per_synapse() const {
  std::size_t b = sizeof(std::uint32_t) + sizeof(float);
  if (!delays_.empty()) b += sizeof(std::uint16_t);
  if (stdp_) b += sizeof(std::uint64_t) + sizeof(std::uint32_t);
  return b;
}

std::size_t Projection::memory_bytes() const {
  return cols_.size() * bytes_per_synapse() + row_ptr_.size() * sizeof(std::uint64_t) +
         (stdp_ ? col_ptr_.size() * sizeof(std::uint64_t) + (x_pre_.size() + y_post_.size()) * 4
                : 0);
}

void Projection::deliver(SpikeList spikes, std::uint64_t step, std::size_t post_lo,
                         std::size_t post_hi) {
  const bool whole = post_lo <= post_lo_ && post_hi >= post_lo_ + n_post_;
  if (!whole && (post_hi <= post_lo_ || post_lo >= post_lo_ + n_post_)) return;
  DelayRing& ring = target_->ring(channel_);
  // One-step delays into an exponential channel go straight into its state variable.
  float* direct = uses_ring() ? nullptr : target_->channel_state(channel_);
  const std::uint32_t* cols = cols_.data();
  float* w = weights_.data();
  auto deliver_row = [&](std::size_t r) {
    std::uint64_t b = row_ptr_[r], e = row_ptr_[r + 1];
    if (!whole) {
      b = static_cast<std::uint64_t>(std::lower_bound(cols + b, cols + e, post_lo) - cols);
      e = static_cast<std::uint64_t>(std::lower_bound(cols + b, cols + e, post_hi) - cols);
    }
    if (delays_.empty()) {
      float* dst = direct ? direct : ring.row(step + max_delay_);
      for (std::uint64_t s = b; s < e; ++s) dst[cols[s]] += w[s];
    } else {
      for (std::uint64_t s = b; s < e; ++s) ring.row(step + delays_[s])[cols[s]] += w[s];
    }
    if (stdp_) {
      const float* y = y_post_.data();
      for (std::uint64_t s = b; s < e; ++s)
        w[s] = std::clamp(w[s] - a_minus_ * y[cols[s] - post_lo_], w_min_, w_max_);
    }
  };
  // Rows of spiking neurons are scattered in memory: fetch the row two spikes ahead while this
  // one is delivered (the row of a neuron is a cache miss; the scatter into targets is not).
  constexpr std::size_t kAhead = 2;
  const std::size_t lo = pre_lo_, hi = pre_lo_ + n_pre_;
  for (const auto& part : spikes) {
    if (part.empty() || part.back() < lo) continue;
    if (part.front() >= hi) break;
    const auto first = static_cast<std::size_t>(std::lower_bound(part.begin(), part.end(), lo) - part.begin());
    const auto last = static_cast<std::size_t>(std::lower_bound(part.begin() + static_cast<std::ptrdiff_t>(first), part.end(), hi) - part.begin());
    for (std::size_t j = first; j < last; ++j) {
      if (j + kAhead < last) {
        const std::size_t r = part[j + kAhead] - lo;
        const std::uint64_t nb = row_ptr_[r], ne = std::min(row_ptr_[r + 1], nb + 128);
        for (std::uint64_t q = nb; q < ne; q += 16) {
          __builtin_prefetch(cols + q);
          __builtin_prefetch(w + q);
        }
      }
      deliver_row(part[j] - lo);
    }
  }
}

void Projection::post_spikes(SpikeList target_spikes, std::size_t post_lo, std::size_t post_hi) {
  if (!stdp_) return;
  const std::size_t lo = std::max(post_lo, post_lo_), hi = std::min(post_hi, post_lo_ + n_post_);
  if (lo >= hi) return;
  float* w = weights_.data();
  const float* x = x_pre_.data();
  for_each_spike(target_spikes, lo, hi, [&](std::uint32_t spike) {
    const std::size_t c = spike - post_lo_;
    for (std::uint64_t k = col_ptr_[c]; k < col_ptr_[c + 1]; ++k) {
      const std::uint64_t s = col_syn_[k];
      w[s] = std::clamp(w[s] + a_plus_ * x[col_pre_[k]], w_min_, w_max_);
    }
  });
}

namespace {
void decay_and_bump(float* trace, std::size_t offset, std::size_t n, float decay, SpikeList spikes,
                    std::size_t lo, std::size_t hi) {
  lo = std::max(lo, offset);
  hi = std::min(hi, offset + n);
  if (lo >= hi) return;
  for (std::size_t i = lo; i < hi; ++i) trace[i - offset] *= decay;
  for_each_spike(spikes, lo, hi, [&](std::uint32_t i) { trace[i - offset] += decay; });
}
}  // namespace

void Projection::update_pre_traces(SpikeList spikes, std::size_t lo, std::size_t hi) {
  if (stdp_) decay_and_bump(x_pre_.data(), pre_lo_, n_pre_, decay_plus_, spikes, lo, hi);
}

void Projection::update_post_traces(SpikeList spikes, std::size_t lo, std::size_t hi) {
  if (stdp_) decay_and_bump(y_post_.data(), post_lo_, n_post_, decay_minus_, spikes, lo, hi);
}

}  // namespace volley

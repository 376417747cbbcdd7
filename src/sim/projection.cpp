#include "volley/projection.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>

#include "equation_synapses.hpp"
#include "volley/error.hpp"
#include "volley/neuromodulator.hpp"
#include "volley/population.hpp"
#include "volley/rng.hpp"

namespace volley {

void StdpParams::validate(const std::string& where) const {
  auto fail = [&](const std::string& m) { throw ParameterError(fmt::format("{}: {}", where, m)); };
  const bool triplet = rule == StdpRule::kTriplet;
  if (rule != StdpRule::kPair && !triplet && !hebbian())
    fail("rule must be pair, triplet, oja or bcm");
  if (pairing != StdpPairing::kAllToAll && pairing != StdpPairing::kNearest)
    fail("pairing must be all_to_all or nearest");
  if (weight_dependence != WeightDependence::kAdditive &&
      weight_dependence != WeightDependence::kMultiplicative)
    fail("weight_dependence must be additive or multiplicative");
  auto time = [&](const char* name, double v) {
    if (!(v > 0.0) || !std::isfinite(v)) fail(fmt::format("{} must be > 0, got {} s", name, v));
  };
  auto amplitude = [&](const char* name, double v) {
    if (!(v >= 0.0) || !std::isfinite(v)) fail(fmt::format("{} must be >= 0, got {}", name, v));
  };
  if (hebbian()) {
    if (!(eta > 0.0) || !std::isfinite(eta)) fail(fmt::format("eta must be > 0, got {} /s", eta));
    time("tau_rate", tau_rate);
    if (!(rate_ref > 0.0) || !std::isfinite(rate_ref))
      fail(fmt::format("rate_ref must be > 0, got {} Hz", rate_ref));
    if (!(w_ref > 0.0) || !std::isfinite(w_ref)) fail(fmt::format("w_ref must be > 0, got {}", w_ref));
    if (!(tau_mean >= 0.0) || !std::isfinite(tau_mean))
      fail(fmt::format("tau_mean must be >= 0, got {} s", tau_mean));
    if (rule == StdpRule::kBcm) {
      time("tau_theta", tau_theta);
      if (!(y0 > 0.0) || !std::isfinite(y0)) fail(fmt::format("y0 must be > 0, got {} Hz", y0));
    }
    if (modulated()) fail("a modulator needs a spike-timing rule (pair or triplet)");
    if (!(update_interval >= 0.0) || !std::isfinite(update_interval))
      fail(fmt::format("update_interval must be >= 0, got {} s", update_interval));
  }
  time("tau_plus", tau_plus);
  time("tau_minus", tau_minus);
  amplitude("a_plus", a_plus);
  amplitude("a_minus", a_minus);
  if (triplet) {
    time("tau_x", tau_x);
    time("tau_y", tau_y);
    amplitude("a3_plus", a3_plus);
    amplitude("a3_minus", a3_minus);
  } else {
    if (a3_plus != 0.0) fail(fmt::format("a3_plus ({}) needs the triplet rule", a3_plus));
    if (a3_minus != 0.0) fail(fmt::format("a3_minus ({}) needs the triplet rule", a3_minus));
  }
  if (modulated()) {
    time("tau_c", tau_c);
    if (!(update_interval >= 0.0) || !std::isfinite(update_interval))
      fail(fmt::format("update_interval must be >= 0, got {} s", update_interval));
  }
  if (!std::isfinite(w_min)) fail(fmt::format("w_min must be finite, got {}", w_min));
  if (!std::isfinite(w_max)) fail(fmt::format("w_max must be finite, got {}", w_max));
  if (!(w_max >= w_min)) fail(fmt::format("w_max ({}) must be >= w_min ({})", w_max, w_min));
  if (weight_dependence == WeightDependence::kMultiplicative && !(w_max > w_min))
    fail(fmt::format("w_max ({}) must be > w_min ({}) for multiplicative weight dependence", w_max,
                     w_min));
}

StdpParams pfister2006_visual_cortex(double w_ref) {
  if (!(w_ref > 0.0) || !std::isfinite(w_ref))
    throw ParameterError(
        fmt::format("pfister2006_visual_cortex: w_ref must be > 0, got {}", w_ref));
  // Pfister & Gerstner 2006, Table 4, visual cortex data, all-to-all interaction (full model).
  StdpParams p;
  p.rule = StdpRule::kTriplet;
  p.pairing = StdpPairing::kAllToAll;
  p.weight_dependence = WeightDependence::kAdditive;
  p.tau_plus = 16.8e-3;
  p.tau_minus = 33.7e-3;
  p.tau_x = 101e-3;
  p.tau_y = 125e-3;
  p.a_plus = 5e-10 * w_ref;     // A2+
  p.a3_plus = 6.2e-3 * w_ref;   // A3+
  p.a_minus = 7e-3 * w_ref;     // A2-
  p.a3_minus = 2.3e-4 * w_ref;  // A3-
  p.w_min = 0.0;
  p.w_max = 1e6 * w_ref;
  return p;
}

const char* to_string(StdpRule rule) {
  switch (rule) {
    case StdpRule::kTriplet: return "triplet";
    case StdpRule::kOja: return "oja";
    case StdpRule::kBcm: return "bcm";
    case StdpRule::kPair: break;
  }
  return "stdp";
}
const char* to_string(StdpPairing pairing) {
  return pairing == StdpPairing::kNearest ? "nearest" : "all_to_all";
}
const char* to_string(WeightDependence dependence) {
  return dependence == WeightDependence::kMultiplicative ? "multiplicative" : "additive";
}

namespace {

std::uint32_t delay_to_steps(double delay, double dt, const std::string& where) {
  if (!(delay >= 0.0) || !std::isfinite(delay))
    throw ParameterError(fmt::format("{}: delay must be >= 0, got {} s", where, delay));
  const long long steps = std::max(1LL, std::llround(delay / dt));
  if (steps > 65535)
    throw ParameterError(fmt::format("{}: delay {} s is more than 65535 steps of dt", where, delay));
  return static_cast<std::uint32_t>(steps);
}

}  // namespace

std::pair<std::size_t, std::size_t> resolve_slice(const Slice& s, const Population& p,
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


Projection::Projection(const ProjectionSpec& spec, Population& source, Population& target,
                       double dt, std::uint64_t seed, std::uint32_t id,
                       std::pair<std::size_t, std::size_t> owned)
    : name_(spec.name),
      source_(&source),
      target_(&target),
      source_slice_(spec.source_slice),
      target_slice_(spec.target_slice),
      dt_(dt),
      weight_dim_(spec.weight_dim),
      stdp_(spec.stdp) {
  constant_weight_si_ =
      spec.weight.is_constant() ? spec.weight.a : std::numeric_limits<double>::quiet_NaN();
  const std::string where = fmt::format("projection '{}'", name_);
  std::tie(pre_lo_, n_pre_) = resolve_slice(spec.source_slice, source, where);
  std::tie(post_lo_, n_post_) = resolve_slice(spec.target_slice, target, where);
  if (target.channels().empty() && !spec.synapse_equations)
    throw ParameterError(fmt::format("{}: target '{}' ({}) cannot receive synapses", where,
                                     target.name(), target.model()));
  if (spec.synapse_equations && stdp_)
    throw ParameterError(fmt::format("{}: give the plasticity either as synapse equations or as "
                                     "'plasticity', not both", where));
  try {
    if (!spec.synapse_equations) {
      channel_ = target.channel_index(spec.channel);
      weight_factor_ = target.weight_factor(channel_, spec.weight_dim);
    }
    spec.weight.validate(where + ".weight");
    spec.delay.validate(where + ".delay");
    if (stdp_) stdp_->validate(where + ".plasticity");
  } catch (const ParameterError& e) {
    throw ParameterError(fmt::format("{}: {}", where, e.what()));
  }

  owned_ = owned;
  ConnectGeometry g{n_pre_, n_post_, &source == &target,
                    static_cast<std::int64_t>(post_lo_) - static_cast<std::int64_t>(pre_lo_)};
  // Distributed: only the synapses onto this process's targets are drawn (their weights and
  // delays keyed by their places in the whole rows), except with delays listed per synapse in
  // whole-projection order (a synapse file): those are built whole and cut below.
  const bool partial = owned_.first > post_lo_ || owned_.second < post_lo_ + n_post_;
  if (partial && spec.synapse_delays.empty()) {
    g.keep_lo = std::clamp(owned_.first, post_lo_, post_lo_ + n_post_) - post_lo_;
    g.keep_hi = std::clamp(owned_.second, post_lo_, post_lo_ + n_post_) - post_lo_;
  }
  // Delays stay per synapse until the network has compared every process's (settle_delays).
  keep_delays_ = partial;
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
  // Synapse s of row i: its place in the whole row.
  auto place = [&sp](std::size_t i, std::uint64_t s) -> std::uint64_t {
    return sp.slot.empty() ? s - sp.row_ptr[i] : sp.slot[s];
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
        CounterRng rng(seed, wstream, static_cast<std::uint32_t>(i), place(i, s));
        w[s] = static_cast<float>(spec.weight.sample(rng) * weight_factor_);
      }
    }
  }
  if (!spec.synapse_delays.empty()) {
    if (spec.synapse_delays.size() != n)
      throw ParameterError(fmt::format("{}: {} delays for {} synapses", where,
                                       spec.synapse_delays.size(), n));
    delays.resize(n);
    for (std::size_t s = 0; s < n; ++s)
      delays[s] = static_cast<std::uint16_t>(delay_to_steps(spec.synapse_delays[s], dt, where));
  } else if (spec.delay.is_constant()) {
    max_delay_ = delay_to_steps(spec.delay.a, dt, where);
  } else {
    delays.resize(n);
    for (std::size_t i = 0; i < n_pre_; ++i)
      for (std::uint64_t s = sp.row_ptr[i]; s < sp.row_ptr[i + 1]; ++s) {
        double d;
        if (spec.delay.is_ramp()) {
          d = ramp_value(spec.delay, i, sp.cols[s] - static_cast<std::uint32_t>(post_lo_));
        } else {
          CounterRng rng(seed, dstream, static_cast<std::uint32_t>(i), place(i, s));
          d = spec.delay.sample(rng);
        }
        delays[s] = static_cast<std::uint16_t>(delay_to_steps(d, dt, where));
      }
  }
  if (partial && !spec.synapse_delays.empty()) {
    // Keep the synapses onto this process's targets, in the same order.
    std::size_t kept = 0;
    std::uint64_t row_begin = 0;
    for (std::size_t i = 0; i < n_pre_; ++i) {
      const std::uint64_t b = row_begin, e = sp.row_ptr[i + 1];
      for (std::uint64_t s = b; s < e; ++s) {
        if (!owns_target(sp.cols[s])) continue;
        sp.cols[kept] = sp.cols[s];
        w[kept] = w[s];
        if (!delays.empty()) delays[kept] = delays[s];
        ++kept;
      }
      row_begin = e;
      sp.row_ptr[i + 1] = kept;
    }
    sp.cols.resize(kept);
    sp.cols.shrink_to_fit();
    w.resize(kept);
    w.shrink_to_fit();
    if (!delays.empty()) {
      delays.resize(kept);
      delays.shrink_to_fit();
    }
  }
  rebuild(std::move(sp.row_ptr), AlignedVector<std::uint32_t>(sp.cols.begin(), sp.cols.end()),
          std::move(w), std::move(delays));
  if (spec.synapse_equations) setup_equations(spec, seed, id);
  prepare(dt);
}

Projection::~Projection() = default;

void Projection::settle_delays(std::uint32_t min_steps, std::uint32_t max_steps) {
  keep_delays_ = false;
  if (min_steps > max_steps) return;  // no synapse anywhere
  // One delay for every synapse of the whole projection: stored once, as max_delay_.
  if (min_steps == max_steps) delays_.clear();
  max_delay_ = max_steps;
}

std::pair<std::uint32_t, std::uint32_t> Projection::local_delay_range() const {
  if (cols_.empty()) return {std::numeric_limits<std::uint32_t>::max(), 0};
  if (delays_.empty()) return {max_delay_, max_delay_};
  const auto [mn, mx] = std::minmax_element(delays_.begin(), delays_.end());
  return {*mn, *mx};
}

std::uint32_t Projection::min_delay_steps() const {
  if (delays_.empty()) return max_delay_;
  return *std::min_element(delays_.begin(), delays_.end());
}

void Projection::require_static(const char* what) const {
  if (eq_)
    throw ParameterError(fmt::format("projection '{}': {} is not supported for synapses written as "
                                     "equations", name_, what));
}

void Projection::rebuild(std::vector<std::uint64_t> row_ptr, AlignedVector<std::uint32_t> cols,
                         AlignedVector<float> weights, std::vector<std::uint16_t> delays) {
  row_ptr_ = std::move(row_ptr);
  cols_ = std::move(cols);
  std::vector<std::uint64_t>().swap(row_cuts_);  // out of date
  weights_ = std::move(weights);
  uniform_checked_ = false;
  delays_ = std::move(delays);
  if (!delays_.empty()) {
    // Distributed, whether delays are stored per synapse is decided for the whole projection
    // (settle_delays, before every run): a process must not collapse its own uniform part while
    // another keeps mixed delays (one-step delivery straight into the state rounds differently
    // from the ring).
    const bool partial = owned_.first > post_lo_ || owned_.second < post_lo_ + n_post_;
    const auto [mn, mx] = std::minmax_element(delays_.begin(), delays_.end());
    if (*mn == *mx && !keep_delays_ && !partial) {
      max_delay_ = *mx;
      delays_.clear();
    } else {
      max_delay_ = *mx;
    }
  }
  if (stdp_) {
    build_post_index();
    resize_traces();
    if (stdp_->modulated()) elig_.assign(cols_.size(), 0.0f);
  }
  // Structural changes may happen during a run (structural plasticity), between prepares.
  find_uniform_weight();
}

void Projection::find_uniform_weight() {
  // Once per change of the weights, not per run: a scan of every weight costs ~50 us per run for
  // CUBA's 320 000 synapses, which dominated runs of 1 ms called in a loop.
  if (uniform_checked_) return;
  uniform_checked_ = true;
  uniform_weight_ = !stdp_ && !weights_.empty() &&
                    std::all_of(weights_.begin(), weights_.end(),
                                [w0 = std::bit_cast<std::uint32_t>(weights_[0])](float w) {
                                  return std::bit_cast<std::uint32_t>(w) == w0;
                                });
}

void Projection::remove_synapses_at(const std::vector<char>& drop) {
  require_static("removing synapses");
  if (drop.size() != cols_.size())
    throw ParameterError(fmt::format("projection '{}': {} removal marks for {} synapses", name_,
                                     drop.size(), cols_.size()));
  std::vector<std::uint64_t> rp(n_pre_ + 1, 0);
  AlignedVector<std::uint32_t> cols;
  AlignedVector<float> w;
  std::vector<std::uint16_t> d;
  cols.reserve(cols_.size());
  w.reserve(cols_.size());
  for (std::size_t i = 0; i < n_pre_; ++i) {
    for (std::uint64_t s = row_ptr_[i]; s < row_ptr_[i + 1]; ++s) {
      if (drop[s]) continue;
      cols.push_back(cols_[s]);
      w.push_back(weights_[s]);
      if (!delays_.empty()) d.push_back(delays_[s]);
    }
    rp[i + 1] = cols.size();
  }
  rebuild(std::move(rp), std::move(cols), std::move(w), std::move(d));
}

void Projection::resize_traces() {
  x_pre_.resize(n_pre_, 0.0f);
  y_post_.resize(n_post_, 0.0f);
  if (stdp_->rule != StdpRule::kPair) {  // triplet: r2, o2; Hebbian: running means
    x2_pre_.resize(n_pre_, 0.0f);
    y2_post_.resize(n_post_, 0.0f);
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
  // A static projection whose weights are all equal delivers that one number and never reads
  // its weight array: half the bytes per event (weights may change between runs, so per run).
  find_uniform_weight();
  if (eq_) prepare_equations(dt);
  if (stdp_) {
    triplet_ = stdp_->rule == StdpRule::kTriplet;
    multiplicative_ = stdp_->weight_dependence == WeightDependence::kMultiplicative;
    nearest_ = stdp_->pairing == StdpPairing::kNearest;
    decay_plus_ = static_cast<float>(std::exp(-dt / stdp_->tau_plus));
    decay_minus_ = static_cast<float>(std::exp(-dt / stdp_->tau_minus));
    decay_x_ = triplet_ ? static_cast<float>(std::exp(-dt / stdp_->tau_x)) : 0.0f;
    decay_y_ = triplet_ ? static_cast<float>(std::exp(-dt / stdp_->tau_y)) : 0.0f;
    a_plus_ = static_cast<float>(stdp_->a_plus * weight_factor_);
    a_minus_ = static_cast<float>(stdp_->a_minus * weight_factor_);
    a3_plus_ = triplet_ ? static_cast<float>(stdp_->a3_plus * weight_factor_) : 0.0f;
    a3_minus_ = triplet_ ? static_cast<float>(stdp_->a3_minus * weight_factor_) : 0.0f;
    w_min_ = static_cast<float>(stdp_->w_min * weight_factor_);
    w_max_ = static_cast<float>(stdp_->w_max * weight_factor_);
    const double range = (stdp_->w_max - stdp_->w_min) * weight_factor_;
    inv_range_ = range != 0.0 ? static_cast<float>(1.0 / range) : 0.0f;
    hebbian_ = stdp_->hebbian();
    bcm_ = stdp_->rule == StdpRule::kBcm;
    if (hebbian_) {
      triplet_ = false;
      nearest_ = false;
      const double decay = std::exp(-dt / stdp_->tau_rate);
      decay_plus_ = decay_minus_ = static_cast<float>(decay);
      // A spike at rate r adds `decay` each time: E[trace] = r dt decay / (1 - decay).
      rate_scale_ = static_cast<float>((1.0 - decay) / (dt * decay) / stdp_->rate_ref);
      centred_ = !bcm_ && stdp_->tau_mean > 0.0;
      k_mean_ = centred_ ? static_cast<float>(-std::expm1(-dt / stdp_->tau_mean)) : 0.0f;
      k_theta_ = bcm_ ? static_cast<float>(-std::expm1(-dt / stdp_->tau_theta)) : 0.0f;
      inv_y0_ = bcm_ ? static_cast<float>(stdp_->rate_ref / stdp_->y0) : 0.0f;
      w_ref_ = static_cast<float>(stdp_->w_ref * weight_factor_);
      inv_w_ref_ = static_cast<float>(1.0 / (stdp_->w_ref * weight_factor_));
    }
    if (stdp_->modulated() || hebbian_) {
      const double steps = stdp_->update_interval / dt;
      update_steps_ = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(steps)));
      if (stdp_->update_interval > 0.0 &&
          std::abs(steps - static_cast<double>(update_steps_)) > 1e-6 * steps)
        throw ParameterError(fmt::format(
            "projection '{}': update_interval {} s is not a whole number of steps of dt = {} s",
            name_, stdp_->update_interval, dt));
      update_seconds_ = static_cast<float>(static_cast<double>(update_steps_) * dt);
      decay_c_ = static_cast<float>(std::exp(-static_cast<double>(update_steps_) * dt / stdp_->tau_c));
      eta_dt_ = static_cast<float>(stdp_->eta * static_cast<double>(update_steps_) * dt);
    }
  }
}

void Projection::apply_periodic(std::size_t lo, std::size_t hi) {
  if (hebbian_) {
    if (bcm_)
      apply_hebbian<true>(lo, hi);
    else
      apply_hebbian<false>(lo, hi);
  } else if (modulator_) {
    apply_modulation(lo, hi);
  }
}

// Oja or BCM on synapses [lo, hi): the pre neuron of synapse s is the row holding it.
template <bool kBcm>
void Projection::apply_hebbian(std::size_t lo, std::size_t hi) {
  hi = std::min<std::size_t>(hi, cols_.size());
  if (lo >= hi) return;
  auto row = static_cast<std::size_t>(
      std::upper_bound(row_ptr_.begin(), row_ptr_.end(), static_cast<std::uint64_t>(lo)) -
      row_ptr_.begin()) - 1;
  float* w = weights_.data();
  const std::uint32_t* cols = cols_.data();
  const float* xt = x_pre_.data();
  const float* yt = y_post_.data();
  const float* mean = x2_pre_.data();
  const float* theta = y2_post_.data();
  for (std::size_t s = lo; s < hi;) {
    const std::size_t end = std::min<std::size_t>(hi, row_ptr_[row + 1]);
    float x = xt[row] * rate_scale_;
    if (!kBcm && centred_) x -= mean[row];
    for (; s < end; ++s) {
      const std::size_t j = cols[s] - post_lo_;
      const float y = yt[j] * rate_scale_;
      const float u = w[s] * inv_w_ref_;
      float du;
      if constexpr (kBcm)
        du = eta_dt_ * x * y * (y - theta[j] * inv_y0_);
      else
        du = eta_dt_ * y * (x - y * u);
      w[s] = std::clamp((u + du) * w_ref_, w_min_, w_max_);
    }
    ++row;
  }
}

void Projection::apply_modulation(std::size_t lo, std::size_t hi) {
  hi = std::min(hi, elig_.size());
  if (lo >= hi) return;
  const float gain = static_cast<float>(update_seconds_ * modulator_->level());
  float* w = weights_.data();
  float* c = elig_.data();
  const float w_min = w_min_, w_max = w_max_, decay = decay_c_;
  for (std::size_t s = lo; s < hi; ++s) {
    w[s] = std::clamp(w[s] + gain * c[s], w_min, w_max);
    c[s] *= decay;
  }
}

void Projection::sync_sizes() {
  if (source_slice_.count == Slice::npos && source_->size() - pre_lo_ > n_pre_) {
    n_pre_ = source_->size() - pre_lo_;
    row_ptr_.resize(n_pre_ + 1, row_ptr_.back());
    std::vector<std::uint64_t>().swap(row_cuts_);  // out of date
    if (stdp_) resize_traces();
  }
  if (target_slice_.count == Slice::npos && target_->size() - post_lo_ > n_post_) {
    n_post_ = target_->size() - post_lo_;
    if (stdp_ || (eq_ && !col_ptr_.empty())) {
      col_ptr_.resize(n_post_ + 1, col_ptr_.back());
      if (stdp_) resize_traces();
    }
  }
}

void Projection::add_synapses(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& pairs,
                              double weight_si, double delay_s) {
  require_static("adding synapses");
  sync_sizes();
  const std::string where = fmt::format("projection '{}'", name_);
  const std::uint32_t d = delay_to_steps(delay_s, dt_, where);
  std::vector<std::vector<std::pair<std::uint32_t, std::size_t>>> extra(n_pre_);
  for (std::size_t k = 0; k < pairs.size(); ++k) {
    const auto [pre, post] = pairs[k];
    if (pre >= n_pre_ || post >= n_post_)
      throw ParameterError(fmt::format("{}: new synapse {} -> {} is outside {} x {}", where, pre,
                                       post, n_pre_, n_post_));
    // Distributed, each process adds the synapses onto its own targets.
    if (owns_target(post + post_lo_)) extra[pre].emplace_back(static_cast<std::uint32_t>(post + post_lo_), k);
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

std::size_t Projection::connect_grown(const Connector& c, std::size_t old_pre,
                                      std::size_t old_post, std::uint64_t seed,
                                      std::uint32_t stream) {
  require_static("connecting grown neurons");
  const std::string where = fmt::format("projection '{}'", name_);
  if (!std::isfinite(constant_weight_si_) || !delays_.empty())
    throw ParameterError(fmt::format("{}: connecting grown neurons needs one constant weight and "
                                     "delay",
                                     where));
  const bool same = source_ == target_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
  auto block = [&](std::size_t pre0, std::size_t n_pre, std::size_t post0, std::size_t n_post,
                   std::uint32_t sub) {
    if (n_pre == 0 || n_post == 0) return;
    const ConnectGeometry g{n_pre, n_post, same,
                            static_cast<std::int64_t>(post_lo_ + post0) -
                                static_cast<std::int64_t>(pre_lo_ + pre0)};
    SparsityPattern sp;
    try {
      sp = build_pattern(c, g, seed, stream + sub);
    } catch (const ParameterError& e) {
      throw ParameterError(fmt::format("{}: {}", where, e.what()));
    }
    for (std::size_t i = 0; i < n_pre; ++i)
      for (std::uint64_t s = sp.row_ptr[i]; s < sp.row_ptr[i + 1]; ++s)
        pairs.emplace_back(static_cast<std::uint32_t>(pre0 + i),
                           static_cast<std::uint32_t>(post0 + sp.cols[s]));
  };
  block(old_pre, n_pre_ - old_pre, 0, n_post_, 0);  // new sources onto every target
  block(0, old_pre, old_post, n_post_ - old_post, 1);  // old sources onto the new targets
  if (!pairs.empty())
    add_synapses(pairs, constant_weight_si_, static_cast<double>(max_delay_) * dt_);
  return pairs.size();
}

std::uint64_t Projection::find_synapse(std::uint32_t pre_rel, std::uint32_t post_rel) const {
  if (pre_rel >= n_pre_) return kNoSynapse;
  const auto b = cols_.begin() + static_cast<std::ptrdiff_t>(row_ptr_[pre_rel]);
  const auto e = cols_.begin() + static_cast<std::ptrdiff_t>(row_ptr_[pre_rel + 1]);
  const auto it = std::lower_bound(b, e, static_cast<std::uint32_t>(post_rel + post_lo_));
  return it != e && *it == post_rel + post_lo_ ? static_cast<std::uint64_t>(it - cols_.begin())
                                               : kNoSynapse;
}

bool Projection::uses_ring() const {
  if (eq_) return false;  // events run the synapse code, which writes the neuron's variables
  return !delays_.empty() || max_delay_ > 1 || target_->channel_state(channel_) == nullptr;
}

std::size_t Projection::bytes_per_synapse() const {
  std::size_t b = sizeof(std::uint32_t) + sizeof(float);
  if (!delays_.empty()) b += sizeof(std::uint16_t);
  if (stdp_) b += sizeof(std::uint64_t) + sizeof(std::uint32_t);
  if (modulated()) b += sizeof(float);
  if (eq_) b += equation_bytes_per_synapse();
  return b;
}

std::size_t Projection::memory_bytes() const {
  return cols_.size() * bytes_per_synapse() +
         (row_ptr_.size() + row_cuts_.size()) * sizeof(std::uint64_t) +
         (stdp_ ? col_ptr_.size() * sizeof(std::uint64_t) +
                      (x_pre_.size() + y_post_.size() + x2_pre_.size() + y2_post_.size()) *
                          sizeof(float)
                : 0);
}

Projection::RowCut Projection::row_cut(std::size_t post_lo, std::size_t post_hi) const {
  // Distributed, the rows hold only this process's targets.
  const std::size_t kept_lo = std::max(post_lo_, owned_.first);
  const std::size_t kept_hi = std::min(post_lo_ + n_post_, owned_.second);
  if (post_lo <= kept_lo && post_hi >= kept_hi) return {RowCut::How::kWhole, 0, post_lo, post_hi};
  for (std::size_t t = 0; !row_cuts_.empty() && t + 1 < cut_bounds_.size(); ++t)
    if (cut_bounds_[t] == post_lo && cut_bounds_[t + 1] == post_hi)
      return {RowCut::How::kTable, t, post_lo, post_hi};
  return {RowCut::How::kSearch, 0, post_lo, post_hi};
}

void Projection::split_rows(std::span<const std::size_t> bounds) {
  if (cut_bounds_.size() == bounds.size() && std::equal(bounds.begin(), bounds.end(), cut_bounds_.begin()) &&
      !row_cuts_.empty())
    return;
  std::vector<std::uint64_t>().swap(row_cuts_);
  cut_bounds_.assign(bounds.begin(), bounds.end());
  // Eight bytes per row and bound: made when that is at most a quarter of 8-byte synapses.
  const std::size_t rows = row_ptr_.size() - 1;
  if (eq_ || bounds.size() < 3 || cols_.size() < 4 * bounds.size() * rows) return;
  const std::size_t stride = bounds.size();
  row_cuts_.resize(rows * stride);
  const std::uint32_t* c = cols_.data();
  for (std::size_t r = 0; r < rows; ++r) {
    const std::uint32_t* b = c + row_ptr_[r];
    const std::uint32_t* e = c + row_ptr_[r + 1];
    for (std::size_t t = 0; t + 1 < stride; ++t) {
      b = std::lower_bound(b, e, bounds[t]);
      row_cuts_[r * stride + t] = static_cast<std::uint64_t>(b - c);
    }
    row_cuts_[r * stride + stride - 1] =
        static_cast<std::uint64_t>(std::lower_bound(b, e, bounds.back()) - c);
  }
}

std::uint64_t Projection::deliver(SpikeList spikes, std::uint64_t step, std::size_t post_lo,
                                  std::size_t post_hi) {
  if (eq_) return deliver_equations(spikes, step, post_lo, post_hi);
  if (post_hi <= post_lo_ || post_lo >= post_lo_ + n_post_) return 0;
  // Most steps of a sparsely firing source have no spike to deliver: leave before the set-up.
  bool any = false;
  for (const auto& part : spikes)
    if (!part.empty() && part.back() >= pre_lo_ && part.front() < pre_lo_ + n_pre_) {
      any = true;
      break;
    }
  if (!any) return 0;
  const RowCut cut = row_cut(post_lo, post_hi);
  DelayRing& ring = target_->ring(channel_);
  // One-step delays into an exponential channel go straight into its state variable (as
  // uses_ring() decides, with one call for the state).
  float* direct = delays_.empty() && max_delay_ <= 1 ? target_->channel_state(channel_) : nullptr;
  const std::uint32_t* cols = cols_.data();
  float* w = weights_.data();
  using Depress = void (Projection::*)(std::size_t, std::uint64_t, std::uint64_t);
  Depress depress = nullptr;
  if (stdp_ && !hebbian_)
    depress = triplet_ ? (multiplicative_ ? &Projection::depress_row<true, true>
                                          : &Projection::depress_row<true, false>)
                       : (multiplicative_ ? &Projection::depress_row<false, true>
                                          : &Projection::depress_row<false, false>);
  std::uint64_t delivered = 0;
  auto deliver_row = [&](std::size_t r, std::uint64_t b, std::uint64_t e) {
    delivered += e - b;
    if (delays_.empty()) {
      float* dst = direct ? direct : ring.row(step + max_delay_);
      if (uniform_weight_) {
        const float w0 = w[0];
        for (std::uint64_t s = b; s < e; ++s) dst[cols[s]] += w0;
      } else {
        for (std::uint64_t s = b; s < e; ++s) dst[cols[s]] += w[s];
      }
    } else {
      for (std::uint64_t s = b; s < e; ++s) ring.row(step + delays_[s])[cols[s]] += w[s];
    }
    if (depress) (this->*depress)(r, b, e);
  };
  // Rows of spiking neurons are scattered in memory, and delivering a short row takes less time
  // than fetching the next: a cursor runs ahead of the delivery, fetching rows (up to kPrefetch
  // synapses each) until about kAheadSyn synapses are in flight past the row being delivered,
  // and the row bounds kBounds spikes beyond its own position. (One row ahead was enough for
  // Brunel's 1000-synapse rows, not for CUBA's 80, where each thread's part of a row is shorter
  // still; issue 21.)
  constexpr std::uint64_t kPrefetch = 4096, kAheadSyn = 1024;
  constexpr std::size_t kBounds = 4, kRing = 64;
  std::array<std::pair<std::uint64_t, std::uint64_t>, kRing> fetched;  // by spike position
  const std::size_t lo = pre_lo_, hi = pre_lo_ + n_pre_;
  const bool search = cut.how == RowCut::How::kSearch;
  const bool table = cut.how == RowCut::How::kTable;
  const std::size_t stride = cut_bounds_.size();
  for (const auto& part : spikes) {
    if (part.empty() || part.back() < lo) continue;
    if (part.front() >= hi) break;
    const auto first = static_cast<std::size_t>(std::lower_bound(part.begin(), part.end(), lo) - part.begin());
    const auto last = static_cast<std::size_t>(std::lower_bound(part.begin() + static_cast<std::ptrdiff_t>(first), part.end(), hi) - part.begin());
    std::size_t cursor = first;  // the next spike whose row is fetched
    std::uint64_t ahead = 0;     // synapses fetched for spikes after the one delivered
    for (std::size_t j = first; j < last; ++j) {
      while (cursor < last && (cursor <= j || (ahead < kAheadSyn && cursor < j + kRing))) {
        if (cursor + kBounds < last) {
          const std::size_t rb = part[cursor + kBounds] - lo;
          __builtin_prefetch(table ? &row_cuts_[rb * stride + cut.slot] : &row_ptr_[rb]);
        }
        // A binary search would read the row before its prefetch: fetch the whole row then.
        const std::size_t rc = part[cursor] - lo;
        const auto range = search ? std::pair{row_ptr_[rc], row_ptr_[rc + 1]} : row_range(cut, rc);
        fetched[cursor % kRing] = range;
        const std::uint64_t nb = range.first, ne = std::min(range.second, nb + kPrefetch);
        for (std::uint64_t q = nb; q < ne; q += 16) __builtin_prefetch(cols + q);
        if (!uniform_weight_)
          for (std::uint64_t q = nb; q < ne; q += 16) __builtin_prefetch(w + q);
        if (cursor > j) ahead += ne - nb;
        ++cursor;
      }
      const std::size_t r = part[j] - lo;
      const auto [b, e] = search ? row_range(cut, r) : fetched[j % kRing];
      deliver_row(r, b, e);
      if (j + 1 < cursor) {
        const auto& nx = fetched[(j + 1) % kRing];
        ahead -= std::min(nx.second, nx.first + kPrefetch) - nx.first;
      }
    }
  }
  return delivered;
}

// Pre spike of pre neuron `pre_rel`: depression of its synapses [b, e) by o1 of their targets
// (and, for the triplet rule, r2 of the pre neuron before this spike). Pair additive computes
// w - a_minus * o1, exactly the original pair kernel.
template <bool kTriplet, bool kMultiplicative>
void Projection::depress_row(std::size_t pre_rel, std::uint64_t b, std::uint64_t e) {
  float* w = weights_.data();
  const std::uint32_t* cols = cols_.data();
  const float* o1 = y_post_.data();
  float amp = a_minus_;
  if constexpr (kTriplet) amp = a_minus_ + a3_minus_ * x2_pre_[pre_rel];
  if (!elig_.empty()) {  // reward-modulated: the change goes into the eligibility trace
    float* c = elig_.data();
    for (std::uint64_t s = b; s < e; ++s) {
      const float dw = amp * o1[cols[s] - post_lo_];
      c[s] -= kMultiplicative ? dw * ((w[s] - w_min_) * inv_range_) : dw;
    }
    return;
  }
  for (std::uint64_t s = b; s < e; ++s) {
    const float dw = amp * o1[cols[s] - post_lo_];
    if constexpr (kMultiplicative)
      w[s] = std::clamp(w[s] - dw * ((w[s] - w_min_) * inv_range_), w_min_, w_max_);
    else
      w[s] = std::clamp(w[s] - dw, w_min_, w_max_);
  }
}

// Post spike of post neuron `post_rel`: potentiation of its synapses by r1 of their sources
// (and, for the triplet rule, o2 of the post neuron before this spike).
template <bool kTriplet, bool kMultiplicative>
void Projection::potentiate_column(std::size_t post_rel) {
  float* w = weights_.data();
  const float* r1 = x_pre_.data();
  float amp = a_plus_;
  if constexpr (kTriplet) amp = a_plus_ + a3_plus_ * y2_post_[post_rel];
  if (!elig_.empty()) {  // reward-modulated: the change goes into the eligibility trace
    float* c = elig_.data();
    for (std::uint64_t k = col_ptr_[post_rel]; k < col_ptr_[post_rel + 1]; ++k) {
      const std::uint64_t s = col_syn_[k];
      const float dw = amp * r1[col_pre_[k]];
      c[s] += kMultiplicative ? dw * ((w_max_ - w[s]) * inv_range_) : dw;
    }
    return;
  }
  for (std::uint64_t k = col_ptr_[post_rel]; k < col_ptr_[post_rel + 1]; ++k) {
    const std::uint64_t s = col_syn_[k];
    const float dw = amp * r1[col_pre_[k]];
    if constexpr (kMultiplicative)
      w[s] = std::clamp(w[s] + dw * ((w_max_ - w[s]) * inv_range_), w_min_, w_max_);
    else
      w[s] = std::clamp(w[s] + dw, w_min_, w_max_);
  }
}

void Projection::post_spikes(SpikeList target_spikes, std::uint64_t step, std::size_t post_lo,
                             std::size_t post_hi) {
  if (eq_) {
    post_equations(target_spikes, step, post_lo, post_hi);
    return;
  }
  if (!stdp_ || hebbian_) return;
  const std::size_t lo = std::max(post_lo, post_lo_), hi = std::min(post_hi, post_lo_ + n_post_);
  if (lo >= hi) return;
  auto run = [&](auto kernel) {
    for_each_spike(target_spikes, lo, hi, [&](std::uint32_t spike) { kernel(spike - post_lo_); });
  };
  if (triplet_) {
    if (multiplicative_)
      run([this](std::size_t c) { potentiate_column<true, true>(c); });
    else
      run([this](std::size_t c) { potentiate_column<true, false>(c); });
  } else {
    if (multiplicative_)
      run([this](std::size_t c) { potentiate_column<false, true>(c); });
    else
      run([this](std::size_t c) { potentiate_column<false, false>(c); });
  }
}

namespace {
// Traces hold the spikes of earlier steps: each step they decay, then this step's spikes are
// added (all-to-all) or reset the trace (nearest), already decayed by one step, so a spike at
// step s reads exp(-k dt / tau) at step s + k.
void decay_and_bump(float* trace, std::size_t offset, std::size_t n, float decay, SpikeList spikes,
                    std::size_t lo, std::size_t hi, bool nearest) {
  lo = std::max(lo, offset);
  hi = std::min(hi, offset + n);
  if (lo >= hi) return;
  for (std::size_t i = lo; i < hi; ++i) trace[i - offset] *= decay;
  if (nearest)
    for_each_spike(spikes, lo, hi, [&](std::uint32_t i) { trace[i - offset] = decay; });
  else
    for_each_spike(spikes, lo, hi, [&](std::uint32_t i) { trace[i - offset] += decay; });
}
}  // namespace

void Projection::update_pre_traces(SpikeList spikes, std::size_t lo, std::size_t hi) {
  if (!stdp_) return;
  decay_and_bump(x_pre_.data(), pre_lo_, n_pre_, decay_plus_, spikes, lo, hi, nearest_);
  if (triplet_) decay_and_bump(x2_pre_.data(), pre_lo_, n_pre_, decay_x_, spikes, lo, hi, nearest_);
  if (centred_) {  // Oja: running mean of the normalised pre rate
    for (std::size_t i = std::max(lo, pre_lo_); i < std::min(hi, pre_lo_ + n_pre_); ++i) {
      float& m = x2_pre_[i - pre_lo_];
      m += k_mean_ * (x_pre_[i - pre_lo_] * rate_scale_ - m);
    }
  }
}

void Projection::update_post_traces(SpikeList spikes, std::size_t lo, std::size_t hi) {
  if (!stdp_) return;
  decay_and_bump(y_post_.data(), post_lo_, n_post_, decay_minus_, spikes, lo, hi, nearest_);
  if (triplet_)
    decay_and_bump(y2_post_.data(), post_lo_, n_post_, decay_y_, spikes, lo, hi, nearest_);
  if (bcm_) {  // BCM: running mean of y² (the threshold before dividing by y0)
    for (std::size_t j = std::max(lo, post_lo_); j < std::min(hi, post_lo_ + n_post_); ++j) {
      const float y = y_post_[j - post_lo_] * rate_scale_;
      float& th = y2_post_[j - post_lo_];
      th += k_theta_ * (y * y - th);
    }
  }
}

}  // namespace volley

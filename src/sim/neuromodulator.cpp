#include "volley/neuromodulator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <span>
#include <tuple>

#include "exact_sum.hpp"
#include "volley/communicator.hpp"
#include "volley/error.hpp"
#include "volley/population.hpp"
#include "volley/projection.hpp"
#include "volley/rng.hpp"

namespace volley {

Neuromodulator::Neuromodulator(const ModulatorSpec& spec) : spec_(spec) {
  const std::string where = fmt::format("modulator '{}'", spec.name);
  if (!(spec.tau > 0.0) || !std::isfinite(spec.tau))
    throw ParameterError(fmt::format("{}: tau must be > 0, got {} s", where, spec.tau));
  if (!std::isfinite(spec.baseline))
    throw ParameterError(fmt::format("{}: baseline must be finite, got {} Hz", where, spec.baseline));
}

void Neuromodulator::release(double amount, std::uint64_t step) {
  if (!std::isfinite(amount))
    throw ParameterError(fmt::format("modulator '{}': release amount must be finite, got {}",
                                     spec_.name, amount));
  // Insert after releases of the same step: equal steps keep their order.
  const auto at = std::upper_bound(queue_.begin(), queue_.end(), step,
                                   [](std::uint64_t s, const auto& q) { return s < q.first; });
  queue_.insert(at, {step, amount});
}

void Neuromodulator::prepare(double dt) {
  dt_ = dt;
  decay_ = std::exp(-dt / spec_.tau);
}

void Neuromodulator::advance(std::uint64_t step) {
  phasic_ *= decay_;
  std::size_t k = 0;
  while (k < queue_.size() && queue_[k].first <= step) {
    phasic_ += queue_[k].second;
    ++released_;
    release_times_.push_back(static_cast<double>(step) * dt_);
    ++k;
  }
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(k));
}

PairingReward::PairingReward(const PairingRewardSpec& spec, Projection& projection,
                             Neuromodulator& modulator, std::uint32_t id, Communicator* comm)
    : spec_(spec),
      projection_(&projection),
      modulator_(&modulator),
      stream_(stream_id(RngStream::kReward, id)),
      comm_(comm != nullptr && comm->size() > 1 ? comm : nullptr) {
  const std::string where = fmt::format("reward '{}'", spec.name);
  auto fail = [&](const std::string& m) { throw ParameterError(fmt::format("{}: {}", where, m)); };
  if (!(spec.window > 0.0) || !std::isfinite(spec.window))
    fail(fmt::format("window must be > 0, got {} s", spec.window));
  if (!(spec.delay_min >= 0.0) || !std::isfinite(spec.delay_min))
    fail(fmt::format("delay_min must be >= 0, got {} s", spec.delay_min));
  if (!(spec.delay_max >= spec.delay_min) || !std::isfinite(spec.delay_max))
    fail(fmt::format("delay_max ({} s) must be >= delay_min ({} s)", spec.delay_max,
                     spec.delay_min));
  if (!std::isfinite(spec.amount)) fail(fmt::format("amount must be finite, got {}", spec.amount));
  if (!(spec.record_every >= 0.0) || !std::isfinite(spec.record_every))
    fail(fmt::format("record_every must be >= 0, got {} s", spec.record_every));
  if (spec.pre >= projection.pre_count())
    fail(fmt::format("pre = {} is outside projection '{}' ({} presynaptic neurons)", spec.pre,
                     projection.name(), projection.pre_count()));
  const auto& rp = projection.row_ptr();
  const std::uint64_t local = rp[spec.pre + 1] - rp[spec.pre];
  // Distributed, process r holds the part of the row onto its targets, after the parts of the
  // processes before it (targets are sorted, blocks in rank order).
  const auto [before, row] = row_share();
  if (spec.synapse >= row)
    fail(fmt::format("synapse = {} but presynaptic neuron {} of projection '{}' has {} synapses",
                     spec.synapse, spec.pre, projection.name(), row));
  before_ = before;
  holder_ = spec.synapse >= before && spec.synapse < before + local;
  row_offset_ = holder_ ? spec.synapse - before : 0;
  pre_abs_ = projection.pre_begin() + spec.pre;
  post_abs_ = holder_ ? projection.targets()[rp[spec.pre] + row_offset_] : 0;
  if (comm_ != nullptr) {
    std::int64_t post = static_cast<std::int64_t>(post_abs_);
    comm_->sum(std::span<std::int64_t>(&post, 1));
    post_abs_ = static_cast<std::size_t>(post);
    settle();
  }
}

bool PairingReward::distributed() const { return comm_ != nullptr; }

std::pair<std::uint64_t, std::uint64_t> PairingReward::row_share() const {
  const auto& rp = projection_->row_ptr();
  const std::uint64_t local = rp[spec_.pre + 1] - rp[spec_.pre];
  if (comm_ == nullptr) return {0, local};
  std::vector<std::uint32_t> all;
  std::vector<int> counts;
  const auto mine = static_cast<std::uint32_t>(local);
  comm_->allgather(std::span<const std::uint32_t>(&mine, 1), all, counts);
  std::uint64_t before = 0, row = 0;
  for (std::size_t r = 0; r < all.size(); ++r) {
    if (static_cast<int>(r) < comm_->rank()) before += all[r];
    row += all[r];
  }
  return {before, row};
}

namespace {
constexpr std::uint64_t kNoSynapseHere = ~std::uint64_t{0};
}  // namespace

std::uint64_t PairingReward::synapse_index() const {
  const auto& rp = projection_->row_ptr();
  const std::uint64_t s = rp[spec_.pre] + row_offset_;
  if (s >= rp[spec_.pre + 1] || projection_->targets()[s] != post_abs_)
    throw ParameterError(fmt::format("reward '{}': its synapse {} -> {} of projection '{}' was "
                                     "removed or moved by a structural change",
                                     spec_.name, pre_abs_, post_abs_, projection_->name()));
  return s;
}

std::pair<double, double> PairingReward::measure() const {
  const auto& w = projection_->weights();
  const std::uint64_t s = holder_ ? synapse_index() : kNoSynapseHere;
  double weight = s == kNoSynapseHere ? 0.0 : w[s] / projection_->weight_factor();
  detail::ExactSum others;
  for (std::size_t k = 0; k < w.size(); ++k)
    if (k != s) others.add(w[k]);
  if (comm_ != nullptr) {
    // The weight: held by one process, zero bits elsewhere.
    std::array<std::uint32_t, 2> bits{};
    std::memcpy(bits.data(), &weight, sizeof weight);
    comm_->bitwise_or(bits);
    std::memcpy(&weight, bits.data(), sizeof weight);
    comm_->sum(others.bins);
  }
  const auto n = others.bins[detail::ExactSum::kCount];
  const double mean = n == 0 ? 0.0 : others.value() / static_cast<double>(n) / projection_->weight_factor();
  return {weight, mean};
}

double PairingReward::weight() const {
  return distributed() ? settled_weight_ : measure().first;
}

double PairingReward::others_mean() const {
  return distributed() ? settled_others_ : measure().second;
}

void PairingReward::settle() {
  if (!distributed()) return;
  std::tie(settled_weight_, settled_others_) = measure();
}

void PairingReward::prepare(double dt) {
  dt_ = dt;
  window_steps_ = static_cast<std::uint64_t>(std::ceil(spec_.window / dt - 1e-9));
  record_steps_ = spec_.record_every > 0.0
                      ? std::max<std::uint64_t>(1, static_cast<std::uint64_t>(
                                                       std::llround(spec_.record_every / dt)))
                      : 0;
  // Fails clearly if a structural change removed or moved the synapse; distributed, on every
  // process (only the holder can tell).
  std::string why;
  if (holder_) {
    try {
      synapse_index();
    } catch (const ParameterError& e) {
      why = e.what();
    }
  }
  // Distributed, synapses added or removed on earlier processes shift the k-th synapse of the
  // row too (the holder's own part would not show it).
  if (comm_ != nullptr && why.empty() && row_share().first != before_)
    why = fmt::format("reward '{}': its synapse {} -> {} of projection '{}' was moved by a "
                      "structural change (synapses added or removed before it in the row)",
                      spec_.name, pre_abs_, post_abs_, projection_->name());
  if (comm_ != nullptr && comm_->min(why.empty() ? 1 : 0) == 0 && why.empty())
    why = fmt::format("reward '{}': its synapse {} -> {} of projection '{}' was removed or moved "
                      "by a structural change (seen by the process that holds it)",
                      spec_.name, pre_abs_, post_abs_, projection_->name());
  if (!why.empty()) throw ParameterError(why);
}

void PairingReward::observe(std::uint64_t step, std::uint64_t seed, SpikeList pre_spikes,
                            SpikeList post_spikes) {
  bool post_fired = false;
  for_each_spike(post_spikes, post_abs_, post_abs_ + 1, [&](std::uint32_t) { post_fired = true; });
  // A post spike pairs with an earlier pre spike only (0 < t_post - t_pre < window).
  if (post_fired && have_pre_ && step > last_pre_ && step - last_pre_ < window_steps_) {
    CounterRng rng(seed, stream_, 0, step);
    const double delay = spec_.delay_min + (spec_.delay_max - spec_.delay_min) * rng.uniform();
    const auto delay_steps = static_cast<std::uint64_t>(std::llround(delay / dt_));
    modulator_->release(spec_.amount, step + std::max<std::uint64_t>(1, delay_steps));
    ++pairings_;
  }
  for_each_spike(pre_spikes, pre_abs_, pre_abs_ + 1, [&](std::uint32_t) {
    have_pre_ = true;
    last_pre_ = step;
  });
}

bool PairingReward::record_due(std::uint64_t step) const {
  return record_steps_ > 0 && (step + 1) % record_steps_ == 0;
}

void PairingReward::record(std::uint64_t step) {
  times_.push_back(static_cast<double>(step + 1) * dt_);
  const auto [weight, others] = measure();
  weights_.push_back(weight);
  others_.push_back(others);
}

}  // namespace volley

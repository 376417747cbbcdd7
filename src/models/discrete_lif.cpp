#include "volley/models/discrete_lif.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "volley/error.hpp"

namespace volley {

const Registry<Choice<LayerKind>>& layer_kinds() {
  static const Registry<Choice<LayerKind>> r(
      "layer type",
      {{"lif", LayerKind::lif, "leaky integrate-and-fire neurons with a current synapse"},
       {"alif", LayerKind::alif,
        "adaptive LIF: the threshold rises by adapt_strength per spike and decays with tau_adapt "
        "(Bellec et al. 2018)"},
       {"adlif", LayerKind::adlif,
        "adaptive LIF with an adaptation current w (adLIF, Bittar & Garner 2022), updated by "
        "symplectic Euler (SE-adLIF, Baronig et al. 2025): w has sub-threshold coupling "
        "adapt_coupling, a jump adapt_strength per spike and decays with tau_adapt; the membrane "
        "gets −(1 − β)·w"},
       {"readout", LayerKind::readout,
        "leaky integrator without spikes; output y_t = V_{t+1}; only as the last layer"},
       {"relu", LayerKind::relu,
        "non-spiking rectified linear units, h_t = λ·h_{t−1} + I_t, output max(h_t, 0) (λ = 0, or "
        "exp(−dt/tau_mem) with leaky = true): the ANN twin's hidden layers; trainer only"}});
  return r;
}

const Registry<Choice<ResetMode>>& reset_modes() {
  static const Registry<Choice<ResetMode>> r(
      "reset mode", {{"multiply", ResetMode::multiply, "V·(1 − s): to 0 after a spike (SpyTorch)"},
                     {"subtract", ResetMode::subtract, "V − θ·s: the threshold is subtracted"},
                     {"none", ResetMode::none, "no reset"}});
  return r;
}

namespace {

template <ResetMode R, bool Alif>
void step_r(const NeuronStep& p, bool syn, bool smooth) {
  if (syn) {
    smooth ? neuron_step<R, true, true, Alif>(p) : neuron_step<R, true, false, Alif>(p);
  } else {
    smooth ? neuron_step<R, false, true, Alif>(p) : neuron_step<R, false, false, Alif>(p);
  }
}

template <bool Alif>
void step_a(const NeuronStep& p, ResetMode r, bool syn, bool smooth) {
  switch (r) {
    case ResetMode::multiply: return step_r<ResetMode::multiply, Alif>(p, syn, smooth);
    case ResetMode::subtract: return step_r<ResetMode::subtract, Alif>(p, syn, smooth);
    case ResetMode::none: return step_r<ResetMode::none, Alif>(p, syn, smooth);
  }
}

}  // namespace

void neuron_step(const NeuronStep& p, ResetMode r, bool syn, bool smooth, bool alif) {
  alif ? step_a<true>(p, r, syn, smooth) : step_a<false>(p, r, syn, smooth);
}

namespace {

template <ResetMode R>
void adlif_r(const AdlifStep& p, bool syn, bool smooth) {
  if (syn) {
    smooth ? adlif_step<R, true, true>(p) : adlif_step<R, true, false>(p);
  } else {
    smooth ? adlif_step<R, false, true>(p) : adlif_step<R, false, false>(p);
  }
}

}  // namespace

void adlif_step(const AdlifStep& p, ResetMode r, bool syn, bool smooth) {
  switch (r) {
    case ResetMode::multiply: return adlif_r<ResetMode::multiply>(p, syn, smooth);
    case ResetMode::subtract: return adlif_r<ResetMode::subtract>(p, syn, smooth);
    case ResetMode::none: return adlif_r<ResetMode::none>(p, syn, smooth);
  }
}

std::vector<double>* DiscreteLifParams::per_neuron(std::string_view key) {
  if (key == "tau_mem") return &tau_mem_per_neuron;
  if (key == "tau_syn") return &tau_syn_per_neuron;
  if (key == "threshold") return &threshold_per_neuron;
  if (key == "tau_adapt") return &tau_adapt_per_neuron;
  if (key == "adapt_coupling") return &adapt_coupling_per_neuron;
  if (key == "adapt_strength") return &adapt_strength_per_neuron;
  return nullptr;
}

DiscreteLifPopulation::DiscreteLifPopulation(std::string name, DiscreteLifParams params)
    : Population(std::move(name)), p_(params) {
  check_params(DiscreteLifParams::params(), p_, fmt::format("population '{}'", this->name()));
  if (p_.type == LayerKind::relu)
    throw ParameterError(fmt::format("population '{}': type 'relu' is the trainer's non-spiking "
                                     "ANN twin; the simulator runs lif, alif and readout",
                                     this->name()));
  channels_.push_back({"in", Dimension::none(), false});
}

void DiscreteLifPopulation::prepare(double dt) {
  const std::string where = fmt::format("population '{}'", name());
  check_params(DiscreteLifParams::params(), p_, where);
  // One value per neuron: f(the scalar), or f(each per-neuron value).
  auto fill = [&](AlignedVector<float>& out, double scalar, const std::vector<double>& per_neuron,
                  const char* key, auto f) {
    if (per_neuron.empty()) {
      std::fill(out.begin(), out.end(), f(scalar));
      return;
    }
    if (per_neuron.size() != size())
      throw ParameterError(fmt::format("{}: {} has {} per-neuron values but the population has {} "
                                       "neurons",
                                       where, key, per_neuron.size(), size()));
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = f(per_neuron[i]);
  };
  const auto decay = [dt](double tau) { return decay_factor(dt, tau); };
  const auto value = [](double x) { return static_cast<float>(x); };
  fill(alpha_, p_.tau_syn, p_.tau_syn_per_neuron, "tau_syn", decay);
  fill(beta_, p_.tau_mem, p_.tau_mem_per_neuron, "tau_mem", decay);
  fill(thr_, p_.threshold, p_.threshold_per_neuron, "threshold", value);
  fill(rho_n_, p_.tau_adapt, p_.tau_adapt_per_neuron, "tau_adapt", decay);
  fill(a_, p_.adapt_coupling, p_.adapt_coupling_per_neuron, "adapt_coupling", value);
  fill(b_, p_.adapt_strength, p_.adapt_strength_per_neuron, "adapt_strength", value);
  rho_ = p_.type == LayerKind::alif ? decay_factor(dt, p_.tau_adapt) : 0.0f;
  reset_steps_ = 0;
  if (p_.reset_every > 0.0) {
    const double steps = p_.reset_every / dt;
    reset_steps_ = static_cast<std::uint64_t>(std::llround(steps));
    if (reset_steps_ < 1 || std::abs(steps - static_cast<double>(reset_steps_)) > 1e-6 * steps)
      throw ParameterError(fmt::format("{}: reset_every ({} s) must be a whole number of steps "
                                       "of dt ({} s)",
                                       where, p_.reset_every, dt));
  }
}

void DiscreteLifPopulation::update(const StepContext& ctx, std::size_t lo, std::size_t hi,
                                   std::vector<std::uint32_t>& spikes) {
  if (reset_steps_ > 0 && ctx.step % reset_steps_ == 0) {
    std::fill(syn_.begin() + lo, syn_.begin() + hi, 0.0f);
    std::fill(mem_.begin() + lo, mem_.begin() + hi, 0.0f);
    std::fill(adapt_.begin() + lo, adapt_.begin() + hi, 0.0f);
    // Events emitted before the reset are dropped, whatever their delay.
    if (ring_active(0)) {
      DelayRing& r = ring(0);
      for (std::size_t k = 0; k < r.slots(); ++k) std::fill_n(r.row(ctx.step + k) + lo, hi - lo, 0.0f);
    }
  }
  std::fill(cur_.begin() + lo, cur_.begin() + hi, 0.0f);
  absorb_ring(0, cur_.data(), ctx.step, lo, hi);
  const std::size_t n = hi - lo;
  const bool has_syn = p_.tau_syn > 0.0;  // per-neuron tau_syn values only change α
  if (p_.type == LayerKind::readout) {
    readout_step(n, has_syn, alpha_.data() + lo, beta_.data() + lo, cur_.data() + lo,
                 syn_.data() + lo, mem_.data() + lo);
    return;
  }
  if (p_.type == LayerKind::adlif) {
    const AdlifStep step{n,
                         0.0f,
                         thr_.data() + lo,
                         alpha_.data() + lo,
                         beta_.data() + lo,
                         rho_n_.data() + lo,
                         a_.data() + lo,
                         b_.data() + lo,
                         cur_.data() + lo,
                         syn_.data() + lo,
                         mem_.data() + lo,
                         adapt_.data() + lo,
                         spike_.data() + lo,
                         u_.data() + lo,
                         mt_.data() + lo};
    adlif_step(step, p_.reset, has_syn, false);
  } else {
    const bool alif = p_.type == LayerKind::alif;
    const NeuronStep step{n,
                          alif ? static_cast<float>(p_.adapt_strength) : 0.0f,
                          rho_,
                          0.0f,
                          thr_.data() + lo,
                          alpha_.data() + lo,
                        beta_.data() + lo,
                        cur_.data() + lo,
                        syn_.data() + lo,
                        mem_.data() + lo,
                        adapt_.data() + lo,
                        spike_.data() + lo,
                        u_.data() + lo,
                          mt_.data() + lo};
    neuron_step(step, p_.reset, has_syn, false, alif);
  }
  for (std::size_t i = lo; i < hi; ++i)
    if (spike_[i] != 0.0f) spikes.push_back(static_cast<std::uint32_t>(i));
}

std::vector<std::string> DiscreteLifPopulation::variable_names() const {
  if (p_.type == LayerKind::readout) return {"v", "syn"};
  if (p_.type == LayerKind::alif) return {"v", "syn", "a"};
  if (p_.type == LayerKind::adlif) return {"v", "syn", "w"};
  return {"v", "syn"};
}

VariableView DiscreteLifPopulation::find_variable(std::string_view name) {
  if (name == "v") return {mem_.data(), true, 1.0, Dimension::none()};
  if (name == "syn") return {syn_.data(), true, 1.0, Dimension::none()};
  if (name == "a" && p_.type == LayerKind::alif) return {adapt_.data(), true, 1.0, Dimension::none()};
  if (name == "w" && p_.type == LayerKind::adlif) return {adapt_.data(), true, 1.0, Dimension::none()};
  return {};
}

void DiscreteLifPopulation::resize_state(std::size_t, std::size_t new_size, std::uint64_t) {
  for (auto* x : {&cur_, &syn_, &mem_, &adapt_, &spike_, &u_, &mt_}) x->resize(new_size, 0.0f);
  for (auto* x : {&alpha_, &beta_, &thr_, &rho_n_, &a_, &b_}) x->resize(new_size, 0.0f);
}

}  // namespace volley

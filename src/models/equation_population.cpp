#include "volley/models/equation_population.hpp"

#include <fmt/format.h>

#include <cmath>

#include "volley/equations/codegen.hpp"
#include "volley/error.hpp"
#include "volley/models/spike_scan.hpp"
#include "volley/rng.hpp"

namespace volley {

EquationPopulation::EquationPopulation(std::string name, std::shared_ptr<const eq::Model> model,
                                       std::vector<std::pair<std::string, Distribution>> values)
    : Population(std::move(name)), model_(std::move(model)) {
  for (std::size_t k : model_->states) slots_.push_back(k);
  for (std::size_t k : model_->parameters) slots_.push_back(k);
  init_.assign(slots_.size(), Distribution::constant(0.0));
  for (auto& [key, d] : values) {
    std::size_t s = 0;
    while (s < slots_.size() && model_->variables[slots_[s]].name != key) ++s;
    if (s == slots_.size())
      throw ParameterError(fmt::format("population '{}': '{}' is not a state variable or parameter of "
                                       "its equations", this->name(), key));
    d.validate(fmt::format("population '{}'.{}", this->name(), key));
    init_[s] = d;
  }
  for (std::size_t k : model_->states) {
    const eq::Variable& v = model_->variables[k];
    channels_.push_back({v.name, v.dim, false});
  }
  if (model_->single_precision)
    f32_.resize(slots_.size());
  else
    f64_.resize(slots_.size());
}

void* EquationPopulation::array(std::size_t slot) {
  return model_->single_precision ? static_cast<void*>(f32_[slot].data())
                                  : static_cast<void*>(f64_[slot].data());
}

void EquationPopulation::prepare(double dt) {
  if (kernel_ && dt == kernel_dt_) return;
  std::int32_t ref_steps = 0;
  // As lif: held for round(t_ref/h) - 1 (sub)steps of h = dt/substeps after the spike's (sub)step.
  const double h = dt / eq::substep_count(*model_, dt);
  if (model_->refractory)
    ref_steps = static_cast<std::int32_t>(std::max(0LL, std::llround(*model_->refractory / h) - 1));
  source_ = eq::generate_kernel(*model_, dt, ref_steps);
  const eq::CompiledKernel k = eq::compile_kernel(source_, name(), model_->fast_math);
  kernel_ = k.step;
  kernel_dt_ = dt;
  compile_seconds_ += k.compile_seconds;
  from_cache_ = k.from_cache;
}

void EquationPopulation::update(const StepContext& ctx, std::size_t lo, std::size_t hi,
                                std::vector<std::uint32_t>& spikes) {
  const bool single = model_->single_precision;
  for (std::size_t c = 0; c < model_->states.size(); ++c) {
    if (single) {
      absorb_ring(c, f32_[c].data(), ctx.step, lo, hi);
    } else if (ring_active(c)) {
      float* row = ring(c).row(ctx.step);
      double* x = f64_[c].data();
      for (std::size_t i = lo; i < hi; ++i) {
        x[i] += row[i];
        row[i] = 0.0f;
      }
    }
  }
  pointers_.resize(slots_.size());
  for (std::size_t s = 0; s < slots_.size(); ++s) pointers_[s] = array(s);
  thread_local AlignedVector<std::uint8_t> fired;
  fired.resize(hi - lo + 64);
  eq::KernelArgs a;
  a.lo = lo;
  a.hi = hi;
  a.step = ctx.step;
  a.seed = ctx.seed;
  a.n_total = size();
  a.arrays = pointers_.data();
  a.refractory = refrac_.data();
  a.fired = fired.data();
  a.stream = stream_id(RngStream::kUser, id);
  kernel_(&a);
  collect_spikes(fired.data(), lo, hi - lo, spikes);
}

std::vector<std::string> EquationPopulation::variable_names() const {
  std::vector<std::string> out;
  for (std::size_t k : slots_) out.push_back(model_->variables[k].name);
  return out;
}

float* EquationPopulation::channel_state(std::size_t channel) {
  return model_->single_precision ? f32_[channel].data() : nullptr;
}

VariableView EquationPopulation::find_variable(std::string_view name) {
  for (std::size_t s = 0; s < slots_.size(); ++s) {
    const eq::Variable& v = model_->variables[slots_[s]];
    if (v.name != name) continue;
    VariableView view;
    view.found = true;
    view.dim = v.dim;
    if (model_->single_precision)
      view.data = f32_[s].data();
    else
      view.data64 = f64_[s].data();
    return view;
  }
  return {};
}

void EquationPopulation::resize_state(std::size_t old_size, std::size_t new_size, std::uint64_t seed) {
  for (std::size_t s = 0; s < slots_.size(); ++s) {
    const auto variable = static_cast<std::uint32_t>(slots_[s]);
    if (model_->single_precision) {
      draw_initial(f32_[s], init_[s], old_size, new_size, seed, variable);
      continue;
    }
    auto& x = f64_[s];
    x.resize(new_size);
    const std::uint32_t stream = stream_id(RngStream::kInitialState, id);
    for (std::size_t i = old_size; i < new_size; ++i) {
      if (init_[s].is_ramp()) {
        x[i] = init_[s].at(i, new_size);
        continue;
      }
      CounterRng rng(seed, stream, static_cast<std::uint32_t>(i), variable);
      x[i] = init_[s].sample(rng);
    }
  }
  refrac_.resize(new_size, 0);
}

}  // namespace volley

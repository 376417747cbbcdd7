#pragma once
// A population whose model is written as equations (volley/equations/model.hpp): its step is a
// kernel generated from the equations and compiled at run time (codegen.hpp, jit.hpp) when the
// population is first prepared (and again when dt changes).
//
// Every differential variable is a synaptic channel of the same name and unit: a projection
// with `channel = "ge"` adds its weights to ge (Brian2's on_pre = 'ge += w'), after the step in
// which its events arrive. Parameters ("tau : second") hold one value per neuron.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "volley/aligned.hpp"
#include "volley/distribution.hpp"
#include "volley/equations/jit.hpp"
#include "volley/equations/model.hpp"
#include "volley/population.hpp"

namespace volley {

class EquationPopulation final : public Population {
 public:
  // `values`: initial values of states and values of parameters by name (SI), drawn per neuron;
  // what is not given starts at 0.
  EquationPopulation(std::string name, std::shared_ptr<const eq::Model> model,
                     std::vector<std::pair<std::string, Distribution>> values);

  std::string_view model() const override { return "equations"; }
  const eq::Model& equations() const { return *model_; }
  void prepare(double dt) override;
  void update(const StepContext& ctx, std::size_t lo, std::size_t hi,
              std::vector<std::uint32_t>& spikes) override;
  std::vector<std::string> variable_names() const override;
  float* channel_state(std::size_t channel) override;

  // Seconds spent compiling this population's kernel (0 when it came from the cache).
  double compile_seconds() const { return compile_seconds_; }
  bool kernel_from_cache() const { return from_cache_; }
  // The generated source of the current kernel (after prepare).
  const std::string& generated_source() const { return source_; }

 protected:
  VariableView find_variable(std::string_view name) override;
  void resize_state(std::size_t old_size, std::size_t new_size, std::uint64_t seed) override;

 private:
  // Variable k's array (state or parameter), as the kernel sees it.
  void* array(std::size_t slot);

  std::shared_ptr<const eq::Model> model_;
  std::vector<std::size_t> slots_;          // variables in kernel order: states, then parameters
  std::vector<Distribution> init_;          // per slot
  std::vector<AlignedVector<float>> f32_;   // per slot, single precision
  std::vector<std::vector<double>> f64_;    // per slot, double precision
  std::vector<void*> pointers_;
  AlignedVector<std::int32_t> refrac_;
  eq::KernelFunction kernel_ = nullptr;
  double kernel_dt_ = 0.0;
  double compile_seconds_ = 0.0;
  bool from_cache_ = false;
  std::string source_;
};

}  // namespace volley

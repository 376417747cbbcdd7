#pragma once
// C++ source for an equation model's step kernel: one function that advances neurons [lo, hi)
// by one step (integration, threshold, reset, refractoriness) over structure-of-arrays state, in
// the loop shape of the built-in kernels (one pass, branch-free selects, `omp simd`), so the
// compiler vectorises it. dt and the model's constants are literals in the code, so the compiler
// folds what they determine (decay factors, propagators).
#include <cstdint>
#include <string>

#include "volley/equations/model.hpp"

namespace volley::eq {

// The kernel's argument block; the generated code declares the same layout (kernel_prelude).
struct KernelArgs {
  std::uint64_t lo = 0, hi = 0;  // neurons to update
  std::uint64_t step = 0;        // t = step * dt
  std::uint64_t seed = 0;        // for rand()/randn(): CounterRng(seed, stream, i, step)
  std::uint64_t n_total = 0;     // N, the population's size
  void* const* arrays = nullptr; // one array per state, then one per parameter (model order)
  std::int32_t* refractory = nullptr;  // steps left; present when the model has a refractory period
  std::uint8_t* fired = nullptr;       // fired[i - lo] = 1 when neuron i spiked
  std::uint32_t stream = 0;
};

// The symbol the generated library exports: void volley_eq_step(const KernelArgs*).
inline constexpr const char* kKernelSymbol = "volley_eq_step";

// What every generated kernel starts with: `real` (float or double), the math functions the
// printed expressions call (vexp, vclip, vexprel, ...) and, with `random`, volley's counter-based
// RNG with vrand/vrandn.
std::string math_prelude(bool single_precision, bool random);
// A number as a C++ literal with every digit of a double (as real(...) when `single`).
std::string literal(double v, bool single);

// Substeps per network step of `dt`: ceil(dt / max_step), 1 without max_step (as the built-in
// ODE models count them).
int substep_count(const Model& model, double dt);

// `ref_steps`: (sub)steps a neuron is held after the (sub)step of its spike.
std::string generate_kernel(const Model& model, double dt, std::int32_t ref_steps);

}  // namespace volley::eq

#pragma once
// Hebbian learning for spiking neurons with rate estimates: one output neuron receives N Poisson
// input fibres; presynaptic and postsynaptic rates are estimated online by exponential traces of
// the spike trains (x̂_i, ŷ, time constant tau_rate), and the weights follow
//   Oja (1982):  dw/dt = η·ŷ·(x̃ − ŷ·w)      x̃ = x̂ − ⟨x̂⟩ (the running mean, tau_mean), so w
//                                            converges to the first principal component of the
//                                            inputs' covariance
//   BCM (Bienenstock, Cooper & Munro 1982; Intrator & Cooper 1992):
//                dw/dt = η·x̂·ŷ·(ŷ − θ),   θ = ⟨ŷ²⟩/y0 over tau_theta (the sliding threshold),
//                                            w ≥ 0; with several input patterns the neuron
//                                            becomes selective to one of them.
// The output neuron is an inhomogeneous Poisson neuron whose rate is the rectified weighted sum
// of the input rate estimates (Oja: 50 Hz + 10·wᵀx̃, so negative projections are coded too, and
// y is read back from the output's spikes as (ŷ − 50 Hz)/10). The inputs' Poisson noise adds
// the same variance to every direction, so it leaves the principal components unchanged.
// Inputs: a new stimulus every `presentation` seconds — Oja: rates from a Gaussian with a given
// covariance; BCM: one of K patterns. Everything draws from counter-based streams keyed by the
// seed, so a run is reproducible.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace volley::learn {

struct HebbianConfig {
  double dt = 1e-3;            // s
  double tau_rate = 20e-3;     // s, rate-estimate traces
  double presentation = 50e-3; // s per stimulus
  double duration = 200.0;     // s of learning
  double eta = 1e-4;           // learning rate (per s, in the rate units below)
  double eta_time = 0.0;       // s; > 0 anneals η(t) = eta / (1 + t/eta_time) (Robbins–Monro),
                               // which lets Oja's w settle instead of fluctuating around the PC
  std::uint64_t seed = 1;
  void validate() const;       // ParameterError naming the field
};

struct OjaResult {
  std::vector<double> weights;     // final w
  std::vector<double> pc1;         // first principal component of the input covariance
  double cosine = 0.0;             // |cos(w, pc1)|
  double weight_norm = 0.0;        // Oja normalises |w| → 1
  std::vector<double> cosine_trace;  // |cos| every second
};

// Inputs: rates (Hz) r = mean_rate + L·z, z ~ N(0, I) per presentation (clipped at 0), where
// `loadings` is N × K row-major (K latent factors); the covariance is L·Lᵀ.
OjaResult run_oja(const HebbianConfig& c, std::size_t n_inputs, double mean_rate,
                  const std::vector<double>& loadings, std::size_t factors);

struct BcmResult {
  std::vector<double> weights;
  std::vector<double> response;  // mean output rate (Hz) to each pattern after learning
  int preferred = -1;            // pattern with the largest response
  double selectivity = 0.0;      // 1 − mean(other responses)/max response
  std::vector<double> response_before;
};

// Inputs: K patterns; pattern k drives its `patterns[k]` fibres (row-major K × N, in Hz above
// the background `background_rate`). y0 sets the threshold scale (Hz), tau_theta its averaging.
BcmResult run_bcm(const HebbianConfig& c, std::size_t n_inputs, double background_rate,
                  const std::vector<double>& patterns, std::size_t n_patterns, double y0, double tau_theta);

}  // namespace volley::learn

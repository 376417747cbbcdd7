#pragma once
// Adversarial attacks on static images, white-box and black-box, for the SNN and its ANN twin.
//
// The input space is the image's pixels x ∈ [0, 1] (x = grey value / 255), encoded by the
// network's own encoder: latency (the SNN: a pixel x ≥ θ spikes once, at step
// ⌊τ_eff·ln(x/(x − θ))⌋) or analog (the ANN twin: x itself at step 0). White-box attacks use
// dL/dx by BPTT through the network's surrogate, chained through the encoder:
//   analog    dL/dx_i = dL/d(value of input event i)
//   latency   dL/dx_i = dL/dt_i · dt_i/dx_i, dt/dx = τ_eff·(1/x − 1/(x − θ)) (steps per unit x),
//             dL/dt_i the first-order change of the loss when the spike moves one step later
//             (net.hpp InputGradients::time): the encoder's surrogate. Silent pixels (x < θ, or a
//             spike time past the sample) get 0: a gradient attack cannot see a pixel cross θ,
//             which the black-box attack can.
// Attacks (ε the radius of the L∞ or L2 ball around x; every iterate is projected onto the ball
// and onto [0, 1]):
//   fgsm    one step: x + ε·sign(g) (L∞), x + ε·g/‖g‖₂ (L2)
//   pgd     random start in the ball, `steps` steps of size `step_size` (default 2.5·ε/steps,
//           Madry et al. 2018) along sign(g) or g/‖g‖₂, projected after each
//   square  Square Attack (Andriushchenko et al. 2020), L∞, gradient-free: vertical-stripe start,
//           then random squares set to x ± ε, kept when the loss grows, at most `queries`
//           forward passes per sample
// A sample counts as broken as soon as any iterate is misclassified (its first adversarial
// example is kept). Every random draw is keyed by (seed, sample), so results are the same for
// any thread count.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "volley/data/encoders.hpp"
#include "volley/registry.hpp"
#include "volley/train/loss.hpp"
#include "volley/train/net.hpp"

namespace volley::train {

enum class AttackKind { fgsm, pgd, square };
enum class AttackNorm { linf, l2 };
const Registry<Choice<AttackKind>>& attack_kinds();
const Registry<Choice<AttackNorm>>& attack_norms();

struct AttackConfig {
  AttackKind kind = AttackKind::pgd;
  AttackNorm norm = AttackNorm::linf;
  double eps = 8.0 / 255.0;
  int steps = 10;            // pgd
  double step_size = 0.0;    // pgd; 0 = 2.5·eps/steps
  bool random_start = true;  // pgd
  std::size_t queries = 1000;  // square: forward passes per sample
  double p_init = 0.05;        // square: initial fraction of pixels per square
  std::uint64_t seed = 1;
  // Throws ParameterError naming the field (eps < 0, steps < 1, square with L2, ...).
  void validate() const;
};

// The pixels of a set of images as the network sees them.
class PixelInput {
 public:
  // Throws ParameterError for an encoding attacks do not support (poisson: stochastic).
  explicit PixelInput(const data::ImageSource& images);
  std::size_t size() const { return images_.size(); }
  std::size_t dim() const { return images_.n_inputs(); }
  std::size_t rows() const { return images_.images().rows; }
  std::size_t cols() const { return images_.images().cols; }
  std::size_t n_steps() const { return images_.n_steps(); }
  int label(std::size_t index) const { return images_.label(index); }
  const data::ImageSource& source() const { return images_; }

  // The clean image, pixel / 255.
  void clean(std::size_t index, std::span<float> x) const;
  // The events x encodes to (for x = clean(i): exactly what the source gives sample i).
  void encode(std::span<const float> x, data::SampleEvents& out) const;
  // dL/dx from the gradients of the events `encode(x)` produced.
  void chain(std::span<const float> x, const data::SampleEvents& events,
             const InputGradients& g, std::span<float> dx) const;

 private:
  const data::ImageSource& images_;
};

// One sample's loss and prediction for input x, and optionally dL/dx.
struct Probe {
  double loss = 0.0;
  int predicted = -1;
};

// Per-thread scratch of the attack targets (pixels here, events in event_attack.hpp).
struct AttackScratch {
  Workspace ws;
  SampleRecord rec;
  data::SampleEvents ev;
  std::vector<float> dy;
  std::vector<std::vector<float>> grads;  // weight gradients (computed, not used)
  std::size_t grads_age = 0;
  InputGradients ig;
  std::vector<float> candidate;  // square attack
};

// A network that attacks can query: forward (and backward for gradients) on pixel inputs.
class AttackTarget {
 public:
  AttackTarget(const Net& net, const LossConfig& loss, const PixelInput& input);
  const PixelInput& input() const { return input_; }
  using Scratch = AttackScratch;
  Probe probe(std::span<const float> x, int label, Scratch& s) const;
  Probe gradient(std::span<const float> x, int label, std::span<float> dx, Scratch& s) const;

 private:
  const Net& net_;
  LossConfig loss_;
  const PixelInput& input_;
};

struct AttackResult {
  std::size_t samples = 0;
  double accuracy = 0.0;               // on the adversarial examples
  double clean_accuracy = 0.0;         // on the clean inputs
  double mean_queries = 0.0;           // forward passes per sample
  double mean_linf = 0.0, mean_l2 = 0.0;  // of the final perturbation
  double seconds = 0.0;
  std::vector<std::uint8_t> correct;   // per sample, on its adversarial example
};

// One sample's outcome, and the result of many (means over the samples; seconds as given).
struct SampleOutcome {
  bool clean_correct = false, correct = false;
  std::size_t queries = 0;
  double linf = 0.0, l2 = 0.0;  // of the perturbation (event attacks: 1 and the events changed)
};
AttackResult tally(const std::vector<SampleOutcome>& outcomes, double seconds);

// Attacks samples [0, n) of target.input() (n = 0: all). With `adversarial`, the adversarial
// examples (n × dim, row-major) are stored, e.g. for a transfer attack.
AttackResult run_attack(const AttackTarget& target, const AttackConfig& config, std::size_t n,
                        int threads, std::vector<float>* adversarial = nullptr);

// Accuracy of `target` on given inputs (n × dim, the rows of `x`), per sample in `correct`.
AttackResult evaluate_inputs(const AttackTarget& target, std::span<const float> x, int threads);

// The Square Attack's schedule of the fraction changed per query at iteration `it` of
// `n_iters` (Andriushchenko et al. 2020: halved at iterations 10, 50, 200, 500, 1000, 2000, 4000,
// 6000 and 8000 of 10 000, rescaled to n_iters).
double square_fraction(double p_init, std::size_t it, std::size_t n_iters);

// The same network with another surrogate scale (the masking check: PGD with several slopes).
Net with_surrogate_scale(const Net& net, double scale);

}  // namespace volley::train

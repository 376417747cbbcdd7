#pragma once
// Losses on the last layer's output and the spike-count regularisers of the SpyTorch tutorial 3.
//   max_ce   cross-entropy of softmax(max_t y_t)   (SpyTorch; gradient to the first argmax step)
//   mean_ce  cross-entropy of softmax(mean_t y_t)
//   last_ce  cross-entropy of softmax(y_{T−1})
//   step_ce  (1/T)·Σ_t cross-entropy of softmax(y_t): every step's output is trained to be right,
//            which rewards early decisions (prediction: argmax of mean_t y_t)
//   count_ce cross-entropy of softmax(spike counts) (spiking last layer)
//   count_mse (1/C)·Σ_c (count_c − T·r_c)², r_c = r_correct for the label, r_incorrect otherwise
// Regularisers over the spiking hidden layers of a batch (spike tensor s[b, t, j]):
//   reg_l1·Σ_{b,t,j} s  +  reg_l2·(1/N)·Σ_j (Σ_{b,t} s)²
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "volley/registry.hpp"
#include "volley/train/net.hpp"

namespace volley::train {

enum class LossKind { max_ce, mean_ce, last_ce, step_ce, count_ce, count_mse };

struct LossConfig {
  LossKind kind = LossKind::max_ce;
  double r_correct = 0.8, r_incorrect = 0.2;  // count_mse targets (spikes per step)
  double reg_l1 = 0.0, reg_l2 = 0.0;
};

// A registered loss: its name in training files, what it computes, and whether it reads the
// spike counts of a spiking last layer (count losses) or the readout's y_t (the others).
struct LossInfo {
  std::string_view name;
  LossKind value;
  std::string_view meaning;
  bool counts;
};
const Registry<LossInfo>& losses();
// [loss] r_correct, r_incorrect, reg_l1, reg_l2.
std::span<const volley::Param<LossConfig>> loss_params();

std::string_view loss_name(LossKind kind);
bool is_count_loss(LossKind kind);

struct SampleLoss {
  double loss = 0.0;
  int predicted = -1;
};

// Loss of one sample and dL/d(output) scaled by `scale` (1/batch size) into `dy`: T×C for a
// readout, C (per spike count) for a spiking last layer. `dy` may be null for inference.
SampleLoss sample_loss(const LossConfig& cfg, const Net& net, const SampleRecord& rec, int label,
                       float scale, std::vector<float>* dy);

// Cross-entropy of softmax(m) for `label` (and the predicted class, argmax m); with `g`, also
// dL/dm = softmax(m) − onehot. The computation sample_loss uses for the *_ce losses.
SampleLoss cross_entropy(std::span<const double> m, int label, std::vector<double>* g);

// The layers the regularisers act on: spiking layers, except the last when it is the output.
std::vector<bool> regularised_layers(const LossConfig& cfg, const Net& net);

}  // namespace volley::train

// Losses and their gradients w.r.t. the last layer's output (see loss.hpp).
#include "volley/train/loss.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "volley/error.hpp"

namespace volley::train {

const Registry<LossInfo>& losses() {
  static const Registry<LossInfo> r(
      "loss",
      {{"max_ce", LossKind::max_ce,
        "cross-entropy of softmax(max_t y_t) of the readout (SpyTorch; the gradient goes to the "
        "first step of the maximum)",
        false},
       {"mean_ce", LossKind::mean_ce, "cross-entropy of softmax(mean_t y_t) of the readout", false},
       {"last_ce", LossKind::last_ce, "cross-entropy of softmax(y_{T−1}) of the readout", false},
       {"step_ce", LossKind::step_ce,
        "(1/T)·Σ_t cross-entropy of softmax(y_t): the readout is trained to be right at every "
        "step, which rewards early decisions; the prediction is argmax of mean_t y_t",
        false},
       {"count_ce", LossKind::count_ce,
        "cross-entropy of softmax(spike counts) of a spiking last layer", true},
       {"count_mse", LossKind::count_mse,
        "(1/C)·Σ_c (count_c − T·r_c)² of a spiking last layer, r_c = r_correct for the label and "
        "r_incorrect for the others",
        true}});
  return r;
}

std::span<const volley::Param<LossConfig>> loss_params() {
  constexpr double inf = std::numeric_limits<double>::infinity();
  static const volley::Param<LossConfig> p[] = {
      {"r_correct", &LossConfig::r_correct, Dimension::none(), Range::closed(0, 1),
       "count_mse: target spikes per step of the labelled class"},
      {"r_incorrect", &LossConfig::r_incorrect, Dimension::none(), Range::closed(0, 1),
       "count_mse: target spikes per step of the other classes"},
      {"reg_l1", &LossConfig::reg_l1, Dimension::none(), Range{0.0, inf, false, true},
       "reg_l1·Σ_{b,t,j} s over the hidden spiking layers of a batch (SpyTorch tutorial 3)"},
      {"reg_l2", &LossConfig::reg_l2, Dimension::none(), Range{0.0, inf, false, true},
       "reg_l2·(1/N)·Σ_j (Σ_{b,t} s)² over the hidden spiking layers of a batch"},
  };
  return p;
}

std::string_view loss_name(LossKind kind) { return losses().name_of(kind); }

bool is_count_loss(LossKind kind) {
  for (const LossInfo& e : losses())
    if (e.value == kind) return e.counts;
  return false;
}

std::vector<bool> regularised_layers(const LossConfig& cfg, const Net& net) {
  const std::size_t L = net.config().layers.size();
  std::vector<bool> out(L, false);
  for (std::size_t l = 0; l < L; ++l) out[l] = net.spiking(l);
  if (is_count_loss(cfg.kind)) out[L - 1] = false;
  return out;
}

SampleLoss cross_entropy(std::span<const double> m, int label, std::vector<double>* g) {
  const std::size_t C = m.size();
  SampleLoss result;
  result.predicted = static_cast<int>(std::max_element(m.begin(), m.end()) - m.begin());
  const double mx = *std::max_element(m.begin(), m.end());
  double z = 0.0;
  for (std::size_t c = 0; c < C; ++c) z += std::exp(m[c] - mx);
  const double lse = mx + std::log(z);
  result.loss = lse - m[static_cast<std::size_t>(label)];
  if (g) {
    g->resize(C);
    for (std::size_t c = 0; c < C; ++c)
      (*g)[c] = std::exp(m[c] - lse) - (static_cast<int>(c) == label ? 1.0 : 0.0);
  }
  return result;
}

SampleLoss sample_loss(const LossConfig& cfg, const Net& net, const SampleRecord& rec, int label,
                       float scale, std::vector<float>* dy) {
  const std::size_t C = net.n_outputs(), T = net.config().n_steps;
  const LayerRecord& out = rec.layers.back();
  const bool readout = !net.emits_events(net.config().layers.size() - 1);
  if (is_count_loss(cfg.kind) == readout)
    throw ParameterError(is_count_loss(cfg.kind)
                             ? "loss: count losses need a spiking last layer, not a readout"
                             : "loss: this loss needs a readout last layer (use count_ce or "
                               "count_mse for a spiking output)");
  // Per-class scores m and, for readouts, the step each came from.
  std::vector<double> m(C, 0.0);
  std::vector<std::size_t> arg(C, 0);
  if (readout) {
    const float* y = out.y.data();
    for (std::size_t c = 0; c < C; ++c) {
      switch (cfg.kind) {
        case LossKind::max_ce: {
          float best = y[c];
          for (std::size_t t = 1; t < T; ++t)
            if (y[t * C + c] > best) best = y[t * C + c], arg[c] = t;
          m[c] = best;
          break;
        }
        case LossKind::mean_ce:
        case LossKind::step_ce: {
          double s = 0.0;
          for (std::size_t t = 0; t < T; ++t) s += y[t * C + c];
          m[c] = s / static_cast<double>(T);
          break;
        }
        default:
          m[c] = y[(T - 1) * C + c];
          arg[c] = T - 1;
      }
    }
  } else {
    for (std::size_t e = 0; e < out.idx.size(); ++e) m[out.idx[e]] += out.val[e];
  }
  SampleLoss result;
  // dL/dm
  std::vector<double> g(C, 0.0);
  if (cfg.kind == LossKind::count_mse) {
    result.predicted = static_cast<int>(std::max_element(m.begin(), m.end()) - m.begin());
    double loss = 0.0;
    for (std::size_t c = 0; c < C; ++c) {
      const double target = static_cast<double>(T) *
                            (static_cast<int>(c) == label ? cfg.r_correct : cfg.r_incorrect);
      const double d = m[c] - target;
      loss += d * d;
      g[c] = 2.0 * d / static_cast<double>(C);
    }
    result.loss = loss / static_cast<double>(C);
  } else if (cfg.kind == LossKind::step_ce) {
    // The mean over steps of each step's cross-entropy; the prediction from the mean output.
    result.predicted = static_cast<int>(std::max_element(m.begin(), m.end()) - m.begin());
    if (dy) dy->assign(T * C, 0.0f);
    std::vector<double> yt(C), gt;
    for (std::size_t t = 0; t < T; ++t) {
      for (std::size_t c = 0; c < C; ++c) yt[c] = out.y[t * C + c];
      const SampleLoss st = cross_entropy(yt, label, dy ? &gt : nullptr);
      result.loss += st.loss / static_cast<double>(T);
      if (dy)
        for (std::size_t c = 0; c < C; ++c)
          (*dy)[t * C + c] = static_cast<float>(gt[c] * scale / static_cast<double>(T));
    }
    return result;
  } else {
    result = cross_entropy(m, label, &g);
  }
  if (!dy) return result;
  if (!readout) {
    dy->assign(C, 0.0f);
    for (std::size_t c = 0; c < C; ++c) (*dy)[c] = static_cast<float>(g[c] * scale);
    return result;
  }
  dy->assign(T * C, 0.0f);
  for (std::size_t c = 0; c < C; ++c) {
    const float gc = static_cast<float>(g[c] * scale);
    if (cfg.kind == LossKind::mean_ce) {
      for (std::size_t t = 0; t < T; ++t) (*dy)[t * C + c] = gc / static_cast<float>(T);
    } else {
      (*dy)[arg[c] * C + c] = gc;
    }
  }
  return result;
}

}  // namespace volley::train

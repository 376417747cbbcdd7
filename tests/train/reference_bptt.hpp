// Plain double-precision reference for surrogate-gradient spiking networks:
// the forward pass and backpropagation through time (BPTT), written for
// clarity rather than speed. Every state of every step is stored; the
// backward pass is straightforward reverse-mode differentiation of the
// equations below. The tests use it to check the optimised engine.
//
// One sample, steps t = 0..T-1, all states start at 0. Layer l gets z_t: the
// input x_t for the first layer, the previous layer's output otherwise.
//
// Spiking layer (lif / alif / adlif):
//   I_t[j]   = sum_i z_t[i] W[i*n+j] + (recurrent ? sum_k s_{t-1}[k] V[k*n+j] : 0),  s_{-1} = 0
//   With synaptic delays (delay non-empty: d[i*n+j] in steps, window K, width sigma in steps) the
//   input term is sum_{tau=0}^{K-1} sum_i z_{t-tau}[i] W[i*n+j] phi_ij(tau) with
//   phi(tau) = e(tau) / sum_tau' e(tau'), e(tau) = max(0, exp(-(tau-d)^2/(2 sigma^2)) - exp(-4.5))
//   for sigma >= 1/4, and phi = 1 at tau = round(d) (d clamped to [0, K-1]) otherwise.
//   th_t[j]  = theta_j + b*a_t[j]   (alif),   theta_j   (lif, adlif)
//   (theta_j = theta[j] when per-neuron thresholds are given, else threshold)
//   u_t      = mem_t - th_t
//   s_t      = (u_t > 0)                 forward heaviside
//            = sigmoid(k*u_t)            forward smooth, k = smooth_scale
//   has_syn:   syn_{t+1} = alpha*syn_t + I_t,  d_t = syn_t;     else d_t = I_t
//   mt_{t+1} = beta*mem_t + d_t
//   mem_{t+1} = mt_{t+1}*(1 - s_t)   (multiply)
//             = mt_{t+1} - threshold*s_t   (subtract)
//             = mt_{t+1}                   (none)
//   alif:      a_{t+1} = rho*a_t + s_t
//   adlif:     mt_{t+1} = beta*mem_t + d_t - (1 - beta)*w_t (w_t kept in the a state), the reset
//              as above, then w_{t+1} = wrho_j*w_t + (1 - wrho_j)*wa_j*mem_{t+1} + wb_j*s_t
//   output z_t = s_t
//   ds_t/du_t := surrogate_derivative(u_t) (heaviside) or k*s*(1-s) (smooth),
//   set to 0 where |u_t| >= window when window > 0. With detach_reset the s_t
//   of the reset term is a constant for the backward pass.
//
// Readout layer: I_t = sum_i z_t[i] W[i*n+j]; syn/mem as above without spike
// or reset; output y_t = mem_{t+1}. A readout layer must be the last layer.
//
// Relu layer (non-spiking, the ANN twin): I_t as a spiking layer's (recurrent
// input out_{t-1}); h_t = beta*h_{t-1} + I_t; out_t = max(h_t, 0), derivative
// 1 for h_t > 0 and 0 otherwise; no synapse. Not regularised.
//
// Grads.dx holds dLoss/dx_t[i] of every input value of every sample.
//
// Losses (per sample, label c): a score m_k per class from the last layer's output, then a
// criterion on m:
//   scores     max_over_time   m_k = max_t y_t[k] (gradient to the first argmax)
//              mean_over_time  m_k = (1/T) sum_t y_t[k]
//              last_step       m_k = y_{T-1}[k]
//              spike_count     m_k = sum_t s_t[k] of a spiking last layer
//              each_step       the criterion on every step's y_t, averaged over the T steps
//   criteria   cross_entropy   -log softmax(m)[c]
//              squared_error   (1/C) sum_k (m_k - T*(k==c ? r_correct : r_incorrect))^2
// The engine's losses are combinations of the two, listed by name in reference_losses():
//   max_ce, mean_ce, last_ce (cross-entropy of the three readout scores), step_ce (cross-entropy
//   at each step), count_ce and
//   count_mse (the spike counts with each criterion).
// Batch loss = (1/B) sum_b loss_b
//   + reg_l1 * sum_{regularised layers} sum_{b,t,j} s
//   + reg_l2 * sum_{regularised layers} (1/n) sum_j (sum_{b,t} s_{b,t,j})^2
// where the regularised layers are all spiking layers except the last layer.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace volley::reference {

struct Layer {
  enum Kind { lif, alif, adlif, readout, relu };
  enum Reset { multiply, subtract, none };

  Kind kind = lif;
  std::size_t n_in = 0;  // inputs per step
  std::size_t n = 0;     // neurons
  bool has_syn = true;
  bool recurrent = false;  // spiking layers only
  double threshold = 1;    // spiking layers only
  Reset reset = multiply;  // spiking layers only
  bool detach_reset = true;
  double rho = 0, b = 0;  // alif only
  std::vector<double> theta;            // n per-neuron thresholds (empty: threshold)
  std::vector<double> wrho, wa, wb;     // adlif only, n each: decay, coupling, jump of w
  std::vector<double> W;  // n_in*n, W[i*n+j]: input i -> neuron j
  std::vector<double> V;  // n*n when recurrent, V[k*n+j]: neuron k -> neuron j
  std::vector<double> alpha;  // n (needed when has_syn)
  std::vector<double> beta;   // n
  std::vector<double> delay;  // n_in*n synaptic delays in steps (empty: none)
  double delay_sigma = 0;     // steps
  std::size_t delay_window = 1;  // K
};

// A loss as the reference computes it (see the top of the file).
struct Loss {
  enum Score { max_over_time, mean_over_time, last_step, spike_count, each_step };
  enum Criterion { cross_entropy, squared_error };
  Score score = max_over_time;
  Criterion criterion = cross_entropy;
};

inline constexpr Loss max_ce{Loss::max_over_time, Loss::cross_entropy};
inline constexpr Loss mean_ce{Loss::mean_over_time, Loss::cross_entropy};
inline constexpr Loss last_ce{Loss::last_step, Loss::cross_entropy};
inline constexpr Loss step_ce{Loss::each_step, Loss::cross_entropy};
inline constexpr Loss count_ce{Loss::spike_count, Loss::cross_entropy};
inline constexpr Loss count_mse{Loss::spike_count, Loss::squared_error};

// The reference of each of the engine's losses, by its registered name. A loss registered in
// volley::train::losses() needs an entry here (written from the loss's definition, not from the
// engine's code): the gradient tests run every registered loss and fail for one without.
inline const std::vector<std::pair<std::string_view, Loss>>& reference_losses() {
  static const std::vector<std::pair<std::string_view, Loss>> table = {
      {"max_ce", max_ce},     {"mean_ce", mean_ce},     {"last_ce", last_ce},
      {"step_ce", step_ce},   {"count_ce", count_ce},   {"count_mse", count_mse},
  };
  return table;
}

inline const Loss* reference_loss(std::string_view name) {
  for (const auto& [n, loss] : reference_losses())
    if (n == name) return &loss;
  return nullptr;
}

struct Options {
  enum Forward { heaviside, smooth };

  Forward forward = heaviside;
  double smooth_scale = 10;                          // k of the smooth forward
  std::function<double(double)> surrogate_derivative;  // ds/du in heaviside mode
  double window = 0;  // > 0: ds/du = 0 where |u| >= window; 0: unbounded
  Loss loss = max_ce;
  double r_correct = 0.8, r_incorrect = 0.2;  // count_mse target rates
  double reg_l1 = 0, reg_l2 = 0;
};

struct Grads {
  double loss = 0;  // batch loss
  // Per layer, shaped like the parameters: dW n_in*n, dV n*n (empty when not
  // recurrent), dalpha n (zeros when no syn), dbeta n, dtheta n (per-neuron θ;
  // the sum over neurons is dLoss/dthreshold otherwise), dwrho, dwa, dwb n (adlif).
  std::vector<std::vector<double>> dW, dV, dalpha, dbeta, dtheta, dwrho, dwa, dwb;
  std::vector<std::vector<double>> ddelay;  // n_in*n (layers with delays; empty otherwise)
  // u[layer][sample][t*n+j]: u_t of spiking layers; for a readout layer the
  // output y_t = mem_{t+1}.
  std::vector<std::vector<std::vector<double>>> u;
  // out[layer][sample][t*n+j]: the layer's output, s_t or y_t.
  std::vector<std::vector<std::vector<double>>> out;
  // dx[sample][t*n_in+i]: dLoss/dx_t[i].
  std::vector<std::vector<double>> dx;
};

namespace detail {

// Everything one layer computes for one sample. Per-step arrays are T*n
// (index t*n+j); state arrays are (T+1)*n (index t*n+j holds the state at t;
// mt at index (t+1)*n+j holds mt_{t+1}).
struct LayerTrace {
  std::vector<double> I, syn, mem, mt, a, u, s, out;
};

inline bool is_spiking(const Layer& layer) {
  return layer.kind == Layer::lif || layer.kind == Layer::alif || layer.kind == Layer::adlif;
}

inline double theta_of(const Layer& L, std::size_t j) {
  return L.theta.empty() ? L.threshold : L.theta[j];
}

inline bool is_count_loss(const Loss& loss) { return loss.score == Loss::spike_count; }

inline void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("volley::reference: " + what);
}

inline void validate(const std::vector<Layer>& layers, const std::vector<std::vector<double>>& inputs,
                     const std::vector<int>& labels, std::size_t T, const Options& opt) {
  require(!layers.empty(), "no layers");
  require(T > 0, "T must be positive");
  require(!inputs.empty(), "empty batch");
  require(labels.size() == inputs.size(), "one label per sample");
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const Layer& L = layers[l];
    const std::string at = "layer " + std::to_string(l) + ": ";
    require(L.n > 0 && L.n_in > 0, at + "empty layer");
    if (l > 0) require(L.n_in == layers[l - 1].n, at + "n_in differs from previous layer's n");
    require(L.W.size() == L.n_in * L.n, at + "W must have n_in*n entries");
    require(L.beta.size() == L.n, at + "beta must have n entries");
    if (L.has_syn) require(L.alpha.size() == L.n, at + "alpha must have n entries");
    require(L.theta.empty() || L.theta.size() == L.n, at + "theta must be empty or have n entries");
    if (L.kind == Layer::adlif)
      require(L.wrho.size() == L.n && L.wa.size() == L.n && L.wb.size() == L.n,
              at + "adlif needs n entries in wrho, wa and wb");
    if (L.kind == Layer::relu) {
      require(l + 1 < layers.size(), at + "a relu layer cannot be the last layer");
      require(!L.has_syn, at + "a relu layer has no synapse");
    }
    if (L.kind == Layer::readout) {
      require(l + 1 == layers.size(), at + "a readout layer must be the last layer");
      require(!L.recurrent, at + "a readout layer cannot be recurrent");
    } else if (L.recurrent) {
      require(L.V.size() == L.n * L.n, at + "V must have n*n entries");
    }
  }
  for (const auto& x : inputs) require(x.size() == T * layers[0].n_in, "each input must have T*n_in values");
  const Layer& last = layers.back();
  if (is_count_loss(opt.loss)) {
    require(is_spiking(last), "count losses need a spiking last layer");
  } else {
    require(!is_spiking(last), "a loss on the readout's y_t needs a readout last layer");
  }
  for (int c : labels) require(c >= 0 && static_cast<std::size_t>(c) < last.n, "label out of range");
  require(opt.window >= 0, "window must be >= 0");
}

inline double spike(double u, const Options& opt) {
  if (opt.forward == Options::heaviside) return u > 0 ? 1.0 : 0.0;
  return 1.0 / (1.0 + std::exp(-opt.smooth_scale * u));
}

// ds/du used by the backward pass (s is the forward value of the spike).
inline double spike_derivative(double u, double s, const Options& opt) {
  if (opt.window > 0 && std::abs(u) >= opt.window) return 0.0;
  if (opt.forward == Options::heaviside) return opt.surrogate_derivative(u);
  return opt.smooth_scale * s * (1.0 - s);
}

// The delay kernel of synapse (i, j): phi[tau] and dphi/dd[tau] for tau = 0..K-1.
inline void delay_kernel(const Layer& L, std::size_t i, std::size_t j, std::vector<double>& phi,
                         std::vector<double>& dphi) {
  const std::size_t K = L.delay_window;
  phi.assign(K, 0.0);
  dphi.assign(K, 0.0);
  const double d = std::min(std::max(L.delay[i * L.n + j], 0.0), static_cast<double>(K - 1));
  const double s = L.delay_sigma;
  if (s < 0.25 || K == 1) {
    phi[static_cast<std::size_t>(std::lround(d))] = 1.0;
    return;
  }
  std::vector<double> e(K), de(K);
  double z = 0.0, zd = 0.0;
  for (std::size_t tau = 0; tau < K; ++tau) {
    const double x = static_cast<double>(tau) - d;
    const double g = std::exp(-x * x / (2.0 * s * s));
    e[tau] = std::max(0.0, g - std::exp(-4.5));
    de[tau] = e[tau] > 0.0 ? g * x / (s * s) : 0.0;  // d e / d d
    z += e[tau];
    zd += de[tau];
  }
  for (std::size_t tau = 0; tau < K; ++tau) {
    phi[tau] = e[tau] / z;
    dphi[tau] = de[tau] / z - e[tau] * zd / (z * z);
  }
}

// Every synapse's delay kernel, [(i*n + j)*K + tau].
inline void delay_kernels(const Layer& L, std::vector<double>& phi, std::vector<double>& dphi) {
  const std::size_t K = L.delay_window, m = L.n_in * L.n;
  phi.assign(m * K, 0.0);
  dphi.assign(m * K, 0.0);
  std::vector<double> p, dp;
  for (std::size_t i = 0; i < L.n_in; ++i)
    for (std::size_t j = 0; j < L.n; ++j) {
      delay_kernel(L, i, j, p, dp);
      std::copy(p.begin(), p.end(), phi.begin() + static_cast<std::ptrdiff_t>((i * L.n + j) * K));
      std::copy(dp.begin(), dp.end(), dphi.begin() + static_cast<std::ptrdiff_t>((i * L.n + j) * K));
    }
}

inline LayerTrace forward_layer(const Layer& L, const std::vector<double>& z, std::size_t T,
                                const Options& opt) {
  const std::size_t n = L.n, ni = L.n_in;
  const bool spiking = is_spiking(L);
  LayerTrace tr;
  tr.I.assign(T * n, 0.0);
  tr.u.assign(T * n, 0.0);
  tr.s.assign(T * n, 0.0);
  tr.out.assign(T * n, 0.0);
  tr.syn.assign((T + 1) * n, 0.0);
  tr.mem.assign((T + 1) * n, 0.0);
  tr.mt.assign((T + 1) * n, 0.0);
  tr.a.assign((T + 1) * n, 0.0);

  const bool delayed = !L.delay.empty();
  std::vector<double> phi, dphi;
  if (delayed) delay_kernels(L, phi, dphi);
  const std::size_t K = L.delay_window;
  for (std::size_t t = 0; t < T; ++t) {
    // Input current.
    for (std::size_t j = 0; j < n; ++j) {
      double I = 0.0;
      if (delayed) {
        for (std::size_t tau = 0; tau < K && tau <= t; ++tau)
          for (std::size_t i = 0; i < ni; ++i)
            I += z[(t - tau) * ni + i] * L.W[i * n + j] * phi[(i * n + j) * K + tau];
      } else {
        for (std::size_t i = 0; i < ni; ++i) I += z[t * ni + i] * L.W[i * n + j];
      }
      if (L.kind != Layer::readout && L.recurrent && t > 0)
        for (std::size_t k = 0; k < n; ++k) I += tr.out[(t - 1) * n + k] * L.V[k * n + j];
      tr.I[t * n + j] = I;
    }
    if (L.kind == Layer::relu) {
      for (std::size_t j = 0; j < n; ++j) {
        const std::size_t now = t * n + j, next = (t + 1) * n + j;
        const double h = L.beta[j] * tr.mem[now] + tr.I[now];
        tr.mem[next] = h;
        tr.u[now] = h;
        tr.out[now] = h > 0.0 ? h : 0.0;
      }
      continue;
    }
    // Neuron update.
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t now = t * n + j, next = (t + 1) * n + j;
      double s = 0.0;
      if (spiking) {
        const double th = theta_of(L, j) + (L.kind == Layer::alif ? L.b * tr.a[now] : 0.0);
        tr.u[now] = tr.mem[now] - th;
        s = spike(tr.u[now], opt);
        tr.s[now] = s;
      }
      double d = tr.I[now];
      if (L.has_syn) {
        d = tr.syn[now];
        tr.syn[next] = L.alpha[j] * tr.syn[now] + tr.I[now];
      }
      double mt = L.beta[j] * tr.mem[now] + d;
      if (L.kind == Layer::adlif) mt -= (1.0 - L.beta[j]) * tr.a[now];
      tr.mt[next] = mt;
      if (!spiking) {
        tr.mem[next] = mt;
        tr.out[now] = mt;
        tr.u[now] = mt;  // reported as u for readout layers
        continue;
      }
      switch (L.reset) {
        case Layer::multiply: tr.mem[next] = mt * (1.0 - s); break;
        case Layer::subtract: tr.mem[next] = mt - theta_of(L, j) * s; break;
        case Layer::none: tr.mem[next] = mt; break;
      }
      if (L.kind == Layer::alif) tr.a[next] = L.rho * tr.a[now] + s;
      if (L.kind == Layer::adlif)
        tr.a[next] = L.wrho[j] * tr.a[now] + (1.0 - L.wrho[j]) * L.wa[j] * tr.mem[next] + L.wb[j] * s;
      tr.out[now] = s;
    }
  }
  return tr;
}

// traces[b][l]
using Traces = std::vector<std::vector<LayerTrace>>;

inline Traces forward_all(const std::vector<Layer>& layers, const std::vector<std::vector<double>>& inputs,
                          std::size_t T, const Options& opt) {
  Traces traces(inputs.size());
  for (std::size_t b = 0; b < inputs.size(); ++b) {
    const std::vector<double>* z = &inputs[b];
    for (const Layer& L : layers) {
      traces[b].push_back(forward_layer(L, *z, T, opt));
      z = &traces[b].back().out;
    }
  }
  return traces;
}

// The batch loss. When g_out is given it receives dLoss/d(out) of every layer,
// g_out[b][l][t*n+j], from the loss and the regularisers (not yet from the
// layers above).
inline double batch_loss(const std::vector<Layer>& layers, const Traces& traces, const std::vector<int>& labels,
                         std::size_t T, const Options& opt,
                         std::vector<std::vector<std::vector<double>>>* g_out) {
  const std::size_t B = traces.size(), nl = layers.size(), C = layers.back().n;
  if (g_out) {
    g_out->assign(B, {});
    for (std::size_t b = 0; b < B; ++b)
      for (const Layer& L : layers) (*g_out)[b].push_back(std::vector<double>(T * L.n, 0.0));
  }
  double total = 0.0;

  // Per-sample loss.
  for (std::size_t b = 0; b < B; ++b) {
    const std::vector<double>& y = traces[b].back().out;
    const std::size_t c = static_cast<std::size_t>(labels[b]);
    if (opt.loss.score == Loss::each_step) {  // cross-entropy of softmax(y_t), mean over t
      for (std::size_t t = 0; t < T; ++t) {
        double mx = y[t * C];
        for (std::size_t k = 1; k < C; ++k) mx = std::max(mx, y[t * C + k]);
        double sum = 0.0;
        for (std::size_t k = 0; k < C; ++k) sum += std::exp(y[t * C + k] - mx);
        const double lse = mx + std::log(sum);
        total += (lse - y[t * C + c]) / static_cast<double>(T * B);
        if (g_out)
          for (std::size_t k = 0; k < C; ++k)
            (*g_out)[b][nl - 1][t * C + k] +=
                (std::exp(y[t * C + k] - lse) - (k == c ? 1.0 : 0.0)) / static_cast<double>(T * B);
      }
      continue;
    }
    std::vector<double> m(C, 0.0);
    std::vector<std::size_t> argmax(C, 0);
    for (std::size_t k = 0; k < C; ++k) {
      switch (opt.loss.score) {
        case Loss::max_over_time:
          m[k] = y[k];
          for (std::size_t t = 1; t < T; ++t)
            if (y[t * C + k] > m[k]) {
              m[k] = y[t * C + k];
              argmax[k] = t;
            }
          break;
        case Loss::mean_over_time:
          for (std::size_t t = 0; t < T; ++t) m[k] += y[t * C + k];
          m[k] /= static_cast<double>(T);
          break;
        case Loss::last_step:
          m[k] = y[(T - 1) * C + k];
          break;
        case Loss::spike_count:
          for (std::size_t t = 0; t < T; ++t) m[k] += y[t * C + k];
          break;
        case Loss::each_step:  // handled above
          break;
      }
    }

    double loss_b = 0.0;
    std::vector<double> dm(C, 0.0);
    if (opt.loss.criterion == Loss::squared_error) {
      for (std::size_t k = 0; k < C; ++k) {
        const double target = static_cast<double>(T) * (k == c ? opt.r_correct : opt.r_incorrect);
        const double e = m[k] - target;
        loss_b += e * e / static_cast<double>(C);
        dm[k] = 2.0 * e / static_cast<double>(C);
      }
    } else {  // cross-entropy
      const double mx = *std::max_element(m.begin(), m.end());
      double sum = 0.0;
      for (std::size_t k = 0; k < C; ++k) sum += std::exp(m[k] - mx);
      const double lse = mx + std::log(sum);
      loss_b = lse - m[c];
      for (std::size_t k = 0; k < C; ++k) dm[k] = std::exp(m[k] - lse) - (k == c ? 1.0 : 0.0);
    }
    total += loss_b / static_cast<double>(B);

    if (g_out) {
      std::vector<double>& g = (*g_out)[b][nl - 1];
      for (std::size_t k = 0; k < C; ++k) {
        const double gk = dm[k] / static_cast<double>(B);
        switch (opt.loss.score) {
          case Loss::max_over_time:
            g[argmax[k] * C + k] += gk;
            break;
          case Loss::mean_over_time:
            for (std::size_t t = 0; t < T; ++t) g[t * C + k] += gk / static_cast<double>(T);
            break;
          case Loss::last_step:
            g[(T - 1) * C + k] += gk;
            break;
          case Loss::spike_count:
            for (std::size_t t = 0; t < T; ++t) g[t * C + k] += gk;
            break;
          case Loss::each_step:  // handled above
            break;
        }
      }
    }
  }

  // Spike regularisers on every spiking layer except the last layer.
  for (std::size_t l = 0; l + 1 < nl; ++l) {
    const Layer& L = layers[l];
    if (!is_spiking(L)) continue;
    const std::size_t n = L.n;
    std::vector<double> S(n, 0.0);  // sum over batch and time
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t t = 0; t < T; ++t)
        for (std::size_t j = 0; j < n; ++j) S[j] += traces[b][l].s[t * n + j];
    for (std::size_t j = 0; j < n; ++j) {
      total += opt.reg_l1 * S[j];
      total += opt.reg_l2 * S[j] * S[j] / static_cast<double>(n);
    }
    if (g_out) {
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t t = 0; t < T; ++t)
          for (std::size_t j = 0; j < n; ++j)
            (*g_out)[b][l][t * n + j] += opt.reg_l1 + 2.0 * opt.reg_l2 * S[j] / static_cast<double>(n);
    }
  }
  return total;
}

// Reverse-mode pass through one layer of one sample. g_out: dLoss/d(out_t).
// Adds to the parameter gradients; when g_z is given adds dLoss/dz_t to it.
inline void backward_layer(const Layer& L, const std::vector<double>& z, const LayerTrace& tr,
                           const std::vector<double>& g_out, std::size_t T, const Options& opt,
                           std::vector<double>& dW, std::vector<double>& dV, std::vector<double>& dalpha,
                           std::vector<double>& dbeta, std::vector<double>& dtheta, std::vector<double>& dwrho,
                           std::vector<double>& dwa, std::vector<double>& dwb, std::vector<double>& ddelay,
                           std::vector<double>* g_z) {
  const std::size_t n = L.n, ni = L.n_in;
  const bool delayed = !L.delay.empty();
  std::vector<double> phi, dphi;
  if (delayed) delay_kernels(L, phi, dphi);
  const std::size_t K = L.delay_window;
  const bool spiking = is_spiking(L);
  const bool alif = L.kind == Layer::alif;
  const bool adlif = L.kind == Layer::adlif;

  // Adjoints of the states at t+1 (carried backwards in time), and of I_{t+1}.
  std::vector<double> G_mem(n, 0.0), G_syn(n, 0.0), G_a(n, 0.0), G_I(n, 0.0);
  // Adjoints being formed at step t.
  std::vector<double> g_mem(n), g_syn(n), g_a(n), g_I(n);

  for (std::size_t step = T; step-- > 0;) {
    const std::size_t t = step;
    for (std::size_t j = 0; j < n && L.kind == Layer::relu; ++j) {
      // G_mem holds dLoss/dh_{t+1}; h_{t+1} = beta*h_t + I_{t+1}.
      const std::size_t now = t * n + j;
      double g_o = g_out[now];
      if (L.recurrent)  // out_t feeds I_{t+1} through V
        for (std::size_t jj = 0; jj < n; ++jj) g_o += L.V[j * n + jj] * G_I[jj];
      const double g_h = (tr.u[now] > 0.0 ? g_o : 0.0) + L.beta[j] * G_mem[j];
      dbeta[j] += g_h * tr.mem[now];  // mem[now] = h_{t-1}
      g_I[j] = g_h;
      g_mem[j] = g_h;
      g_syn[j] = 0.0;
      g_a[j] = 0.0;
    }
    for (std::size_t j = 0; j < n && L.kind != Layer::relu; ++j) {
      const std::size_t now = t * n + j, next = (t + 1) * n + j;
      double g_mem_next = G_mem[j];  // dLoss/dmem_{t+1}
      double g_w_next = 0.0;         // dLoss/dw_{t+1} (adlif)
      if (adlif) {  // w_{t+1} = wrho*w_t + (1 - wrho)*wa*mem_{t+1} + wb*s_t
        g_w_next = G_a[j];
        g_mem_next += g_w_next * (1.0 - L.wrho[j]) * L.wa[j];
        dwrho[j] += g_w_next * (tr.a[now] - L.wa[j] * tr.mem[next]);
        dwa[j] += g_w_next * (1.0 - L.wrho[j]) * tr.mem[next];
        dwb[j] += g_w_next * tr.s[now];
      }
      double g_mt = 0.0;             // dLoss/dmt_{t+1}
      double g_s = 0.0;              // dLoss/ds_t
      double ga = 0.0;               // dLoss/da_t
      g_I[j] = 0.0;

      if (!spiking) {
        g_mem_next += g_out[now];  // y_t = mem_{t+1}
        g_mt = g_mem_next;
      } else {
        const double s = tr.s[now];
        g_s = g_out[now];
        if (L.recurrent)  // s_t feeds I_{t+1} through V
          for (std::size_t jj = 0; jj < n; ++jj) g_s += L.V[j * n + jj] * G_I[jj];
        switch (L.reset) {
          case Layer::multiply:
            g_mt = g_mem_next * (1.0 - s);
            if (!L.detach_reset) g_s += -g_mem_next * tr.mt[next];
            break;
          case Layer::subtract:
            g_mt = g_mem_next;
            if (!L.detach_reset) g_s += -theta_of(L, j) * g_mem_next;
            dtheta[j] -= g_mem_next * s;
            break;
          case Layer::none: g_mt = g_mem_next; break;
        }
        if (alif) {  // a_{t+1} = rho*a_t + s_t
          g_s += G_a[j];
          ga = L.rho * G_a[j];
        }
        if (adlif) {
          g_s += L.wb[j] * g_w_next;
          ga = L.wrho[j] * g_w_next;
        }
      }

      // mt_{t+1} = beta*mem_t + d_t (- (1 - beta)*w_t)
      dbeta[j] += g_mt * (tr.mem[now] + (adlif ? tr.a[now] : 0.0));
      if (adlif) ga -= (1.0 - L.beta[j]) * g_mt;
      double gm = L.beta[j] * g_mt;
      double gsyn = 0.0;
      if (L.has_syn) {
        gsyn = g_mt;  // d_t = syn_t
        // syn_{t+1} = alpha*syn_t + I_t
        dalpha[j] += G_syn[j] * tr.syn[now];
        gsyn += L.alpha[j] * G_syn[j];
        g_I[j] += G_syn[j];
      } else {
        g_I[j] += g_mt;  // d_t = I_t
      }

      if (spiking) {  // s_t = f(u_t), u_t = mem_t - threshold - b*a_t
        const double g_u = g_s * spike_derivative(tr.u[now], tr.s[now], opt);
        gm += g_u;
        dtheta[j] -= g_u;
        if (alif) ga += -L.b * g_u;
      }
      g_mem[j] = gm;
      g_syn[j] = gsyn;
      g_a[j] = ga;
    }

    // I_t = z_t W + s_{t-1} V (with delays: sum over tau of z_{t-tau} (W phi(tau)))
    if (delayed) {
      for (std::size_t tau = 0; tau < K && tau <= t; ++tau)
        for (std::size_t i = 0; i < ni; ++i)
          for (std::size_t j = 0; j < n; ++j) {
            const std::size_t k = (i * n + j) * K + tau;
            const double zi = z[(t - tau) * ni + i];
            dW[i * n + j] += zi * phi[k] * g_I[j];
            ddelay[i * n + j] += zi * L.W[i * n + j] * dphi[k] * g_I[j];
            if (g_z) (*g_z)[(t - tau) * ni + i] += L.W[i * n + j] * phi[k] * g_I[j];
          }
    } else {
      for (std::size_t i = 0; i < ni; ++i)
        for (std::size_t j = 0; j < n; ++j) dW[i * n + j] += z[t * ni + i] * g_I[j];
      if (g_z)
        for (std::size_t i = 0; i < ni; ++i)
          for (std::size_t j = 0; j < n; ++j) (*g_z)[t * ni + i] += L.W[i * n + j] * g_I[j];
    }
    if (L.kind != Layer::readout && L.recurrent && t > 0)
      for (std::size_t k = 0; k < n; ++k)
        for (std::size_t j = 0; j < n; ++j) dV[k * n + j] += tr.out[(t - 1) * n + k] * g_I[j];

    G_mem = g_mem;
    G_syn = g_syn;
    G_a = g_a;
    G_I = g_I;
  }
}

}  // namespace detail

// Forward only: the batch loss (for finite differences).
inline double loss(const std::vector<Layer>& layers, const std::vector<std::vector<double>>& inputs,
                   const std::vector<int>& labels, std::size_t T, const Options& opt) {
  detail::validate(layers, inputs, labels, T, opt);
  const detail::Traces traces = detail::forward_all(layers, inputs, T, opt);
  return detail::batch_loss(layers, traces, labels, T, opt, nullptr);
}

// Forward and BPTT: the batch loss, its gradients and the stored u and outputs.
inline Grads bptt(const std::vector<Layer>& layers, const std::vector<std::vector<double>>& inputs,
                  const std::vector<int>& labels, std::size_t T, const Options& opt) {
  detail::validate(layers, inputs, labels, T, opt);
  if (opt.forward == Options::heaviside)
    detail::require(static_cast<bool>(opt.surrogate_derivative), "heaviside mode needs surrogate_derivative");

  const std::size_t B = inputs.size(), nl = layers.size();
  const detail::Traces traces = detail::forward_all(layers, inputs, T, opt);
  std::vector<std::vector<std::vector<double>>> g_out;

  Grads g;
  g.loss = detail::batch_loss(layers, traces, labels, T, opt, &g_out);
  for (const Layer& L : layers) {
    g.dW.push_back(std::vector<double>(L.n_in * L.n, 0.0));
    g.dV.push_back(std::vector<double>(L.recurrent ? L.n * L.n : 0, 0.0));
    g.dalpha.push_back(std::vector<double>(L.n, 0.0));
    g.dbeta.push_back(std::vector<double>(L.n, 0.0));
    for (auto* d : {&g.dtheta, &g.dwrho, &g.dwa, &g.dwb}) d->push_back(std::vector<double>(L.n, 0.0));
    g.ddelay.push_back(std::vector<double>(L.delay.empty() ? 0 : L.n_in * L.n, 0.0));
  }
  g.u.assign(nl, std::vector<std::vector<double>>(B));
  g.dx.assign(B, {});
  g.out.assign(nl, std::vector<std::vector<double>>(B));

  for (std::size_t b = 0; b < B; ++b) {
    for (std::size_t l = nl; l-- > 0;) {
      const std::vector<double>& z = l == 0 ? inputs[b] : traces[b][l - 1].out;
      if (l == 0) g.dx[b].assign(inputs[b].size(), 0.0);
      std::vector<double>* g_z = l == 0 ? &g.dx[b] : &g_out[b][l - 1];
      detail::backward_layer(layers[l], z, traces[b][l], g_out[b][l], T, opt, g.dW[l], g.dV[l], g.dalpha[l],
                             g.dbeta[l], g.dtheta[l], g.dwrho[l], g.dwa[l], g.dwb[l], g.ddelay[l], g_z);
      g.u[l][b] = traces[b][l].u;
      g.out[l][b] = traces[b][l].out;
    }
  }
  return g;
}

}  // namespace volley::reference

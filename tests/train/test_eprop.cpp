// e-prop (include/volley/train/eprop.hpp) against BPTT (Net::backward, dense mode).
//
// Where theory says they coincide — one spiking layer WITHOUT recurrent weights, symmetric
// feedback (B = readout weights), loss mean_ce or last_ce — the e-prop gradient must EQUAL the
// BPTT gradient: the paths BPTT has and e-prop drops run through other neurons (recurrent
// weights, layers in between), and there are none; the neuron's own state (membrane, synaptic
// current, ALIF adaptation, and the reset, differentiated or not, since it is local to the
// neuron) is followed exactly by the eligibility traces, and the readout's leak by the κ filter
// (folded into the weights w_t). Checked within 1e-4 relative for LIF and ALIF, with and without
// synaptic currents, every reset mode, sparse (CSR) weights and the spike-count regularisers;
// in a two-layer stack the top spiking layer and the readout stay exact.
// With recurrent weights the two differ (e-prop is an approximation) but point the same way;
// random feedback gives a different, finite gradient; the online forward pass is Net::forward's
// to the bit; results do not depend on the thread count (Trainer and a whole training run from
// a file) nor on the block size; memory does not grow with T; unsupported settings are rejected
// with clear errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "support/toy_events.hpp"
#include "volley/error.hpp"
#include "volley/io/train_config.hpp"
#include "volley/io/training.hpp"
#include "volley/train/checkpoint.hpp"
#include "volley/train/eprop.hpp"
#include "volley/train/trainer.hpp"

namespace vt = volley::train;
using ::testing::HasSubstr;

namespace {

constexpr std::size_t kT = 40, kIn = 12;

vt::LayerConfig lif(std::size_t n) {
  vt::LayerConfig c;
  c.size = n;
  return c;
}
vt::LayerConfig readout(std::size_t n) {
  vt::LayerConfig c;
  c.kind = vt::LayerKind::readout;
  c.size = n;
  return c;
}

struct Case {
  vt::NetConfig net;
  vt::LossConfig loss;
  std::size_t samples = 3, classes = 4;
  double w_mean = 0.3, w_sd = 0.6;  // weights large enough that neurons cross threshold
  double v_mean = -0.1, v_sd = 0.4;
  vt::FeedbackKind feedback = vt::FeedbackKind::symmetric;
};

Case basic() {
  Case c;
  c.net.n_inputs = kIn;
  c.net.n_steps = kT;
  c.net.layers = {lif(8), readout(4)};
  c.net.backward = vt::BackwardMode::dense;  // every (neuron, step) pair: the full BPTT
  c.net.window = 0.0;
  c.loss.kind = vt::LossKind::mean_ce;
  return c;
}

// basic() with an ALIF hidden layer (τ_adapt 20 ms, b = 0.5) and a flatter surrogate, so that
// the adaptation path weighs in the gradient.
Case alif_case() {
  Case c = basic();
  c.net.surrogate.scale = 10.0f;
  c.net.layers[0].kind = vt::LayerKind::alif;
  c.net.layers[0].tau_adapt = 20e-3;
  c.net.layers[0].adapt_strength = 0.5;
  return c;
}

// basic() with an adLIF hidden layer (adaptation current: τ_adapt 20 ms, a = 2, b = 0.5) and a
// flatter surrogate.
Case adlif_case() {
  Case c = basic();
  c.net.surrogate.scale = 10.0f;
  vt::LayerConfig& h = c.net.layers[0];
  h.kind = vt::LayerKind::adlif;
  h.tau_adapt = 20e-3;
  h.adapt_coupling = 2.0;
  h.adapt_strength = 0.5;
  return c;
}

vt::StoredEvents make_data(const Case& c, unsigned seed) {
  return volley::test::bernoulli_data(kIn, kT, c.classes, c.samples, seed);
}

void randomise(vt::Net& net, const Case& c, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> w(c.w_mean, c.w_sd), v(c.v_mean, c.v_sd);
  for (auto& p : net.params()) {
    if (p.name.ends_with(".w"))
      for (float& x : p.value) x = static_cast<float>(w(rng));
    if (p.name.ends_with(".v"))
      for (float& x : p.value) x = static_cast<float>(v(rng));
  }
}

struct Pair {
  std::vector<std::string> names;
  std::vector<std::vector<float>> bptt, eprop;
  double loss_bptt = 0.0, loss_eprop = 0.0;
};

// The batch gradient of the same network and samples by BPTT and by e-prop (Trainer::gradients,
// two chunks so that the reduction is exercised).
Pair gradients(const Case& c, unsigned seed = 1) {
  vt::Net net(c.net);
  randomise(net, c, seed);
  net.update_delays();  // the taps hold w·φ
  const vt::StoredEvents data = make_data(c, seed + 100);
  std::vector<std::size_t> idx(c.samples);
  for (std::size_t k = 0; k < idx.size(); ++k) idx[k] = k;
  Pair p;
  for (const auto& q : net.params()) p.names.push_back(q.name);
  vt::TrainSettings st;
  st.batch_size = c.samples;
  st.chunk = 2;
  {
    vt::Trainer t(net, c.loss, vt::OptimizerConfig{}, st);
    p.bptt = t.gradients(data, idx, 0, &p.loss_bptt);
  }
  st.gradient = vt::GradientKind::eprop;
  st.feedback = c.feedback;
  vt::Trainer t(net, c.loss, vt::OptimizerConfig{}, st);
  p.eprop = t.gradients(data, idx, 0, &p.loss_eprop);
  return p;
}

std::size_t index_of(const Pair& p, const std::string& name) {
  for (std::size_t k = 0; k < p.names.size(); ++k)
    if (p.names[k] == name) return k;
  ADD_FAILURE() << "no parameter " << name;
  return 0;
}

double norm(const std::vector<float>& a) {
  double s = 0.0;
  for (float x : a) s += double(x) * x;
  return std::sqrt(s);
}
double relative_error(const std::vector<float>& got, const std::vector<float>& want) {
  double num = 0.0;
  for (std::size_t k = 0; k < got.size(); ++k) num += (double(got[k]) - want[k]) * (double(got[k]) - want[k]);
  return std::sqrt(num) / norm(want);
}
double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0.0;
  for (std::size_t k = 0; k < a.size(); ++k) s += double(a[k]) * b[k];
  return s / (norm(a) * norm(b));
}

// Every weight gradient of e-prop equals BPTT's within 1e-4 relative (||Δ|| / ||BPTT||), and the
// loss is the same number. Returns the largest relative error.
// `dynamics`: learned per-neuron parameters (layer0.beta, ...) checked as well.
double expect_equal(const Pair& p, const std::string& what, const std::vector<std::string>& only = {},
                    const std::vector<std::string>& dynamics = {}) {
  EXPECT_EQ(p.loss_eprop, p.loss_bptt) << what << ": the forward passes differ";
  double worst = 0.0;
  for (const std::string& n : dynamics) EXPECT_NE(std::find(p.names.begin(), p.names.end(), n), p.names.end()) << n;
  for (std::size_t k = 0; k < p.names.size(); ++k) {
    const std::string& n = p.names[k];
    const bool dyn = std::find(dynamics.begin(), dynamics.end(), n) != dynamics.end();
    if (!dyn && !n.ends_with(".w") && !n.ends_with(".v")) continue;
    if (!dyn && !only.empty() && std::find(only.begin(), only.end(), n) == only.end()) continue;
    EXPECT_EQ(p.bptt[k].size(), p.eprop[k].size());
    if (p.bptt[k].size() != p.eprop[k].size()) return 1.0;
    EXPECT_GT(norm(p.bptt[k]), 0.0) << what << " " << n << ": zero gradient, a useless case";
    const double e = relative_error(p.eprop[k], p.bptt[k]);
    EXPECT_LE(e, 1e-4) << what << " " << n;
    worst = std::max(worst, e);
  }
  return worst;
}

// Whether e-prop takes this loss on this network (Eprop::check), and its message if not.
std::string eprop_refusal(const vt::NetConfig& net, const vt::LossConfig& loss) {
  try {
    vt::Eprop::check(net, loss);
  } catch (const volley::ParameterError& e) {
    return e.what();
  }
  return {};
}

// The cases where theory says e-prop equals BPTT (one spiking layer without recurrent weights,
// symmetric feedback; the top layer of a deeper stack). Every registered loss that e-prop
// accepts and every registered surrogate is one.
struct ExactCase {
  std::string name;
  Case c;
  unsigned seed = 1;
  std::vector<std::string> only;  // the parameters that must be exact (empty: all weights)
  std::vector<std::string> dynamics = {};  // learned per-neuron parameters, exact too
};

std::vector<ExactCase> exact_cases() {
  std::vector<ExactCase> out;
  for (const vt::LossInfo& loss : vt::losses()) {
    Case c = basic();
    c.loss.kind = loss.value;
    if (loss.counts || !eprop_refusal(c.net, c.loss).empty()) continue;
    out.push_back({"lif_" + std::string(loss.name), c, 1});
    c.net.layers[0].tau_syn = 0.0;
    c.net.layers[1].tau_syn = 0.0;
    out.push_back({"lif_no_synaptic_current_" + std::string(loss.name), c, 2});
  }
  for (const auto& reset : vt::reset_modes()) {
    for (bool detach : {true, false}) {
      Case c = basic();
      c.net.surrogate.scale = 10.0f;  // flatter: the reset path weighs more
      c.net.layers[0].reset = reset.value;
      c.net.layers[0].detach_reset = detach;
      out.push_back({"reset_" + std::string(reset.name) + (detach ? "_detached" : "_differentiated"),
                     c, 3});
    }
  }
  {
    // Bellec's ALIF eligibility (ε^a) follows the adaptation through the neuron's own spikes,
    // so without recurrent weights nothing is dropped: e-prop is exact for ALIF too.
    Case c = alif_case();
    out.push_back({"alif", c, 4});
    c.net.layers[0].detach_reset = false;
    c.loss.kind = vt::LossKind::last_ce;
    out.push_back({"alif_reset_differentiated_last_ce", c, 5});
  }
  {
    // adlif (the adaptation current w, its trace ε^w per synapse): exact without recurrent
    // weights, for each reset, differentiated or not, with and without a synaptic current.
    Case c = adlif_case();
    vt::LayerConfig& h = c.net.layers[0];
    out.push_back({"adlif", c, 16});
    h.detach_reset = false;
    c.loss.kind = vt::LossKind::last_ce;
    out.push_back({"adlif_reset_differentiated_last_ce", c, 17});
    h.reset = vt::ResetMode::subtract;
    out.push_back({"adlif_subtract_reset_differentiated", c, 18});
    h.tau_syn = 0.0;
    h.reset = vt::ResetMode::none;
    out.push_back({"adlif_no_synaptic_current_no_reset", c, 19});
    c = basic();
    c.net.layers = {lif(10), readout(4)};
    c.net.layers[0].kind = vt::LayerKind::adlif;
    c.net.layers[0].adapt_coupling = 4.0;
    c.net.layers[0].density = 0.5;
    c.w_mean = 0.4;
    c.loss.reg_l1 = 2e-3;
    out.push_back({"adlif_sparse_weights_with_regulariser", c, 20});
    // Learned adlif dynamics: τ (α, β and ρ, every neuron its own), a and b, θ, with each
    // reset, differentiated or not, and with the regularisers.
    const std::vector<std::string> all = {"layer0.alpha", "layer0.beta", "layer0.rho", "layer0.a",
                                          "layer0.b", "layer0.theta"};
    for (const auto& reset : vt::reset_modes()) {
      for (bool detach : {true, false}) {
        Case t = adlif_case();
        vt::LayerConfig& a = t.net.layers[0];
        a.reset = reset.value;
        a.detach_reset = detach;
        a.learn_tau = true;
        a.tau_init = vt::TauInit::gamma;
        a.tau_cv = 0.5;
        a.learn_adapt = true;
        a.learn_threshold = true;
        out.push_back({"adlif_learned_dynamics_reset_" + std::string(reset.name) +
                           (detach ? "_detached" : "_differentiated"),
                       t, 40, {}, all});
      }
    }
    Case r = basic();
    r.net.surrogate.scale = 10.0f;
    r.net.layers[0].kind = vt::LayerKind::adlif;
    r.net.layers[0].adapt_coupling = 2.0;
    r.net.layers[0].learn_tau = true;  // one α, β, ρ for all: no per-synapse ε^s
    r.net.layers[0].learn_adapt = true;
    r.net.layers[0].tau_syn = 0.0;
    r.loss.reg_l1 = 2e-3;
    r.loss.reg_l2 = 1e-3;
    r.loss.kind = vt::LossKind::last_ce;
    out.push_back({"adlif_learned_dynamics_no_synaptic_current_regularisers_last_ce", r, 41, {},
                   {"layer0.beta", "layer0.rho", "layer0.a", "layer0.b"}});
  }
  {
    Case c = basic();
    c.net.layers = {lif(10), readout(4)};
    c.net.layers[0].density = 0.5;
    c.net.layers[1].density = 0.6;
    c.w_mean = 0.4;
    out.push_back({"sparse_weights", c, 6});
  }
  for (const vt::SurrogateInfo& sg : vt::surrogates()) {
    Case c = basic();
    c.net.surrogate = {sg.value, sg.default_scale};
    out.push_back({"surrogate_" + std::string(sg.name), c, 7});
  }
  {
    Case c = basic();
    c.net.forward = vt::ForwardMode::smooth;
    c.net.smooth_scale = 5.0;
    out.push_back({"smooth_forward", c, 8});
  }
  {
    Case c = basic();
    c.loss.reg_l1 = 2e-3;
    c.loss.reg_l2 = 1e-3;
    out.push_back({"spike_count_regularisers", c, 9});
  }
  {
    Case c = basic();
    c.net.layers = {lif(10), lif(8), readout(4)};
    c.w_mean = 0.4;
    out.push_back({"top_layer_of_two", c, 10, {"layer1.w", "layer2.w"}});
  }
  {
    // Learned dynamics (per-neuron traces, and per-synapse ε^s for the weights once every neuron
    // has its own α): learned τ with and without a synaptic current, learned thresholds with
    // every reset, ALIF with both, with the regularisers.
    Case c = basic();
    c.net.surrogate.scale = 10.0f;
    c.net.layers[0].learn_tau = true;
    c.net.layers[0].tau_init = vt::TauInit::gamma;  // every neuron its own α and β
    c.net.layers[0].tau_cv = 0.5;
    out.push_back({"learned_tau", c, 11, {}, {"layer0.alpha", "layer0.beta"}});
    c.net.layers[0].tau_syn = 0.0;
    out.push_back({"learned_tau_no_synaptic_current", c, 12, {}, {"layer0.beta"}});
    for (const auto& reset : vt::reset_modes()) {
      for (bool detach : {true, false}) {
        Case t = basic();
        t.net.surrogate.scale = 10.0f;
        t.net.layers[0].learn_threshold = true;
        t.net.layers[0].reset = reset.value;
        t.net.layers[0].detach_reset = detach;
        out.push_back({"learned_threshold_reset_" + std::string(reset.name) +
                           (detach ? "_detached" : "_differentiated"),
                       t, 13, {}, {"layer0.theta"}});
      }
    }
    Case a = alif_case();
    a.net.layers[0].learn_tau = true;
    a.net.layers[0].learn_threshold = true;
    a.net.layers[0].detach_reset = false;
    out.push_back({"alif_learned_tau_and_threshold", a, 14, {}, {"layer0.alpha", "layer0.beta", "layer0.theta"}});
    a.loss.reg_l1 = 2e-3;
    a.loss.reg_l2 = 1e-3;
    out.push_back({"alif_learned_dynamics_with_regularisers", a, 15, {}, {"layer0.alpha", "layer0.beta", "layer0.theta"}});
  }
  {
    // Delays of the input weights: each synapse's drive is its delayed, Gaussian-spread input,
    // and learned delays get traces of their own (w·Σ dφ·ε^d). Windows of 6 and 11 steps so
    // that delays reach across e-prop's blocks; σ wide (every tap) and narrow; whole-step
    // delays (weights only); with adlif, learned τ (per-synapse ε^s), the regularisers, sparse
    // weights and a differentiated reset.
    auto delayed = [](Case c, double max_delay, double sigma) {
      vt::LayerConfig& h = c.net.layers[0];
      h.max_delay = max_delay;
      h.delay_sigma = sigma;
      h.learn_delay = sigma > 0.0;
      return c;
    };
    const std::vector<std::string> d = {"layer0.delay"};
    out.push_back({"learned_delays_wide", delayed(basic(), 10e-3, 3e-3), 21, {}, d});
    out.push_back({"learned_delays_narrow", delayed(basic(), 5e-3, 0.6e-3), 22, {}, d});
    out.push_back({"whole_step_delays", delayed(basic(), 10e-3, 0.0), 23});
    Case wide_layer = basic();  // rows of 37: the 16-synapse vector paths and their tails
    wide_layer.net.layers[0].size = 37;
    wide_layer.w_mean = 0.15;
    out.push_back({"learned_delays_narrow_37_neurons", delayed(wide_layer, 5e-3, 0.6e-3), 28, {}, d});
    out.push_back({"whole_step_delays_37_neurons", delayed(wide_layer, 10e-3, 0.0), 29});
    wide_layer.net.layers[0].size = 70;  // σ over the whole window: 64 synapses at a time
    wide_layer.w_mean = 0.1;
    out.push_back({"learned_delays_wide_70_neurons", delayed(wide_layer, 10e-3, 3e-3), 30, {}, d});
    Case r = delayed(basic(), 5e-3, 1.5e-3);
    r.net.surrogate.scale = 10.0f;
    r.net.layers[0].detach_reset = false;
    r.net.layers[0].density = 0.5;
    r.loss.reg_l1 = 2e-3;
    r.loss.reg_l2 = 1e-3;
    r.loss.kind = vt::LossKind::last_ce;
    out.push_back({"learned_delays_sparse_reset_regularisers_last_ce", r, 24, {}, d});
    // Rows without synapses (an input that reaches no neuron of a very sparse layer, the last
    // ones among them) are live from their events but have nothing to drive: once read past the
    // end of the taps.
    Case e = delayed(basic(), 5e-3, 1.5e-3);
    e.net.layers[0].density = 0.12;
    e.w_mean = 1.5;
    out.push_back({"learned_delays_rows_without_synapses", e, 31, {}, d});
    out.push_back({"learned_delays_adlif", delayed(adlif_case(), 5e-3, 1.5e-3), 25, {}, d});
    Case al = delayed(alif_case(), 5e-3, 1.5e-3);
    out.push_back({"learned_delays_alif", al, 26, {}, d});
    Case t = delayed(basic(), 5e-3, 1.5e-3);
    t.net.layers[0].learn_tau = true;
    t.net.layers[0].tau_init = vt::TauInit::gamma;
    t.net.layers[0].tau_cv = 0.5;
    out.push_back({"learned_delays_and_tau", t, 27, {}, {"layer0.delay", "layer0.alpha", "layer0.beta"}});
  }
  return out;
}

}  // namespace

class EpropExactCase : public testing::TestWithParam<ExactCase> {};

TEST_P(EpropExactCase, EqualsBptt) {
  const ExactCase& e = GetParam();
  expect_equal(gradients(e.c, e.seed), e.name, e.only, e.dynamics);
}

INSTANTIATE_TEST_SUITE_P(Eprop, EpropExactCase, testing::ValuesIn(exact_cases()),
                         [](const testing::TestParamInfo<ExactCase>& info) { return info.param.name; });

// The case above has what it is for: inputs whose rows hold no synapse, the last one among them.
TEST(Eprop, SparseDelayCaseHasRowsWithoutSynapses) {
  for (const ExactCase& e : exact_cases()) {
    if (e.name != "learned_delays_rows_without_synapses") continue;
    const vt::Net net(e.c.net);
    const vt::WeightLayout& W = net.input_weights(0);
    ASSERT_FALSE(W.dense);
    ASSERT_EQ(W.row_ptr.size(), kIn + 1);
    EXPECT_EQ(W.row_ptr[kIn - 1], W.row_ptr[kIn]) << "the last input has synapses";
    EXPECT_GT(W.row_ptr[kIn], 0u);
    return;
  }
  FAIL() << "no such case";
}

// One number for the estimator: the worst relative error over every exact case above.
TEST(Eprop, WorstRelativeErrorOverExactCases) {
  double worst = 0.0;
  std::string where;
  const std::vector<ExactCase> cases = exact_cases();
  for (const ExactCase& e : cases) {
    const double err = expect_equal(gradients(e.c, e.seed), e.name, e.only);
    if (err >= worst) worst = err, where = e.name;
  }
  std::printf("worst ||e-prop − BPTT|| / ||BPTT|| over %zu exact cases: %.3g (%s)\n", cases.size(),
              worst, where.c_str());
  EXPECT_GT(worst, 0.0) << "nothing was compared";
  EXPECT_LE(worst, 1e-4) << "in case " << where;
}

// Every registered loss is either an exact case above or refused by name: a new loss cannot be
// silently unsupported.
TEST(Eprop, EveryLossIsTestedOrRefusedByName) {
  std::size_t accepted = 0;
  for (const vt::LossInfo& loss : vt::losses()) {
    Case c = basic();
    if (loss.counts) c.net.layers = {lif(8), lif(4)};
    c.loss.kind = loss.value;
    const std::string refusal = eprop_refusal(c.net, c.loss);
    if (refusal.empty()) {
      ++accepted;
      EXPECT_FALSE(loss.counts) << loss.name;
    } else {
      EXPECT_THAT(refusal, HasSubstr(std::string(loss.name)));
    }
  }
  EXPECT_GE(accepted, 2u);  // mean_ce, last_ce
}

TEST(Eprop, AdaptationMattersInTheAlifCase) {
  // With b = 0 the gradient is a different one: the ALIF case tests the adaptation path.
  Case c = alif_case();
  c.net.layers[0].detach_reset = false;
  c.loss.kind = vt::LossKind::last_ce;
  Case d = c;
  d.net.layers[0].adapt_strength = 0.0;
  const Pair a = gradients(c, 5), z = gradients(d, 5);
  EXPECT_GT(relative_error(a.eprop[0], z.eprop[0]), 1e-3);
}

TEST(Eprop, TopLayerOfADeeperStackStaysExact) {
  // Two spiking layers, no recurrence: the top one's inputs (the lower layer's spikes) do not
  // depend on its weights, so its gradient and the readout's are exact; the lower layer gets a
  // random-feedback signal and differs from BPTT.
  Case c = basic();
  c.net.layers = {lif(10), lif(8), readout(4)};
  c.w_mean = 0.4;
  const Pair p = gradients(c, 10);
  expect_equal(p, "two layers", {"layer1.w", "layer2.w"});
  const std::size_t k = index_of(p, "layer0.w");
  EXPECT_GT(relative_error(p.eprop[k], p.bptt[k]), 1e-2);
  EXPECT_TRUE(std::isfinite(norm(p.eprop[k])));
  EXPECT_GT(norm(p.eprop[k]), 0.0);
}

TEST(Eprop, ApproximatesBpttWithRecurrence) {
  // With recurrent weights e-prop drops the paths through the other neurons: a measurable
  // difference, but the estimate points the same way as the true gradient.
  for (auto kind : {vt::LayerKind::lif, vt::LayerKind::alif}) {
    Case c = basic();
    c.samples = 8;
    c.net.layers = {lif(16), readout(4)};
    c.net.layers[0].kind = kind;
    c.net.layers[0].recurrent = true;
    c.net.layers[0].tau_adapt = 20e-3;
    c.net.layers[0].adapt_strength = 0.5;
    c.v_mean = 0.0;
    c.v_sd = 0.8;
    c.net.surrogate.scale = 10.0f;
    const Pair p = gradients(c, 11);
    EXPECT_EQ(p.loss_eprop, p.loss_bptt);
    const std::size_t w = index_of(p, "layer0.w"), v = index_of(p, "layer0.v"),
                      o = index_of(p, "layer1.w");
    const double err = relative_error(p.eprop[w], p.bptt[w]);
    const double cw = cosine(p.eprop[w], p.bptt[w]), cv = cosine(p.eprop[v], p.bptt[v]);
    std::printf("recurrent %s: ||e-prop − BPTT|| / ||BPTT|| = %.3f, cosine input weights %.3f, "
                "recurrent weights %.3f\n",
                kind == vt::LayerKind::lif ? "lif" : "alif", err, cw, cv);
    EXPECT_GT(err, 1e-3) << "e-prop equals BPTT with recurrence: the recurrence is not tested";
    EXPECT_GT(cw, 0.5);
    EXPECT_GT(cv, 0.0);
    // The readout's gradient is still exact.
    EXPECT_LE(relative_error(p.eprop[o], p.bptt[o]), 1e-4);
  }
}

TEST(Eprop, RandomFeedbackGivesADifferentFiniteGradient) {
  Case c = basic();
  c.feedback = vt::FeedbackKind::random;
  const Pair p = gradients(c, 12);
  const std::size_t w = index_of(p, "layer0.w"), o = index_of(p, "layer1.w");
  EXPECT_GT(relative_error(p.eprop[w], p.bptt[w]), 1e-2);
  for (float x : p.eprop[w]) ASSERT_TRUE(std::isfinite(x));
  EXPECT_GT(norm(p.eprop[w]), 0.0);
  EXPECT_LE(relative_error(p.eprop[o], p.bptt[o]), 1e-4);  // the readout is exact regardless

  // The matrices: fixed (the same for the same seed), scaled like the readout's initial weights.
  vt::Net net(c.net);
  vt::LossConfig loss;
  loss.kind = vt::LossKind::mean_ce;
  const vt::Eprop a(net, loss, {vt::FeedbackKind::random, 1}), b(net, loss, {vt::FeedbackKind::random, 1}),
      d(net, loss, {vt::FeedbackKind::random, 2}), s(net, loss, {vt::FeedbackKind::symmetric, 1});
  EXPECT_EQ(a.feedback(0), b.feedback(0));
  EXPECT_NE(a.feedback(0), d.feedback(0));
  EXPECT_EQ(s.feedback(0), net.params()[net.input_weights(1).param].value);
  const auto B = a.feedback(0);
  double sq = 0.0;
  for (float x : B) sq += double(x) * x;
  const double sd = 7.0 * (1.0 - std::exp(-1e-3 / 10e-3)) / std::sqrt(8.0);
  EXPECT_NEAR(std::sqrt(sq / B.size()), sd, 0.35 * sd);
}

TEST(Eprop, ForwardIsNetForward) {
  // The online forward pass gives the same numbers as Net::forward: same loss and prediction,
  // bit for bit, for every sample of a recurrent ALIF network.
  Case c = basic();
  c.samples = 6;
  c.net.layers = {lif(12), lif(8), readout(4)};
  c.net.layers[0].kind = vt::LayerKind::alif;
  c.net.layers[1].recurrent = true;
  c.net.layers[1].reset = vt::ResetMode::subtract;
  vt::Net net(c.net);
  randomise(net, c, 13);
  const auto data = make_data(c, 113);
  const vt::Eprop ep(net, c.loss);
  vt::EpropWorkspace ws;
  vt::Workspace fw;
  vt::SampleRecord rec;
  vt::SampleEvents ev;
  for (std::size_t s = 0; s < data.size(); ++s) {
    data.fill(s, 0, ev);
    auto grads = net.zero_grads();
    const vt::SampleLoss a = ep.sample(ev, data.label(s), 1.0f, nullptr, grads, ws);
    net.forward(ev, rec, fw, false);
    const vt::SampleLoss b = vt::sample_loss(c.loss, net, rec, data.label(s), 1.0f, nullptr);
    EXPECT_EQ(a.loss, b.loss) << s;
    EXPECT_EQ(a.predicted, b.predicted) << s;
    for (std::size_t l = 0; l < 2; ++l) EXPECT_EQ(ws.spikes[l], double(rec.layers[l].idx.size())) << s;
  }
}

TEST(Eprop, BlockSizeDoesNotChangeTheNumbers) {
  // The eligibility updates run K steps at a time per presynaptic row; every synapse sees the
  // same operations in the same order for any K, so the gradients are bit-identical.
  Case c = basic();
  c.net.layers = {lif(12), lif(8), readout(4)};
  c.net.layers[0].kind = vt::LayerKind::alif;
  c.net.layers[0].detach_reset = false;
  c.net.layers[1].recurrent = true;
  c.net.layers[1].density = 0.5;
  vt::Net net(c.net);
  randomise(net, c, 14);
  const auto data = make_data(c, 114);
  vt::SampleEvents ev;
  std::vector<std::vector<std::vector<float>>> out;
  for (std::size_t block : {std::size_t{1}, std::size_t{7}, std::size_t{32}, std::size_t{1000}}) {
    const vt::Eprop ep(net, c.loss, {vt::FeedbackKind::symmetric, 1, block});
    vt::EpropWorkspace ws;
    auto grads = net.zero_grads();
    for (std::size_t s = 0; s < data.size(); ++s) {
      data.fill(s, 0, ev);
      ep.sample(ev, data.label(s), 0.5f, nullptr, grads, ws);
    }
    out.push_back(grads);
  }
  for (std::size_t k = 1; k < out.size(); ++k) EXPECT_EQ(out[k], out[0]) << k;
  EXPECT_GT(norm(out[0][0]), 0.0);
}

TEST(Eprop, SameSeedSameWeightsForAnyThreadCount) {
  const auto data = volley::test::toy_data(120, 3);
  auto train = [&](int threads) {
    vt::NetConfig nc;
    nc.n_inputs = 20;
    nc.n_steps = 30;
    vt::LayerConfig h = lif(16);
    h.recurrent = true;
    h.weight_scale = 20.0;
    nc.layers = {h, readout(2)};
    vt::Net net(nc);
    vt::LossConfig loss;
    loss.kind = vt::LossKind::mean_ce;
    loss.reg_l2 = 1e-4;
    vt::TrainSettings st;
    st.threads = threads;
    st.batch_size = 40;
    st.chunk = 8;
    st.gradient = vt::GradientKind::eprop;
    st.feedback = vt::FeedbackKind::random;
    vt::OptimizerConfig opt;
    opt.lr = 5e-3;
    vt::Trainer trainer(net, loss, opt, st);
    for (int e = 0; e < 2; ++e) {
      const vt::EpochStats s = trainer.train_epoch(data, e);
      EXPECT_TRUE(s.finite);
      EXPECT_EQ(s.active_fraction, 0.0);
    }
    return net.params();
  };
  const auto a = train(1), b = train(2), c = train(1);
  for (std::size_t k = 0; k < a.size(); ++k) {
    EXPECT_EQ(a[k].value, b[k].value) << a[k].name;
    EXPECT_EQ(a[k].value, c[k].value) << a[k].name;
  }
}

TEST(Eprop, LearnsASimpleSpikePatternTask) {
  const auto data = volley::test::toy_data(200, 3);
  vt::NetConfig nc;
  nc.n_inputs = 20;
  nc.n_steps = 30;
  vt::LayerConfig h = lif(16);
  h.recurrent = true;
  h.weight_scale = 20.0;
  nc.layers = {h, readout(2)};
  vt::Net net(nc);
  vt::LossConfig loss;
  loss.kind = vt::LossKind::mean_ce;
  vt::TrainSettings st;
  st.batch_size = 40;
  st.gradient = vt::GradientKind::eprop;
  vt::OptimizerConfig opt;
  opt.lr = 5e-3;
  vt::Trainer trainer(net, loss, opt, st);
  const double before = trainer.evaluate(data).accuracy;
  for (int e = 0; e < 15; ++e) trainer.train_epoch(data, e);
  const double after = trainer.evaluate(data).accuracy;
  EXPECT_GT(after, 0.95) << "before training: " << before;
}

TEST(Eprop, MemoryDoesNotGrowWithTheNumberOfSteps) {
  // The estimator's state for T = 100 and T = 800: only the T scalars w_t grow (one float a
  // step, as the input's own step offsets); BPTT's dense record grows by T × N floats per
  // spiking layer.
  auto bytes = [](std::size_t T, bool bptt) {
    vt::NetConfig nc;
    nc.n_inputs = 50;
    nc.n_steps = T;
    vt::LayerConfig h = lif(64);
    h.recurrent = true;
    h.kind = vt::LayerKind::alif;
    h.weight_scale = 30.0;
    nc.layers = {h, readout(4)};
    nc.backward = vt::BackwardMode::dense;
    vt::Net net(nc);
    std::vector<std::uint32_t> steps, units;
    std::vector<float> values;
    for (std::size_t t = 0; t < T; t += 3) {
      steps.push_back(static_cast<std::uint32_t>(t));
      units.push_back(static_cast<std::uint32_t>(t % 50));
      values.push_back(1.0f);
    }
    vt::SampleEvents ev;
    vt::build_sample(steps, units, values, T, ev);
    vt::LossConfig loss;
    loss.kind = vt::LossKind::mean_ce;
    auto grads = net.zero_grads();
    if (!bptt) {
      vt::Eprop ep(net, loss);
      vt::EpropWorkspace ws;
      ep.sample(ev, 0, 1.0f, nullptr, grads, ws);
      return ws.bytes();
    }
    vt::Workspace w;
    vt::SampleRecord rec;
    net.forward(ev, rec, w, true);
    std::size_t n = 0;
    for (const auto& r : rec.layers) n += (r.u.capacity() + r.y.capacity()) * sizeof(float);
    return n;
  };
  const std::size_t e100 = bytes(100, false), e800 = bytes(800, false);
  EXPECT_EQ(e800 - e100, 700 * sizeof(float));
  EXPECT_GE(bytes(800, true) - bytes(100, true), 700 * 64 * sizeof(float));
}

TEST(Eprop, RejectsUnsupportedSettings) {
  vt::Net net(basic().net);
  vt::LossConfig loss;
  loss.kind = vt::LossKind::max_ce;
  try {
    vt::Eprop ep(net, loss);
    FAIL() << "max_ce accepted";
  } catch (const volley::ParameterError& e) {
    EXPECT_THAT(e.what(), HasSubstr("max_ce"));
  }
  vt::NetConfig counts = basic().net;
  counts.layers = {lif(8), lif(4)};
  loss.kind = vt::LossKind::count_ce;
  EXPECT_THROW(vt::Eprop::check(counts, loss), volley::ParameterError);
  // Learned τ and θ of lif, alif and adlif layers are taken, and adlif layers' learned a and b;
  // the readout's learned τ (one fixed readout filter) and delays are refused by name.
  loss.kind = vt::LossKind::mean_ce;
  vt::NetConfig taken = basic().net;
  taken.layers[0].learn_tau = true;
  taken.layers[0].learn_threshold = true;
  EXPECT_NO_THROW(vt::Eprop::check(taken, loss));
  vt::NetConfig tau = basic().net;
  tau.layers[1].learn_tau = true;
  vt::NetConfig adlif = basic().net;
  adlif.layers[0].kind = vt::LayerKind::adlif;
  EXPECT_NO_THROW(vt::Eprop::check(adlif, loss));
  adlif.layers[0].learn_adapt = true;
  adlif.layers[0].learn_tau = true;
  adlif.layers[0].learn_threshold = true;
  EXPECT_NO_THROW(vt::Eprop::check(adlif, loss));
  vt::NetConfig delayed = basic().net;  // delays on a spiking layer are taken, not on the readout
  delayed.layers[0].max_delay = 5e-3;
  delayed.layers[0].delay_sigma = 1e-3;
  delayed.layers[0].learn_delay = true;
  EXPECT_NO_THROW(vt::Eprop::check(delayed, loss));
  delayed.layers[1].max_delay = 5e-3;
  for (const auto& [cfg, what] : {std::pair{tau, "readout): learn_tau"},
                                  std::pair{delayed, "layer 1 (readout): max_delay"}}) {
    try {
      vt::Eprop::check(cfg, loss);
      ADD_FAILURE() << what << " accepted";
    } catch (const volley::ParameterError& e) {
      EXPECT_THAT(e.what(), HasSubstr(what));
    }
  }
  // The trainer refuses too.
  vt::TrainSettings st;
  st.gradient = vt::GradientKind::eprop;
  loss.kind = vt::LossKind::max_ce;
  EXPECT_THROW(vt::Trainer(net, loss, vt::OptimizerConfig{}, st), volley::ParameterError);
}

TEST(Eprop, TrainingFileSettings) {
  const std::string base = R"(
[data]
dataset = "fashion-mnist"
[[layers]]
type = "lif"
size = 20
recurrent = true
[[layers]]
type = "readout"
size = 10
[loss]
kind = "mean_ce"
)";
  const auto cfg = volley::io::load_train_string(
      base + "[training]\ngradient = \"eprop\"\nfeedback = \"random\"\n", "eprop.toml");
  EXPECT_EQ(cfg.training.gradient, vt::GradientKind::eprop);
  EXPECT_EQ(cfg.training.feedback, vt::FeedbackKind::random);
  EXPECT_EQ(volley::io::load_train_string(base, "plain.toml").training.gradient,
            vt::GradientKind::bptt);
  auto error = [&](const std::string& text) {
    try {
      volley::io::load_train_string(text, "bad.toml");
    } catch (const volley::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(error(base + "[training]\ngradient = \"eprop\"\nfeedback = \"symetric\"\n"),
              HasSubstr("training.feedback: unknown feedback 'symetric' (expected one of 'symmetric', 'random')"));
  EXPECT_THAT(error(base + "[training]\ngradient = \"e-prop\"\n"),
              HasSubstr("training.gradient: unknown gradient method 'e-prop' (expected one of 'bptt', 'eprop')"));
  EXPECT_THAT(error(base + "[training]\nfeedback = \"random\"\n"),
              HasSubstr("training.feedback: is used only with gradient = \"eprop\""));
  std::string max_ce = base;
  max_ce.replace(max_ce.find("mean_ce"), 7, "max_ce");
  const std::string e = error(max_ce + "[training]\ngradient = \"eprop\"\n");
  EXPECT_THAT(e, HasSubstr("bad.toml"));
  EXPECT_THAT(e, HasSubstr("training.gradient"));
  EXPECT_THAT(e, HasSubstr("'max_ce' is not supported"));
}

TEST(Eprop, TrainingRunFromAFileDoesNotDependOnThreads) {
  // What `volley train FILE --out DIR` does, on the generated IPD task (no data files): metrics
  // (active_fraction 0), checkpoint, summary; the same weights with 1 and 2 threads.
  const std::string text = R"(
[data]
dataset = "ipd"
fibres = 20
classes = 4
train_samples = 64
test_samples = 32
[network]
steps = 50
[[layers]]
type = "alif"
size = 16
tau_syn = "0 ms"
recurrent = true
weight_scale = 50.0
[[layers]]
type = "readout"
size = 4
[loss]
kind = "last_ce"
[optimizer]
lr = 0.01
[training]
epochs = 2
batch_size = 16
gradient = "eprop"
feedback = "random"
)";
  namespace fs = std::filesystem;
  std::vector<volley::train::Checkpoint> ck;
  for (int threads : {1, 2}) {
    volley::io::TrainOptions o;
    o.threads = threads;
    const auto cfg = volley::io::load_train_string(text, "ipd_eprop.toml", o);
    const fs::path dir = fs::temp_directory_path() / ("volley_test_eprop_" + std::to_string(threads));
    fs::remove_all(dir);
    volley::io::FitOptions fo;
    fo.out_dir = dir.string();
    std::FILE* null = std::fopen("/dev/null", "w");
    fo.log = null;
    const auto r = volley::io::fit(cfg, fo);
    std::fclose(null);
    EXPECT_FALSE(r.stopped) << r.message;
    EXPECT_EQ(r.epochs_done, 2);
    std::ifstream metrics(dir / "metrics.jsonl");
    std::string line;
    int lines = 0;
    while (std::getline(metrics, line)) {
      ++lines;
      EXPECT_THAT(line, HasSubstr("\"active_fraction\":0.0"));
    }
    EXPECT_EQ(lines, 2);
    EXPECT_TRUE(fs::exists(dir / "summary.json"));
    ck.push_back(volley::train::read_checkpoint((dir / "checkpoint.bin").string()));
    fs::remove_all(dir);
  }
  ASSERT_EQ(ck[0].params.size(), ck[1].params.size());
  for (std::size_t k = 0; k < ck[0].params.size(); ++k)
    EXPECT_EQ(ck[0].params[k].second, ck[1].params[k].second) << ck[0].params[k].first;
}

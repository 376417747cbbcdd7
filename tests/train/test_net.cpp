// The training engine's gradients against the independent double-precision BPTT in
// reference_bptt.hpp (itself checked against finite differences in test_reference_bptt.cpp):
// dense mode equals the reference within 1e-4 relative; the active-set mode with an unbounded
// window equals the dense mode exactly; with a window w it equals the reference whose surrogate
// is zeroed outside the window. Every registered loss and surrogate is a case of its own (from
// the registries), so a new one is checked without touching this file.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <type_traits>

#include "train/reference_bptt.hpp"
#include "support/toy_events.hpp"
#include "volley/error.hpp"
#include "volley/train/loss.hpp"
#include "volley/train/net.hpp"
#include "volley/train/surrogate.hpp"
#include "volley/train/trainer.hpp"
#include "volley/train/twin.hpp"

namespace vt = volley::train;
namespace ref = volley::reference;

namespace {

constexpr std::size_t kT = 40, kIn = 12, kB = 3;

std::string fmt_name(std::size_t l, const char* what) {
  return "layer" + std::to_string(l) + "." + what;
}

struct Case {
  vt::NetConfig net;
  vt::LossConfig loss;
  double w_mean = 0.3, w_sd = 0.6;  // weights large enough that neurons cross threshold
  double v_mean = -0.1, v_sd = 0.4;
  std::size_t classes = 4;
  vt::DelayLayout delay_layout = vt::DelayLayout::automatic;
  double p_event = 0.25;  // probability of an input event per (input, step)
};

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

Case basic() {
  Case c;
  c.net.n_inputs = kIn;
  c.net.n_steps = kT;
  c.net.dt = 1e-3;
  c.net.layers = {lif(8), readout(4)};
  c.net.backward = vt::BackwardMode::dense;
  c.net.window = 0.0;
  return c;
}

vt::StoredEvents make_data(const Case& c, unsigned seed) {
  return volley::test::bernoulli_data(kIn, kT, c.classes, kB, seed, c.p_event);
}

// Dense double matrix of a weight layout's values (0 where there is no synapse).
std::vector<double> dense_of(const vt::WeightLayout& L, const std::vector<float>& v) {
  std::vector<double> out(L.n_pre * L.n_post, 0.0);
  for (std::size_t i = 0; i < L.n_pre; ++i) {
    if (L.dense) {
      for (std::size_t j = 0; j < L.n_post; ++j) out[i * L.n_post + j] = v[i * L.n_post + j];
    } else {
      for (std::uint32_t k = L.row_ptr[i]; k < L.row_ptr[i + 1]; ++k)
        out[i * L.n_post + L.cols[k]] = v[k];
    }
  }
  return out;
}

std::size_t param_index(const vt::Net& net, const std::string& name) {
  for (std::size_t k = 0; k < net.params().size(); ++k)
    if (net.params()[k].name == name) return k;
  ADD_FAILURE() << "no parameter " << name;
  return 0;
}

double surrogate_d(const vt::SurrogateConfig& s, double u) {
  return vt::with_surrogate(s, [u](const auto& sg) { return double(sg.derivative(float(u))); });
}

struct Result {
  std::vector<std::vector<float>> grads;
  double loss;
  ref::Grads reference;
  double worst_relative_error = 0.0;  // max over the checked arrays of ||got − want||/||want||
};

ref::Layer::Kind reference_kind(vt::LayerKind kind) {
  switch (kind) {
    case vt::LayerKind::lif: return ref::Layer::lif;
    case vt::LayerKind::alif: return ref::Layer::alif;
    case vt::LayerKind::adlif: return ref::Layer::adlif;
    case vt::LayerKind::readout: return ref::Layer::readout;
    case vt::LayerKind::relu: return ref::Layer::relu;
  }
  ADD_FAILURE() << "layer type " << vt::layer_kinds().name_of(kind) << " has no reference";
  return ref::Layer::lif;
}

ref::Layer::Reset reference_reset(vt::ResetMode mode) {
  switch (mode) {
    case vt::ResetMode::multiply: return ref::Layer::multiply;
    case vt::ResetMode::subtract: return ref::Layer::subtract;
    case vt::ResetMode::none: return ref::Layer::none;
  }
  ADD_FAILURE() << "reset mode " << vt::reset_modes().name_of(mode) << " has no reference";
  return ref::Layer::none;
}

Result run(const Case& c, unsigned seed = 1, double window_for_reference = -1) {
  vt::Net net(c.net);
  // Custom weights: random, strong enough to make the hidden layers spike.
  std::mt19937 rng(seed);
  std::normal_distribution<double> w(c.w_mean, c.w_sd), v(c.v_mean, c.v_sd);
  for (auto& p : net.params()) {
    if (p.name.ends_with(".w"))
      for (float& x : p.value) x = static_cast<float>(w(rng));
    if (p.name.ends_with(".v"))
      for (float& x : p.value) x = static_cast<float>(v(rng));
  }
  net.set_delay_layout(c.delay_layout);  // the delayed layers' kernels follow the new weights
  const vt::StoredEvents data = make_data(c, seed + 100);
  vt::TrainSettings st;
  st.batch_size = kB;
  st.chunk = 2;  // two chunks: the reduction is exercised
  vt::Trainer trainer(net, c.loss, vt::OptimizerConfig{}, st);
  Result r;
  r.grads = trainer.gradients(data, {0, 1, 2}, 0, &r.loss);

  std::vector<ref::Layer> layers;
  for (std::size_t l = 0; l < c.net.layers.size(); ++l) {
    const vt::LayerConfig& lc = c.net.layers[l];
    ref::Layer L;
    L.kind = reference_kind(lc.kind);
    L.n_in = net.input_weights(l).n_pre;
    L.n = lc.size;
    L.has_syn = lc.tau_syn > 0.0 && lc.kind != vt::LayerKind::relu;
    L.recurrent = lc.recurrent;
    L.threshold = lc.threshold;
    L.reset = reference_reset(lc.reset);
    L.detach_reset = lc.detach_reset;
    if (lc.kind == vt::LayerKind::alif) {
      L.rho = static_cast<float>(std::exp(-c.net.dt / lc.tau_adapt));
      L.b = lc.adapt_strength;
    }
    L.W = dense_of(net.input_weights(l), net.params()[param_index(net, fmt_name(l, "w"))].value);
    if (lc.recurrent)
      L.V = dense_of(net.recurrent_weights(l), net.params()[param_index(net, fmt_name(l, "v"))].value);
    for (float a : net.params()[param_index(net, fmt_name(l, "alpha"))].value) L.alpha.push_back(a);
    for (float b : net.params()[param_index(net, fmt_name(l, "beta"))].value) L.beta.push_back(b);
    auto values = [&](const char* name) {
      const auto& v = net.params()[param_index(net, fmt_name(l, name))].value;
      return std::vector<double>(v.begin(), v.end());
    };
    if (lc.learn_threshold) L.theta = values("theta");
    if (lc.kind == vt::LayerKind::adlif) {
      L.wrho = values("rho");
      L.wa = values("a");
      L.wb = values("b");
    }
    if (lc.max_delay > 0.0) {
      L.delay = dense_of(net.input_weights(l), net.params()[param_index(net, fmt_name(l, "delay"))].value);
      L.delay_sigma = net.params()[param_index(net, fmt_name(l, "delay_sigma"))].value[0];
      L.delay_window = static_cast<std::size_t>(std::lround(lc.max_delay / c.net.dt)) + 1;
    }
    layers.push_back(L);
  }
  std::vector<std::vector<double>> inputs;
  std::vector<int> labels;
  vt::SampleEvents ev;
  for (std::size_t b = 0; b < kB; ++b) {
    data.fill(b, 0, ev);
    std::vector<double> x(kT * kIn, 0.0);
    for (std::size_t t = 0; t < kT; ++t)
      for (std::uint32_t e = ev.offsets[t]; e < ev.offsets[t + 1]; ++e)
        x[t * kIn + ev.units[e]] += ev.values[e];
    inputs.push_back(x);
    labels.push_back(data.label(b));
  }
  ref::Options o;
  o.forward = c.net.forward == vt::ForwardMode::smooth ? ref::Options::smooth : ref::Options::heaviside;
  o.smooth_scale = c.net.smooth_scale;
  const vt::SurrogateConfig sc = c.net.surrogate;
  o.surrogate_derivative = [sc](double u) { return surrogate_d(sc, u); };
  o.window = window_for_reference >= 0 ? window_for_reference : 0.0;
  const std::string_view loss_name = vt::loss_name(c.loss.kind);
  const ref::Loss* loss = ref::reference_loss(loss_name);
  if (!loss) {
    ADD_FAILURE() << "loss '" << loss_name << "' has no reference: add it to reference_losses() "
                  << "in tests/train/reference_bptt.hpp";
    return r;
  }
  o.loss = *loss;
  o.r_correct = c.loss.r_correct;
  o.r_incorrect = c.loss.r_incorrect;
  o.reg_l1 = c.loss.reg_l1;
  o.reg_l2 = c.loss.reg_l2;
  r.reference = ref::bptt(layers, inputs, labels, kT, o);

  // Gradients of existing synapses only, in the engine's layout.
  auto check = [&](const std::vector<float>& got, const std::vector<double>& want_dense,
                   const vt::WeightLayout* L, const std::string& what) {
    std::vector<double> want;
    if (!L || L->dense) {
      want = want_dense;
    } else {
      for (std::size_t i = 0; i < L->n_pre; ++i)
        for (std::uint32_t k = L->row_ptr[i]; k < L->row_ptr[i + 1]; ++k)
          want.push_back(want_dense[i * L->n_post + L->cols[k]]);
    }
    ASSERT_EQ(got.size(), want.size()) << what;
    double scale = 0.0;
    for (double x : want) scale = std::max(scale, std::fabs(x));
    EXPECT_GT(scale, 0.0) << what << ": the reference gradient is all zero (a useless case)";
    // Relative error of the whole gradient array (||got − want|| / ||want||) within 1e-4, and
    // every element within 1e-3 of itself plus 1e-4 of the largest element. The engine runs in
    // float: with the fast sigmoid at scale 100 an error of 1e-7 in u moves σ'(u) by up to
    // 2e-5 relative, so single elements can differ by a few 1e-4.
    double num = 0.0, den = 0.0;
    for (std::size_t k = 0; k < got.size(); ++k) {
      num += (got[k] - want[k]) * (got[k] - want[k]);
      den += want[k] * want[k];
      EXPECT_NEAR(got[k], want[k], 1e-3 * std::fabs(want[k]) + 1e-4 * scale)
          << what << "[" << k << "]";
    }
    EXPECT_LE(std::sqrt(num / den), 1e-4) << what;
    r.worst_relative_error = std::max(r.worst_relative_error, std::sqrt(num / den));
  };
  for (std::size_t l = 0; l < c.net.layers.size(); ++l) {
    const auto& lc = c.net.layers[l];
    check(r.grads[param_index(net, fmt_name(l, "w"))], r.reference.dW[l], &net.input_weights(l),
          fmt_name(l, "w"));
    if (lc.recurrent)
      check(r.grads[param_index(net, fmt_name(l, "v"))], r.reference.dV[l],
            &net.recurrent_weights(l), fmt_name(l, "v"));
    if (lc.learn_tau) {
      check(r.grads[param_index(net, fmt_name(l, "beta"))], r.reference.dbeta[l], nullptr,
            fmt_name(l, "beta"));
      if (lc.tau_syn > 0.0)
        check(r.grads[param_index(net, fmt_name(l, "alpha"))], r.reference.dalpha[l], nullptr,
              fmt_name(l, "alpha"));
      if (lc.kind == vt::LayerKind::adlif)
        check(r.grads[param_index(net, fmt_name(l, "rho"))], r.reference.dwrho[l], nullptr,
              fmt_name(l, "rho"));
    }
    if (lc.learn_threshold)
      check(r.grads[param_index(net, fmt_name(l, "theta"))], r.reference.dtheta[l], nullptr,
            fmt_name(l, "theta"));
    if (lc.learn_delay)
      check(r.grads[param_index(net, fmt_name(l, "delay"))], r.reference.ddelay[l],
            &net.input_weights(l), fmt_name(l, "delay"));
    if (lc.learn_adapt) {
      check(r.grads[param_index(net, fmt_name(l, "a"))], r.reference.dwa[l], nullptr,
            fmt_name(l, "a"));
      check(r.grads[param_index(net, fmt_name(l, "b"))], r.reference.dwb[l], nullptr,
            fmt_name(l, "b"));
    }
  }
  // dL/dx of every input event (Net::backward's InputGradients) against the reference's dx.
  // (Not for a first layer with delays: Net::backward refuses input gradients there.)
  if (c.loss.reg_l1 == 0.0 && c.loss.reg_l2 == 0.0 && !(c.net.layers[0].max_delay > 0.0)) {
    vt::Workspace ws;
    vt::SampleRecord rec;
    std::vector<float> dy;
    auto grads = net.zero_grads();
    std::vector<float> got;
    std::vector<double> want;
    for (std::size_t b = 0; b < kB; ++b) {
      data.fill(b, 0, ev);
      net.forward(ev, rec, ws, true);
      vt::sample_loss(c.loss, net, rec, data.label(b), 1.0f / kB, &dy);
      vt::InputGradients ig;
      net.backward(ev, rec, dy, nullptr, grads, ws, &ig);
      EXPECT_EQ(ig.value.size(), ev.units.size());
      for (std::size_t t = 0; t < kT; ++t)
        for (std::uint32_t e = ev.offsets[t]; e < ev.offsets[t + 1]; ++e) {
          got.push_back(ig.value[e]);
          want.push_back(r.reference.dx[b][t * kIn + ev.units[e]]);
        }
    }
    check(got, want, nullptr, "input");
  }
  EXPECT_NEAR(r.loss, r.reference.loss, 1e-5 * std::fabs(r.reference.loss) + 1e-7);
  return r;
}

}  // namespace

// The cases every engine feature is checked on; every registered loss and surrogate is one.
struct NamedCase {
  std::string name;
  Case c;
};

std::vector<NamedCase> gradient_cases() {
  std::vector<NamedCase> out;
  auto add = [&](std::string name, const Case& c) { out.push_back({std::move(name), c}); };
  add("feedforward_max_over_time_like_spytorch", basic());
  {
    Case c = basic();
    c.net.layers[0].detach_reset = false;
    add("differentiated_multiply_reset", c);
    c.net.layers[0].reset = vt::ResetMode::subtract;
    add("differentiated_subtract_reset", c);
    c.net.layers[0].detach_reset = true;
    add("detached_subtract_reset", c);
  }
  {
    Case c = basic();
    c.net.layers[0].tau_syn = 0.0;
    c.net.layers[1].tau_syn = 0.0;
    add("no_synaptic_current", c);
    c.net.layers[0].reset = vt::ResetMode::none;
    add("no_synaptic_current_no_reset", c);
  }
  {
    Case c = basic();
    c.net.layers[0].recurrent = true;
    add("recurrent", c);
  }
  {
    Case c = basic();
    c.net.layers[0].kind = vt::LayerKind::alif;
    c.net.layers[0].tau_adapt = 20e-3;
    c.net.layers[0].adapt_strength = 0.5;
    c.net.layers[0].recurrent = true;
    add("adaptive_lif", c);
  }
  {
    // adlif: the adaptation current, every dynamic learned (α, β, ρ, a, b, θ), each reset.
    Case c = basic();
    vt::LayerConfig& h = c.net.layers[0];
    h.kind = vt::LayerKind::adlif;
    h.tau_adapt = 20e-3;
    h.adapt_coupling = 2.0;
    h.adapt_strength = 0.5;
    h.recurrent = true;
    add("adlif", c);
    h.learn_tau = true;
    h.learn_adapt = true;
    h.learn_threshold = true;
    h.tau_init = vt::TauInit::gamma;
    h.tau_cv = 0.4;
    add("adlif_learned_dynamics", c);
    h.detach_reset = false;
    add("adlif_learned_dynamics_differentiated_reset", c);
    h.reset = vt::ResetMode::subtract;
    add("adlif_learned_dynamics_subtract_reset", c);
    h.tau_syn = 0.0;
    h.reset = vt::ResetMode::none;
    add("adlif_learned_dynamics_no_synapse_no_reset", c);
  }
  {
    // Learned per-neuron thresholds on lif and alif (subtract reset: θ also enters the reset).
    Case c = basic();
    c.net.layers[0].learn_threshold = true;
    add("learned_thresholds", c);
    c.net.layers[0].reset = vt::ResetMode::subtract;
    c.net.layers[0].kind = vt::LayerKind::alif;
    c.net.layers[0].tau_adapt = 20e-3;
    c.net.layers[0].adapt_strength = 0.5;
    add("learned_thresholds_alif_subtract_reset", c);
  }
  {
    Case c = basic();
    c.net.layers[0].learn_tau = true;
    c.net.layers[1].learn_tau = true;
    add("learned_time_constants", c);
    c.net.layers[0].tau_init = vt::TauInit::gamma;  // heterogeneous from the start
    c.net.layers[0].tau_cv = 0.5;
    add("learned_heterogeneous_time_constants", c);
  }
  {
    Case c = basic();
    c.net.layers = {lif(10), lif(8), readout(4)};
    c.net.layers[0].density = 0.5;
    c.net.layers[1].density = 0.6;
    c.net.layers[1].recurrent = true;
    c.net.layers[1].recurrent_density = 0.5;
    c.w_mean = 0.4;
    add("two_hidden_layers_sparse_connectivity", c);
  }
  for (const vt::LossInfo& loss : vt::losses()) {
    Case c = basic();
    if (loss.counts) c.net.layers = {lif(8), lif(4)};
    c.loss.kind = loss.value;
    add("loss_" + std::string(loss.name), c);
  }
  {
    Case c = basic();
    c.loss.reg_l1 = 2e-3;
    c.loss.reg_l2 = 1e-3;
    add("spike_count_regularisers", c);
  }
  for (const vt::SurrogateInfo& sg : vt::surrogates()) {
    Case c = basic();
    c.net.surrogate = {sg.value, sg.default_scale};
    add("surrogate_" + std::string(sg.name), c);
  }
  {
    // The ANN twin (relu units, readout without synapse), plain and leaky-recurrent with a
    // learned leak.
    Case c = basic();
    c.net = vt::ann_twin(basic().net, kT, 1e-3, false);
    c.w_mean = 0.1;
    add("ann_twin", c);
    c.net = vt::ann_twin(basic().net, kT, 1e-3, true);
    c.net.layers[0].recurrent = true;
    c.net.layers[0].learn_tau = true;
    c.w_mean = 0.0;
    c.v_mean = -0.2;
    add("ann_twin_leaky_recurrent", c);
  }
  {
    Case c = basic();
    c.net.forward = vt::ForwardMode::smooth;
    c.net.smooth_scale = 5.0;
    add("smooth_forward_is_the_exact_gradient", c);
  }
  {
    // Learned delays on both projections (window 5 steps, σ 1.2 steps), dense and sparse
    // connectivity, a recurrent hidden layer; fixed whole-step delays; learned delays with the
    // active set.
    Case c = basic();
    for (vt::LayerConfig& lc : c.net.layers) {
      lc.max_delay = 4e-3;
      lc.delay_sigma = 1.2e-3;
      lc.learn_delay = true;
    }
    add("learned_delays", c);
    c.net.layers[0].density = 0.6;
    c.net.layers[0].recurrent = true;
    add("learned_delays_sparse_recurrent", c);
    Case f = basic();
    f.net.layers[0].max_delay = 3e-3;
    add("fixed_whole_step_delays", f);
    Case a = basic();
    a.net.layers = {lif(10), lif(8), readout(4)};
    a.net.layers[1].max_delay = 4e-3;
    a.net.layers[1].delay_sigma = 0.8e-3;
    a.net.layers[1].learn_delay = true;
    a.net.backward = vt::BackwardMode::sparse;
    a.net.window = 0.0;
    add("learned_delays_hidden_to_hidden_active_set", a);
    // The per-synapse taps (delays.hpp) on the same cases, and chosen by width: a window of 25
    // steps with taps 3 wide (σ 0.3 steps).
    for (Case* x : {&c, &a}) x->delay_layout = vt::DelayLayout::per_synapse;
    add("learned_delays_sparse_recurrent_per_synapse_taps", c);
    add("learned_delays_hidden_to_hidden_active_set_per_synapse_taps", a);
    Case n = basic();
    for (vt::LayerConfig& lc : n.net.layers) {
      lc.max_delay = 24e-3;
      lc.delay_sigma = 0.3e-3;
      lc.learn_delay = true;
    }
    add("learned_delays_narrow_taps", n);
    // The time-major taps (delay_kernels.hpp) for every sample: blurred and whole-step delays on
    // dense weights, and a delayed hidden-to-hidden projection with the active set.
    Case g = basic();
    for (vt::LayerConfig& lc : g.net.layers) {
      lc.max_delay = 4e-3;
      lc.delay_sigma = 1.2e-3;
      lc.learn_delay = true;
    }
    g.delay_layout = vt::DelayLayout::gather;
    add("learned_delays_time_major_taps", g);
    Case gf = basic();
    gf.net.layers[0].max_delay = 3e-3;
    gf.delay_layout = vt::DelayLayout::gather;
    add("fixed_whole_step_delays_time_major_taps", gf);
    a.delay_layout = vt::DelayLayout::gather;
    add("learned_delays_hidden_to_hidden_active_set_time_major_taps", a);
    // The dense blocks over 300 neurons: two passes of the block kernels, the second partial.
    Case wide = basic();
    wide.net.layers = {lif(300), readout(4)};
    wide.net.layers[0].max_delay = 4e-3;
    wide.net.layers[0].delay_sigma = 1.2e-3;
    wide.net.layers[0].learn_delay = true;
    wide.delay_layout = vt::DelayLayout::blocks;
    add("learned_delays_blocks_300_neurons", wide);
  }
  return out;
}

class NetGradientCase : public testing::TestWithParam<NamedCase> {};

TEST_P(NetGradientCase, EqualsReference) { run(GetParam().c); }

INSTANTIATE_TEST_SUITE_P(NetGradients, NetGradientCase, testing::ValuesIn(gradient_cases()),
                         [](const testing::TestParamInfo<NamedCase>& info) { return info.param.name; });

// One number for the whole engine: the worst relative error of any gradient array over every
// case above (each case also checks its own arrays).
TEST(NetGradients, WorstRelativeErrorOverAllCases) {
  double worst = 0.0;
  std::string where;
  for (const NamedCase& nc : gradient_cases()) {
    const Result r = run(nc.c);
    if (r.worst_relative_error >= worst) worst = r.worst_relative_error, where = nc.name;
  }
  std::printf("worst ||engine - reference|| / ||reference|| over %zu cases: %.3g (%s)\n",
              gradient_cases().size(), worst, where.c_str());
  EXPECT_GT(worst, 0.0) << "no case was compared";
  EXPECT_LE(worst, 1e-4) << "in case " << where;
}

TEST(NetGradients, ActiveSetUnboundedEqualsDenseExactly) {
  Case c = basic();
  c.net.layers = {lif(10), lif(8), readout(4)};
  c.net.layers[1].recurrent = true;
  c.net.layers[0].detach_reset = false;
  const Result dense = run(c);
  c.net.backward = vt::BackwardMode::sparse;
  c.net.window = 0.0;  // unbounded
  const Result sparse = run(c);
  ASSERT_EQ(dense.grads.size(), sparse.grads.size());
  for (std::size_t k = 0; k < dense.grads.size(); ++k)
    EXPECT_EQ(dense.grads[k], sparse.grads[k]) << "parameter " << k;
}

TEST(NetGradients, ActiveSetUnboundedEqualsDenseExactlyForAdlifWithLearnedDynamics) {
  Case c = basic();
  vt::LayerConfig& h = c.net.layers[0];
  h.kind = vt::LayerKind::adlif;
  h.tau_adapt = 20e-3;
  h.adapt_coupling = 2.0;
  h.adapt_strength = 0.5;
  h.learn_tau = h.learn_adapt = h.learn_threshold = true;
  h.detach_reset = false;
  const Result dense = run(c);
  c.net.backward = vt::BackwardMode::sparse;
  c.net.window = 0.0;
  const Result sparse = run(c);
  ASSERT_EQ(dense.grads.size(), sparse.grads.size());
  for (std::size_t k = 0; k < dense.grads.size(); ++k)
    EXPECT_EQ(dense.grads[k], sparse.grads[k]) << "parameter " << k;
  // With a window, the active set matches the reference whose surrogate is zeroed outside it.
  c.net.window = 0.5;
  run(c, 3, 0.5);
}

TEST(NetGradients, ActiveSetWindowEqualsReferenceWithSurrogateZeroedOutside) {
  for (double w : {0.3, 0.8}) {
    Case c = basic();
    c.net.layers = {lif(10), lif(8), readout(4)};
    c.net.layers[1].recurrent = true;
    c.net.backward = vt::BackwardMode::sparse;
    c.net.window = w;
    const Result r = run(c, 3, w);
    // And the window matters: the unbounded reference differs.
    Case d = c;
    d.net.backward = vt::BackwardMode::dense;
    d.net.window = 0.0;
    const Result full = run(d, 3);
    double diff = 0.0;
    for (std::size_t k = 0; k < r.grads[0].size(); ++k)
      diff = std::max(diff, double(std::fabs(r.grads[0][k] - full.grads[0][k])));
    EXPECT_GT(diff, 1e-6) << "window " << w << " changed nothing: the test is not testing";
  }
}

// The event mode (event_layer.cpp) where blocks of neurons sit quiet between sparse input events
// and are advanced analytically: the reference with the windowed surrogate, for each reset, with
// and without a synaptic current, two event-driven layers, dense input weights, a spiking output
// layer, and a recurrent layer above (which runs the sparse kernels).
TEST(NetGradients, EventModeEqualsReferenceWithSurrogateZeroedOutside) {
  auto event_case = [] {
    Case c = basic();
    c.net.layers = {lif(40), readout(4)};
    c.net.layers[0].density = 0.4;
    c.net.backward = vt::BackwardMode::event;
    c.net.window = 0.5;
    c.p_event = 0.06;
    c.w_mean = 0.9;
    c.w_sd = 0.8;
    return c;
  };
  std::vector<NamedCase> cases;
  cases.push_back({"multiply_reset", event_case()});
  {
    Case c = event_case();
    c.net.layers[0].reset = vt::ResetMode::subtract;
    cases.push_back({"subtract_reset", c});
    c.net.layers[0].tau_syn = 0.0;
    cases.push_back({"no_synapse_subtract_reset", c});
    c.net.layers[0].reset = vt::ResetMode::none;
    cases.push_back({"no_synapse_no_reset", c});
  }
  {
    Case c = event_case();
    c.net.layers[0].density = 1.0;
    c.w_mean = 0.3;
    cases.push_back({"dense_input_weights", c});
  }
  {
    Case c = event_case();
    c.net.layers = {lif(40), lif(24), readout(4)};
    c.net.layers[0].density = 0.4;
    c.net.layers[1].density = 0.4;
    cases.push_back({"two_event_layers", c});
    c.net.layers[1].density = 1.0;
    c.net.layers[1].recurrent = true;
    c.v_mean = -0.2;
    c.w_mean = 0.5;
    cases.push_back({"recurrent_layer_above", c});
  }
  {
    Case c = event_case();
    c.net.layers = {lif(40), lif(4)};
    c.net.layers[0].density = 0.4;
    c.w_mean = 0.6;
    c.loss.kind = vt::LossKind::count_ce;
    cases.push_back({"spiking_output_layer", c});
  }
  for (const NamedCase& nc : cases) {
    SCOPED_TRACE(nc.name);
    vt::Net net(nc.c.net);
    EXPECT_TRUE(net.event_driven(0));
    run(nc.c, 3, 0.5);
  }
}

TEST(NetGradients, StrictPerElementAtAModerateSurrogateScale) {
  // With a flatter surrogate float rounding cannot move σ' noticeably: every element agrees
  // within 1e-4 relative (plus 1e-6 of the largest).
  for (int variant : {0, 1, 2}) {
    Case c = basic();
    c.net.surrogate.scale = 5.0f;
    c.net.layers[0].recurrent = variant > 0;
    c.net.layers[0].detach_reset = variant == 1;
    if (variant == 2) {
      c.net.layers[0].kind = vt::LayerKind::alif;
      c.net.layers[0].tau_adapt = 20e-3;
      c.net.layers[0].adapt_strength = 0.5;
    }
    const Result r = run(c, 7);
    const auto& want = r.reference.dW[0];
    double scale = 0.0;
    for (double x : want) scale = std::max(scale, std::fabs(x));
    for (std::size_t k = 0; k < want.size(); ++k)
      EXPECT_NEAR(r.grads[0][k], want[k], 1e-4 * std::fabs(want[k]) + 1e-6 * scale) << k;
  }
}

// Every registered surrogate, at its default scale and at another: the backward's derivative is
// the derivative of its documented primitive (central differences in double).
TEST(Surrogates, DerivativeIsTheDerivativeOfThePrimitive) {
  std::size_t checked = 0;
  vt::for_each_surrogate([&](auto sg) {
    for (const float scale : {sg.scale, 4.0f}) {
      sg.scale = scale;
      SCOPED_TRACE(std::string(sg.name) + " at scale " + std::to_string(scale));
      for (double u = -0.9; u <= 0.9; u += 0.037) {
        const double h = 1e-5;
        const double fd = (sg.primitive(u + h) - sg.primitive(u - h)) / (2 * h);
        EXPECT_NEAR(sg.derivative(static_cast<float>(u)), fd, 1e-3 * std::max(1.0, std::fabs(fd)))
            << "u = " << u;
      }
      ++checked;
    }
  });
  EXPECT_EQ(checked, 2 * vt::surrogates().size());
  EXPECT_FLOAT_EQ(vt::FastSigmoid{100.0f}.derivative(0.01f), 0.25f);  // 1/(100·0.01 + 1)²
}

// The registry is made from SurrogateTypes: names, order and default scales agree, and
// with_surrogate hands out the struct a registry entry names.
TEST(Surrogates, RegistryFollowsTheTypeList) {
  std::size_t i = 0;
  vt::for_each_surrogate([&](const auto& sg) {
    using S = std::decay_t<decltype(sg)>;
    const vt::SurrogateInfo& e = vt::surrogates().get(S::name);
    EXPECT_EQ(e.value, i);
    EXPECT_EQ(e.value, vt::surrogate_index<S>());
    EXPECT_EQ(e.default_scale, S::default_scale);
    EXPECT_FALSE(e.meaning.empty());
    const bool same = vt::with_surrogate(vt::SurrogateConfig{e.value, 2.0f}, [](const auto& s) {
      return std::is_same_v<std::decay_t<decltype(s)>, S> && s.scale == 2.0f;
    });
    EXPECT_TRUE(same) << S::name;
    ++i;
  });
  EXPECT_EQ(i, vt::surrogates().size());
  EXPECT_EQ(vt::SurrogateConfig::of<vt::Arctan>().kind, vt::surrogates().get("arctan").value);
  EXPECT_EQ(vt::SurrogateConfig::of<vt::Arctan>().scale, vt::Arctan::default_scale);
}

// SLAYER's escape rate (Shrestha & Orchard 2018) with α = β = scale: the value at a few points.
TEST(Surrogates, ExponentialIsSlayersEscapeRate) {
  const vt::Exponential sg{2.0f};
  EXPECT_FLOAT_EQ(sg.derivative(0.0f), 2.0f);
  EXPECT_FLOAT_EQ(sg.derivative(0.5f), 2.0f * std::exp(-1.0f));
  EXPECT_FLOAT_EQ(sg.derivative(-0.5f), sg.derivative(0.5f));
  EXPECT_NEAR(sg.primitive(10.0) - sg.primitive(-10.0), 2.0, 1e-8);  // ∫ scale·e^{−scale|u|} = 2
}

// Heterogeneous time constants (tau_init): per neuron, with the requested mean and coefficient of
// variation, drawn from the seed (the same network twice, another for another seed), refused
// where they make no sense.
namespace {

// n LIF neurons (τ_mem 20 ms, τ_syn 5 ms, dt 1 ms) with per-neuron time constants drawn by
// `init` with that coefficient of variation, then a readout.
vt::NetConfig drawn_taus(std::size_t n, vt::TauInit init, double cv) {
  vt::NetConfig c;
  c.n_inputs = 4;
  c.n_steps = 10;
  c.dt = 1e-3;
  vt::LayerConfig h = lif(n);
  h.tau_mem = 20e-3;
  h.tau_syn = 5e-3;
  h.tau_init = init;
  h.tau_cv = cv;
  c.layers = {h, readout(2)};
  return c;
}

}  // namespace

TEST(NetConfig, HeterogeneousTimeConstantsHaveTheirMeanAndSpread) {
  for (auto init : {vt::TauInit::uniform, vt::TauInit::gamma, vt::TauInit::lognormal}) {
    vt::NetConfig c = drawn_taus(4000, init, 0.3);
    const vt::Net net(c);
    auto stats = [&](std::size_t param, double tau) {
      double s = 0, s2 = 0;
      const auto& v = net.params()[param].value;
      for (float x : v) {
        const double t = -c.dt / std::log(double(x));
        s += t;
        s2 += t * t;
      }
      const double n = double(v.size()), mean = s / n, sd = std::sqrt(s2 / n - mean * mean);
      EXPECT_NEAR(mean, tau, 0.03 * tau) << vt::tau_inits().name_of(init);
      EXPECT_NEAR(sd / mean, 0.3, 0.03) << vt::tau_inits().name_of(init);
    };
    stats(net.beta_param(0), 20e-3);
    stats(net.alpha_param(0), 5e-3);
    EXPECT_EQ(vt::Net(c).params()[net.beta_param(0)].value, net.params()[net.beta_param(0)].value);
    c.seed = 2;
    EXPECT_NE(vt::Net(c).params()[net.beta_param(0)].value, net.params()[net.beta_param(0)].value);
  }
  vt::NetConfig c;
  c.n_inputs = 4;
  c.layers = {lif(4), readout(2)};
  c.layers[0].tau_cv = 0.2;  // constant init with a spread
  EXPECT_THROW(vt::Net{c}, volley::ParameterError);
  c.layers[0].tau_init = vt::TauInit::uniform;
  c.layers[0].tau_cv = 0.7;  // τ could be negative
  EXPECT_THROW(vt::Net{c}, volley::ParameterError);
  c.layers[0].tau_init = vt::TauInit::gamma;
  c.layers[0].tau_cv = 0.0;
  EXPECT_THROW(vt::Net{c}, volley::ParameterError);
}

// tau_max bounds the time constants where they start (draws above it are set to it) and where
// learning takes them (constrain), and must not be below the layer's own τ.
TEST(NetConfig, TauMaxBoundsDrawnAndLearnedTimeConstants) {
  vt::NetConfig c = drawn_taus(2000, vt::TauInit::gamma, 0.577);
  c.layers[0].learn_tau = true;
  c.layers[0].tau_max = 40e-3;
  vt::Net net(c);
  const float top = static_cast<float>(std::exp(-c.dt / 40e-3));
  const auto& beta = net.params()[net.beta_param(0)].value;
  const auto& alpha = net.params()[net.alpha_param(0)].value;
  EXPECT_LE(*std::max_element(beta.begin(), beta.end()), top);
  // About 6 % of a gamma of shape 3 lies above twice its mean: those start at the bound.
  const auto at_top = std::count(beta.begin(), beta.end(), top);
  EXPECT_GT(at_top, 60);
  EXPECT_LT(at_top, 200);
  EXPECT_LT(*std::max_element(alpha.begin(), alpha.end()), top);  // τ_syn's draws stay below
  // Learning pushed past the bound is brought back to it; without tau_max only to 0.9999.
  net.params()[net.beta_param(0)].value.assign(2000, 0.99999f);
  net.params()[net.alpha_param(0)].value.assign(2000, 0.99999f);
  net.constrain();
  EXPECT_EQ(net.params()[net.beta_param(0)].value[7], top);
  EXPECT_EQ(net.params()[net.alpha_param(0)].value[7], top);
  c.layers[0].tau_max = 0.0;
  vt::Net unbounded(c);
  unbounded.params()[unbounded.beta_param(0)].value.assign(2000, 0.99999f);
  unbounded.constrain();
  EXPECT_EQ(unbounded.params()[unbounded.beta_param(0)].value[7], vt::kMaxDecay);
  c.layers[0].tau_max = 10e-3;  // below tau_mem
  try {
    vt::Net bad(c);
    ADD_FAILURE() << "tau_max below tau_mem accepted";
  } catch (const volley::ParameterError& e) {
    EXPECT_NE(std::string(e.what()).find("tau_max"), std::string::npos) << e.what();
  }
}

// ---- synaptic delays ----

namespace {

// A net of basic() with delays on both projections, strong random weights.
vt::Net delayed_net(double sigma, bool learn) {
  Case c = basic();
  for (vt::LayerConfig& lc : c.net.layers) {
    lc.max_delay = 5e-3;
    lc.delay_sigma = sigma;
    lc.learn_delay = learn;
  }
  vt::Net net(c.net);
  std::mt19937 rng(5);
  std::normal_distribution<double> w(0.3, 0.6);
  for (auto& p : net.params())
    if (p.name.ends_with(".w"))
      for (float& x : p.value) x = static_cast<float>(w(rng));
  net.update_delays();
  return net;
}

// One sample (bernoulli_data, seed 9) through two copies of a network that differ in their delay
// layout; the workspaces stay for a backward pass.
struct TwoLayouts {
  vt::SampleEvents ev;
  vt::Workspace wa, wb;
  vt::SampleRecord ra, rb;
  TwoLayouts(const vt::Net& a, const vt::Net& b, bool keep, double p_event = 0.25) {
    volley::test::bernoulli_data(kIn, kT, 4, 2, 9, p_event).fill(0, 0, ev);
    a.forward(ev, ra, wa, keep);
    b.forward(ev, rb, wb, keep);
  }
};

}  // namespace

// Net::step_layer (e-prop, early decisions) gives the numbers of Net::forward with delays, in
// the blurred (σ > 0) and the rounded state: the same spikes, and the same outputs — to the bit
// with whole-step delays, up to rounding with the wide blocks (forward sums a step's delayed
// terms input row by input row, step_layer as they arrive).
TEST(NetDelays, StepByStepEqualsForward) {
  for (double sigma : {1.5e-3, 0.0}) {
    const vt::Net net = delayed_net(sigma, sigma > 0.0);
    const vt::StoredEvents data = volley::test::bernoulli_data(kIn, kT, 4, 2, 9);
    vt::SampleEvents ev;
    data.fill(0, 0, ev);
    vt::Workspace ws;
    vt::SampleRecord rec;
    net.forward(ev, rec, ws, false);
    std::vector<vt::LayerState> st(2);
    for (std::size_t l = 0; l < 2; ++l) net.reset_state(l, st[l]);
    std::size_t spikes = 0;
    for (std::size_t t = 0; t < kT; ++t) {
      std::span<const std::uint32_t> idx(ev.units.data() + ev.offsets[t], ev.offsets[t + 1] - ev.offsets[t]);
      std::span<const float> val(ev.values.data() + ev.offsets[t], idx.size());
      net.step_layer(0, idx, val, st[0]);
      const auto& r0 = rec.layers[0];
      ASSERT_EQ(st[0].idx.size(), r0.off[t + 1] - r0.off[t]) << "step " << t;
      spikes += st[0].idx.size();
      net.step_layer(1, st[0].idx, st[0].val, st[1]);
      for (std::size_t j = 0; j < 4; ++j) {
        const float y = rec.layers[1].y[t * 4 + j];
        if (sigma == 0.0)
          ASSERT_EQ(st[1].mem[j], y) << "step " << t << " output " << j;
        else
          ASSERT_NEAR(st[1].mem[j], y, 1e-5f * (1.0f + std::fabs(y))) << "step " << t << " output " << j;
      }
    }
    EXPECT_GT(spikes, 10u);
  }
}

// The per-synapse taps (delays.hpp) compute the blocks' sums (delay_kernels.hpp: the blocks add
// a row's terms of a step in registers first): the same spikes, outputs and weight and delay
// gradients up to rounding. The automatic layout picks them for narrow taps only.
TEST(NetDelays, PerSynapseTapsGiveTheBlocksNumbers) {
  for (double sigma : {1.5e-3, 0.4e-3, 0.0}) {
    vt::Net blocks = delayed_net(sigma, sigma > 0.0);
    vt::Net taps = blocks;
    blocks.set_delay_layout(vt::DelayLayout::blocks);
    taps.set_delay_layout(vt::DelayLayout::per_synapse);
    ASSERT_FALSE(blocks.delay_taps(0)->per_synapse);
    ASSERT_TRUE(taps.delay_taps(0)->per_synapse);
    TwoLayouts run(blocks, taps, true);
    const vt::SampleEvents& ev = run.ev;
    vt::SampleRecord &ra = run.ra, &rb = run.rb;
    vt::Workspace &wa = run.wa, &wb = run.wb;
    EXPECT_EQ(ra.layers[0].idx, rb.layers[0].idx) << "sigma " << sigma;
    EXPECT_EQ(ra.layers[0].off, rb.layers[0].off) << "sigma " << sigma;
    ASSERT_EQ(ra.layers[1].y.size(), rb.layers[1].y.size());
    for (std::size_t k = 0; k < ra.layers[1].y.size(); ++k)
      ASSERT_NEAR(rb.layers[1].y[k], ra.layers[1].y[k], 1e-5f * (1.0f + std::fabs(ra.layers[1].y[k])))
          << "sigma " << sigma << " output " << k;
    EXPECT_GT(ra.layers[0].idx.size(), 10u);
    // Step by step with the per-synapse ring.
    std::vector<vt::LayerState> st(2);
    for (std::size_t l = 0; l < 2; ++l) taps.reset_state(l, st[l]);
    for (std::size_t t = 0; t < kT; ++t) {
      std::span<const std::uint32_t> idx(ev.units.data() + ev.offsets[t], ev.offsets[t + 1] - ev.offsets[t]);
      std::span<const float> val(ev.values.data() + ev.offsets[t], idx.size());
      taps.step_layer(0, idx, val, st[0]);
      taps.step_layer(1, st[0].idx, st[0].val, st[1]);
      for (std::size_t j = 0; j < 4; ++j) {
        const float y = rb.layers[1].y[t * 4 + j];
        ASSERT_NEAR(st[1].mem[j], y, 1e-5f * (1.0f + std::fabs(y))) << "step " << t << " output " << j;
      }
    }
    std::vector<float> dy(rb.layers[1].y.size());
    for (std::size_t k = 0; k < dy.size(); ++k) dy[k] = 0.01f * static_cast<float>(k % 7) - 0.03f;
    auto ga = blocks.zero_grads(), gb = taps.zero_grads();
    blocks.backward(ev, ra, dy, nullptr, ga, wa);
    taps.backward(ev, rb, dy, nullptr, gb, wb);
    for (std::size_t p = 0; p < ga.size(); ++p) {
      double scale = 0.0;
      for (float x : ga[p]) scale = std::max(scale, static_cast<double>(std::fabs(x)));
      for (std::size_t k = 0; k < ga[p].size(); ++k)
        ASSERT_NEAR(gb[p][k], ga[p][k], 1e-5 * scale + 1e-9)
            << blocks.params()[p].name << "[" << k << "] sigma " << sigma;
    }
    // Layer 1's own gradients do not depend on the sums into layer 0: the same bits.
    EXPECT_EQ(ga[blocks.delay_param(1)], gb[taps.delay_param(1)]) << "sigma " << sigma;
  }
  // Automatic: blocks while the taps are wide, per synapse when 7 × width ≤ window.
  EXPECT_FALSE(delayed_net(1.5e-3, true).delay_taps(0)->per_synapse);  // window 6, width 6
  EXPECT_FALSE(delayed_net(0.0, false).delay_taps(0)->per_synapse);    // window 6, width 1
  Case n = basic();
  n.net.layers[0].max_delay = 24e-3;  // window 25
  n.net.layers[0].delay_sigma = 0.3e-3;
  n.net.layers[0].learn_delay = true;
  const vt::Net narrow(n.net);
  EXPECT_EQ(narrow.delay_taps(0)->width, 3u);
  EXPECT_TRUE(narrow.delay_taps(0)->per_synapse);
  EXPECT_TRUE(vt::use_per_synapse_taps(1, 7));
  EXPECT_FALSE(vt::use_per_synapse_taps(1, 6));
  EXPECT_FALSE(vt::use_per_synapse_taps(3, 20));
}

// The time-major taps with whole-step delays sum each current in arrival order, as the event
// kernels (and the simulator's delay queue) do: the same outputs to the bit.
TEST(NetDelays, WholeStepTimeMajorTapsGiveTheEventKernelsBits) {
  vt::Net events = delayed_net(0.0, false);
  vt::Net gather = events;
  events.set_delay_layout(vt::DelayLayout::per_synapse);
  gather.set_delay_layout(vt::DelayLayout::gather);
  ASSERT_FALSE(events.delay_taps(0)->gather);
  ASSERT_TRUE(gather.delay_taps(0)->gather_always);
  const TwoLayouts run(events, gather, false, 0.4);
  const vt::SampleRecord &ra = run.ra, &rb = run.rb;
  EXPECT_GT(ra.layers[0].idx.size(), 10u);
  EXPECT_EQ(ra.layers[0].idx, rb.layers[0].idx);
  EXPECT_EQ(ra.layers[1].y, rb.layers[1].y);
}

// Whole-step delays all equal to m: the network's outputs are those of the same network without
// delays on the input shifted by m steps (for the first layer), step for step.
TEST(NetDelays, RoundedDelaysShiftTheInput) {
  Case c = basic();
  vt::Net plain(c.net);
  c.net.layers[0].max_delay = 6e-3;
  vt::Net delayed(c.net);
  delayed.params()[delayed.delay_param(0)].value.assign(
      delayed.params()[delayed.delay_param(0)].value.size(), 3.4f);  // rounds to 3
  for (const auto& p : plain.params())
    for (auto& q : delayed.params())
      if (q.name == p.name && !q.name.ends_with("delay")) q.value = p.value;
  delayed.update_delays();
  const vt::StoredEvents data = volley::test::bernoulli_data(kIn, kT, 4, 1, 3);
  vt::SampleEvents ev, shifted;
  data.fill(0, 0, ev);
  shifted.offsets.assign(kT + 1, 0);
  for (std::size_t t = 0; t < kT; ++t) {
    if (t >= 3)
      for (std::uint32_t e = ev.offsets[t - 3]; e < ev.offsets[t - 2]; ++e) {
        shifted.units.push_back(ev.units[e]);
        shifted.values.push_back(ev.values[e]);
      }
    shifted.offsets[t + 1] = static_cast<std::uint32_t>(shifted.units.size());
  }
  vt::Workspace ws;
  vt::SampleRecord a, b;
  delayed.forward(ev, a, ws, false);
  plain.forward(shifted, b, ws, false);
  EXPECT_EQ(a.layers[0].idx, b.layers[0].idx);
  EXPECT_EQ(a.layers[0].off, b.layers[0].off);
  EXPECT_GT(a.layers[0].idx.size(), 10u);
  EXPECT_EQ(a.layers[1].y, b.layers[1].y);
}

// σ falls linearly to 0 over delay_anneal of training, and the taps follow: Gaussian taps that
// sum to one while σ ≥ 1/4 step, one tap at the rounded delay after.
TEST(NetDelays, SigmaScheduleAndTaps) {
  vt::Net net = delayed_net(2e-3, true);  // σ0 = 2 steps, anneal 0.75
  const auto& sig = net.params()[net.delay_param(0) + 1];
  ASSERT_EQ(sig.name, "layer0.delay_sigma");
  net.set_training_progress(0.0);
  EXPECT_FLOAT_EQ(sig.value[0], 2.0f);
  const vt::DelayTaps* D = net.delay_taps(0);
  EXPECT_EQ(D->width, 6u);  // min(K = 6, 2·⌈6⌉ + 1)
  for (std::size_t k = 0; k < 20; ++k) {
    double s = 0, ds = 0;
    for (std::size_t o = 0; o < D->width; ++o) {
      s += D->phi[k * D->width + o];
      ds += D->dphi[k * D->width + o];
    }
    EXPECT_NEAR(s, 1.0, 1e-6);
    EXPECT_NEAR(ds, 0.0, 1e-5);  // shifting d moves weight between taps, never adds any
  }
  net.set_training_progress(0.375);
  EXPECT_FLOAT_EQ(sig.value[0], 1.0f);
  net.set_training_progress(0.8);
  EXPECT_EQ(sig.value[0], 0.0f);
  EXPECT_EQ(D->width, 1u);
  const auto& d = net.params()[net.delay_param(0)].value;
  for (std::size_t k = 0; k < d.size(); ++k) ASSERT_EQ(D->start[k], std::lround(d[k]));
}

TEST(NetDelays, BadValuesNamed) {
  auto expect_bad = [](const vt::NetConfig& c, const std::string& what) {
    try {
      vt::Net net(c);
      ADD_FAILURE() << "accepted: " << what;
    } catch (const volley::ParameterError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  Case c = basic();
  c.net.layers[0].learn_delay = true;
  expect_bad(c.net, "layer 0: learn_delay");
  c.net.layers[0].max_delay = 40e-3;  // 40 steps: the whole sample
  c.net.layers[0].delay_sigma = 1e-3;
  expect_bad(c.net, "layer 0: max_delay");
  c.net.layers[0].max_delay = 5e-3;
  c.net.layers[0].delay_sigma = 0.1e-3;  // a tenth of a step: no gradient
  expect_bad(c.net, "layer 0: delay_sigma");
  c.net.layers[0].delay_sigma = 1e-3;
  EXPECT_NO_THROW(vt::Net{c.net});
}

// Conductance-based LIF and Izhikevich against analytic solutions and independent references.
#include <gtest/gtest.h>

#include <cmath>

#include "volley/models/izhikevich.hpp"
#include "support/ode_reference.hpp"
#include "volley/models/lif_cond.hpp"
#include "volley/models/sources.hpp"
#include "volley/network.hpp"

using namespace volley;

namespace {
constexpr double kDt = 1e-4;
}

TEST(LifCond, LeakAndCurrentRelaxExponentially) {
  Network net(kDt, 1);
  LifCondParams p;  // C = 200 pF, g_L = 10 nS: tau = 20 ms
  p.v_init = Distribution::constant(-60e-3);
  net.add<LifCondPopulation>("n", 1, p);
  CurrentInputSpec in{"I", "n", {}, {}, Dimension::amperes()};
  in.series.value = 0.05e-9;  // v_inf = -60 mV + 0.05 nA / 10 nS = -55 mV
  net.add_input(in);
  auto& mon = net.record_state("v", "n", {"v"}, {0});
  net.run(0.1);
  for (std::size_t k = 0; k < mon.times.size(); ++k) {
    const double exact = -55e-3 - 5e-3 * std::exp(-mon.times[k] / 20e-3);
    ASSERT_NEAR(mon.values[0][k], exact, 1e-5 * 55e-3) << k;
  }
}

TEST(LifCond, ConductanceInputPullsTowardsReversal) {
  // A large inhibitory conductance clamps v near E_inh; excitatory near E_exc (above threshold).
  Network net(kDt, 1);
  LifCondParams p;
  p.v_th = 10.0;  // observe the trajectory without spikes
  p.v_init = Distribution::constant(-60e-3);
  net.add<LifCondPopulation>("n", 2, p);
  net.add(std::make_unique<SpikeGenerator>("g", std::vector<SpikeEvent>{{0.0, 0}}), 1);
  ProjectionSpec s;
  s.name = "inh";
  s.source = "g";
  s.target = "n";
  s.target_slice = {0, 1};
  s.channel = "inh";
  s.connector = AllToAll{};
  s.weight = Distribution::constant(1e-6);  // 1 uS >> g_L
  s.weight_dim = Dimension::siemens();
  net.connect(s);
  s.name = "exc";
  s.target_slice = {1, 1};
  s.channel = "exc";
  net.connect(s);
  auto& mon = net.record_state("v", "n", {"v", "exc", "inh"}, {0, 1});
  net.run(0.003);
  const std::size_t k = 10;  // 0.9 ms after arrival; membrane time constant C/G ~ 0.2 ms
  EXPECT_NEAR(mon.values[0][k * 2 + 0], -80e-3, 1.5e-3);
  EXPECT_NEAR(mon.values[0][k * 2 + 1], 0.0, 3e-3);
  EXPECT_NEAR(mon.values[2][k * 2 + 0], 1e-6 * std::exp(-static_cast<double>(k - 1) * kDt / 10e-3), 1e-12);
}

TEST(Izhikevich, MatchesAnIndependentEulerReference) {
  // Regular spiking cell, constant drive of 10 (paper units = mV): compare spike times with a
  // straightforward double-precision Euler loop of the published equations.
  Network net(kDt, 1);
  IzhikevichParams p;
  p.max_step = kDt;  // Izhikevich's one-step scheme, as in the reference loop
  net.add<IzhikevichPopulation>("n", 1, p);
  CurrentInputSpec in{"I", "n", {}, {}, Dimension::volts()};
  in.series.value = 10e-3;
  net.add_input(in);
  auto& spk = net.record_spikes("s", "n");
  net.run(0.5);

  std::vector<double> ref;
  double v = -65.0, u = 0.2 * -65.0;
  const double h = kDt * 1e3;
  for (int step = 0; step < 5000; ++step) {
    const double vn = v + h * (0.04 * v * v + 5 * v + 140 - u + 10.0);
    const double un = u + h * 0.02 * (0.2 * v - u);
    v = vn;
    u = un;
    if (v >= 30.0) {
      ref.push_back(step * kDt);
      v = -65.0;
      u += 8.0;
    }
  }
  ASSERT_GE(ref.size(), 3u);
  ASSERT_EQ(spk.times.size(), ref.size());
  for (std::size_t k = 0; k < ref.size(); ++k) EXPECT_NEAR(spk.times[k], ref[k], 2.5 * kDt) << k;
}

TEST(Izhikevich, FastSpikingFiresFasterThanRegularSpiking) {
  Network net(kDt, 1);
  IzhikevichParams rs;
  IzhikevichParams fs;
  fs.a = 100.0;  // 0.1 / ms
  fs.d = 2e-3;
  net.add<IzhikevichPopulation>("rs", 1, rs);
  net.add<IzhikevichPopulation>("fs", 1, fs);
  for (const char* t : {"rs", "fs"}) {
    CurrentInputSpec in{std::string("I_") + t, t, {}, {}, Dimension::volts()};
    in.series.value = 10e-3;
    net.add_input(in);
  }
  net.run(1.0);
  EXPECT_GT(net.spike_count("fs"), 2 * net.spike_count("rs"));
  EXPECT_GT(net.spike_count("rs"), 5u);
}

// The same Izhikevich equations as an OdeNeuron, used only as the RK45 reference below.
struct IzhikevichReference {
  static constexpr int kStates = 2;
  static constexpr std::string_view kName = "izhikevich_reference";
  static constexpr std::string_view kMeaning = "Izhikevich's equations for the RK45 reference";
  static constexpr bool kResets = true;
  static constexpr Integrator kDefaultIntegrator = Integrator::kRk4;
  static constexpr double kMaxStep = 1e-5;
  struct Params {
    IzhikevichParams p;
    void validate(const std::string&) const {}
  };
  static std::span<const Param<Params>> params() { return {}; }
  static constexpr std::array<std::string_view, 2> state_names() { return {"v", "u"}; }
  static constexpr std::array<Dimension, 2> state_dimensions() {
    return {Dimension::volts(), Dimension::volts()};
  }
  static void initial(const Params& q, double* x) {
    x[0] = -65e-3;
    x[1] = q.p.b * x[0];
  }
  static void derivatives(const Params& q, const double* x, const NeuronInput& in, double* dx) {
    dx[0] = (40.0 * x[0] * x[0] + q.p.k1 * x[0] + q.p.k0 - x[1] + in.i) / 1e-3;
    dx[1] = q.p.a * (q.p.b * x[0] - x[1]);
  }
  static void split(const Params& q, const double* x, const NeuronInput& in, double* a, double* b) {
    double dx[2];
    derivatives(q, x, in, dx);
    a[0] = a[1] = 0.0;
    b[0] = dx[0];
    b[1] = dx[1];
  }
  static double threshold(const Params& q, const double*) { return q.p.v_peak; }
  static void reset(const Params& q, double* x) {
    x[0] = q.p.c;
    x[1] += q.p.d;
  }
};

TEST(Izhikevich, DefaultsAgreeWithRk45Reference) {
  // Regular spiking under a constant 10 mV drive: the population (Euler in 5 µs internal steps)
  // at the default dt = 0.1 ms against the adaptive RK45 solution of the same equations. (With
  // max_step = dt, Izhikevich's one-step scheme, the first spike is already 0.2 ms late.)
  for (double dt : {0.1e-3, 0.005e-3}) {
    Network net(dt, 1);
    net.add<IzhikevichPopulation>("n", 1, IzhikevichParams::preset("RS"));
    CurrentInputSpec in{"I", "n", {}, {}, Dimension::volts()};
    in.series.value = 10e-3;
    net.add_input(in);
    auto& spk = net.record_spikes("s", "n");
    net.run(1.0);
    NeuronInput ni;
    ni.i = 10e-3;
    const auto ref = reference_spike_times<IzhikevichReference>({IzhikevichParams::preset("RS")}, ni, 1.0);
    ASSERT_GE(ref.size(), 10u);
    ASSERT_GE(spk.times.size(), 10u);
    for (std::size_t k = 0; k < 10; ++k)
      EXPECT_NEAR(spk.times[k] + 0.5 * dt, ref[k], 0.1e-3) << "dt " << dt << " spike " << k;
  }
}

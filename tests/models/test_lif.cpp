// LIF against analytic solutions: subthreshold response, PSP shape, refractoriness, reset.
#include <gtest/gtest.h>

#include <cmath>

#include "volley/error.hpp"
#include "volley/models/lif.hpp"
#include "volley/models/sources.hpp"
#include "volley/network.hpp"

using namespace volley;

namespace {
constexpr double kDt = 1e-4;

LifParams quiet_lif() {
  LifParams p;
  p.tau_m = 20e-3;
  p.v_rest = -70e-3;
  p.v_th = -50e-3;
  p.v_reset = -60e-3;
  p.t_ref = 5e-3;
  p.R = 100e6;
  p.v_init = Distribution::constant(-70e-3);
  return p;
}
}  // namespace

TEST(Lif, SubthresholdStepCurrentMatchesAnalyticSolution) {
  Network net(kDt, 1);
  net.add<LifPopulation>("n", 1, quiet_lif());
  CurrentInputSpec in{"I", "n", {}, {}, Dimension::amperes()};
  in.series.value = 0.15e-9;  // v_inf = -70 mV + 100 MOhm * 0.15 nA = -55 mV < v_th
  net.add_input(in);
  auto& mon = net.record_state("v", "n", {"v"}, {0});
  net.run(0.2);
  ASSERT_EQ(mon.times.size(), 2000u);
  const double v_inf = -55e-3;
  double worst = 0.0;
  for (std::size_t k = 0; k < mon.times.size(); ++k) {
    const double exact = v_inf + (-70e-3 - v_inf) * std::exp(-mon.times[k] / 20e-3);
    worst = std::max(worst, std::abs(mon.values[0][k] - exact) / std::abs(exact));
  }
  EXPECT_LE(worst, 1e-5);
  EXPECT_EQ(net.spike_count("n"), 0u);
}

TEST(Lif, ExponentialSynapsePspMatchesAnalyticSolution) {
  // One input spike at t = 0 reaches the channel one step later (delay = dt).
  Network net(kDt, 1);
  auto p = quiet_lif();
  p.channels = {{"exc", 5e-3}};
  net.add<LifPopulation>("n", 1, p);
  net.add(std::make_unique<SpikeGenerator>("g", std::vector<SpikeEvent>{{0.0, 0}}), 1);
  ProjectionSpec s;
  s.name = "c";
  s.source = "g";
  s.target = "n";
  s.connector = OneToOne{};
  s.weight = Distribution::constant(2e-3);
  net.connect(s);
  auto& mon = net.record_state("v", "n", {"v", "exc"}, {0});
  net.run(0.1);
  const double tm = 20e-3, ts = 5e-3, w = 2e-3;
  double worst = 0.0;
  for (std::size_t k = 2; k < mon.times.size(); ++k) {
    const double t = mon.times[k] - kDt;  // time since the event reached the channel
    const double psp = w * ts / (ts - tm) * (std::exp(-t / ts) - std::exp(-t / tm));
    worst = std::max(worst, std::abs((mon.values[0][k] + 70e-3) - psp));
    EXPECT_NEAR(mon.values[1][k], w * std::exp(-t / ts), 1e-9);
  }
  EXPECT_LE(worst, 2e-7);  // volts: float resolution of v near -70 mV is 7e-9 V; peak PSP ~1 mV
}

// Alpha-shaped current (NEST's iaf_psc_alpha normalisation: weight = peak current), through the
// direct one-step path and through the delay ring, with tau_s both different from and equal to
// tau_m (the a = 0 branch of the propagator).
TEST(Lif, AlphaSynapsePspMatchesAnalyticSolution) {
  for (const double ts : {2e-3, 20e-3}) {
    for (const double delay : {kDt, 3e-3}) {
      Network net(kDt, 1);
      auto p = quiet_lif();
      // Alpha channels alone take a specialised kernel, mixed with others the generic one.
      p.channels = {{"exc", ts, true}};
      if (delay > kDt) p.channels.push_back({"inh", 5e-3});
      net.add<LifPopulation>("n", 1, p);
      net.add(std::make_unique<SpikeGenerator>("g", std::vector<SpikeEvent>{{0.0, 0}}), 1);
      ProjectionSpec s;
      s.name = "c";
      s.source = "g";
      s.target = "n";
      s.connector = OneToOne{};
      s.weight = Distribution::constant(20e-12);  // amperes: peak current 20 pA
      s.weight_dim = Dimension::amperes();
      s.delay = Distribution::constant(delay);
      net.connect(s);
      auto& mon = net.record_state("v", "n", {"v", "exc"}, {0});
      net.run(0.15);
      const double tm = 20e-3, w = 20e-12 * 100e6;  // peak of R I, volts
      const double a = 1.0 / ts - 1.0 / tm;
      double worst = 0.0, worst_g = 0.0, peak = 0.0;
      for (std::size_t k = 0; k < mon.times.size(); ++k) {
        const double t = mon.times[k] - delay;  // time since the event reached the channel
        const double g = t > 0 ? w * t / ts * std::exp(1.0 - t / ts) : 0.0;
        const double q = std::abs(a) < 1e-12 ? t * t / 2
                                             : (1.0 - std::exp(-a * t) * (1.0 + a * t)) / (a * a);
        const double psp = t > 0 ? w * std::exp(1.0) / (tm * ts) * std::exp(-t / tm) * q : 0.0;
        worst = std::max(worst, std::abs((mon.values[0][k] + 70e-3) - psp));
        worst_g = std::max(worst_g, std::abs(mon.values[1][k] - g));
        peak = std::max(peak, static_cast<double>(mon.values[1][k]));
      }
      // Float state: v near -70 mV carries ~4e-9 V of rounding per step (over 1500 steps), g
      // ~1e-7 relative per step; a step of timing error would be ~2e-5 V.
      EXPECT_LE(worst, 1e-6) << "tau_s " << ts << " delay " << delay;
      EXPECT_LE(worst_g, 2e-5 * w) << "tau_s " << ts << " delay " << delay;
      EXPECT_NEAR(peak, w, 1e-3 * w);  // the weight is the peak current
    }
  }
}

// Regression: the generic kernel (more channels than the specialised ones) read the drive array
// without a current input (a crash) and added it twice with one.
TEST(Lif, ManyChannelsUseTheGenericKernelCorrectly) {
  for (const bool with_drive : {false, true}) {
    Network net(kDt, 1);
    auto p = quiet_lif();
    p.channels = {{"a", 5e-3}, {"b", 5e-3}, {"c", 5e-3}, {"d", 5e-3}, {"x", 0.0}, {"y", 0.0}};
    net.add<LifPopulation>("n", 1, p);
    if (with_drive) {
      CurrentInputSpec in{"I", "n", {}, {}, Dimension::amperes()};
      in.series.value = 0.15e-9;
      net.add_input(in);
    }
    auto& mon = net.record_state("v", "n", {"v"}, {0});
    net.run(0.1);
    const double v_inf = with_drive ? -55e-3 : -70e-3;
    const double t = mon.times.back();
    EXPECT_NEAR(mon.values[0].back(), v_inf + (-70e-3 - v_inf) * std::exp(-t / 20e-3), 1e-6);
  }
}

TEST(Lif, RefractoryPeriodAndResetAreExact) {
  Network net(kDt, 1);
  auto p = quiet_lif();
  p.i_offset = 0.3e-9;  // v_inf = -40 mV: tonic firing
  net.add<LifPopulation>("n", 1, p);
  auto& spikes = net.record_spikes("s", "n");
  auto& mon = net.record_state("v", "n", {"v"}, {0});
  net.run(0.3);
  // Steps from reset to threshold: smallest n with v_reset + (v_inf - v_reset)(1 - e^{-n dt/tau}) > v_th.
  const double v_inf = -40e-3;
  const double n_cross = -20e-3 / kDt * std::log((v_inf - -50e-3) / (v_inf - -60e-3));
  ASSERT_GT(std::abs(n_cross - std::round(n_cross)), 0.05) << "crossing too close to a step edge";
  const auto cross_steps = static_cast<long>(std::ceil(n_cross));
  const long ref_steps = 49;  // held steps: integration resumes at t_spike + t_ref (50 steps)
  ASSERT_GE(spikes.times.size(), 5u);
  for (std::size_t k = 1; k < spikes.times.size(); ++k) {
    const long isi = std::lround((spikes.times[k] - spikes.times[k - 1]) / kDt);
    EXPECT_EQ(isi, ref_steps + cross_steps) << "spike " << k;
  }
  // After a spike in step s, v is v_reset at the start of steps s+1 ... s+50: the update of
  // step s+50 (t - t_spike = t_ref) is the first to integrate again.
  const auto s0 = static_cast<std::size_t>(std::lround(spikes.times[1] / kDt));
  for (std::size_t k = s0 + 1; k <= s0 + ref_steps + 1; ++k)
    EXPECT_EQ(mon.values[0][k], static_cast<float>(-60e-3)) << "step " << k;
  EXPECT_GT(mon.values[0][s0 + ref_steps + 2], static_cast<float>(-60e-3));
  EXPECT_GT(mon.values[0][s0], static_cast<float>(-51e-3));  // just below threshold before it
}

TEST(Lif, DeltaSynapseJumpsVoltageAndIsIgnoredWhileRefractory) {
  Network net(kDt, 1);
  auto p = quiet_lif();
  p.channels = {{"jump", 0.0}};
  net.add<LifPopulation>("n", 1, p);
  // Spike 1 at 10 ms: +5 mV. Spike 2 at 20 ms: +25 mV -> fires. Spike 3 at 21 ms: refractory.
  net.add(std::make_unique<SpikeGenerator>(
              "g", std::vector<SpikeEvent>{{10e-3, 0}, {20e-3, 0}, {21e-3, 0}}),
          1);
  net.add(std::make_unique<SpikeGenerator>("h", std::vector<SpikeEvent>{{20e-3, 0}, {21e-3, 0}}), 1);
  ProjectionSpec s;
  s.name = "small";
  s.source = "g";
  s.target = "n";
  s.channel = "jump";
  s.connector = OneToOne{};
  s.weight = Distribution::constant(5e-3);
  net.connect(s);
  s.name = "big";
  s.source = "h";
  s.weight = Distribution::constant(20e-3);
  net.connect(s);
  auto& mon = net.record_state("v", "n", {"v"}, {0});
  auto& spk = net.record_spikes("s", "n");
  net.run(0.03);
  // The event emitted at step 100 is applied in step 101: v at the start of step 102.
  EXPECT_NEAR(mon.values[0][101], -70e-3, 1e-7);
  EXPECT_NEAR(mon.values[0][102], -65e-3, 1e-7);
  ASSERT_EQ(spk.times.size(), 1u);
  EXPECT_NEAR(spk.times[0], 201 * kDt, 1e-12);
  EXPECT_EQ(mon.values[0][212], static_cast<float>(-60e-3));  // 30 mV more arrived, dropped
}

TEST(Lif, RejectsImpossibleParameters) {
  auto p = quiet_lif();
  p.tau_m = -1e-3;
  EXPECT_THROW(LifPopulation("x", p), ParameterError);
  p = quiet_lif();
  p.v_reset = -40e-3;
  EXPECT_THROW(LifPopulation("x", p), ParameterError);
  p = quiet_lif();
  p.t_ref = -1e-3;
  EXPECT_THROW(LifPopulation("x", p), ParameterError);
}

// Where a hand-vectorised kernel exists (AVX-512 builds), it must give the portable kernel's
// results: the same spikes at the same steps and the same final voltages, for each specialised
// case (exponential channels with and without rings, a delta channel, a drive), populations
// whose size is not a multiple of the vector width, and thread slices. In release builds the
// voltages are bit-identical too (the vector kernel does the float operations of the portable
// loop as gcc -O3 contracts them); the sanitizer builds compile the portable loop at -O1, where
// gcc fuses multiply-adds differently, so v is allowed its last 4 ulps. In builds without a
// vector kernel, both runs use the portable kernel and the test still checks determinism.
namespace {
struct KernelRun {
  std::vector<double> times;
  std::vector<std::uint32_t> units;
  std::vector<double> v;
};

KernelRun run_kernel_case(std::vector<SynapticChannel> channels, bool drive, bool portable) {
  LifPopulation::use_portable_kernel(portable);
  Network net(kDt, 7);
  auto p = quiet_lif();
  p.v_rest = -49e-3;  // above threshold: regular firing, refractory neurons in every step
  p.channels = std::move(channels);
  p.v_init = Distribution::uniform(-60e-3, -50e-3);
  auto& pop = net.add<LifPopulation>("n", 1003, p);
  PoissonGroupParams pg;
  pg.rate = 200.0;
  net.add<PoissonGroup>("in", 200, pg);
  if (drive) {
    CurrentInputSpec in{"I", "n", {}, {}, Dimension::amperes()};
    in.series.value = 0.02e-9;
    net.add_input(in);
  }
  for (std::size_t c = 0; c < p.channels.size(); ++c) {
    ProjectionSpec s;
    s.name = "rec" + std::to_string(c);
    s.source = "n";
    s.target = "n";
    s.channel = p.channels[c].name;
    s.connector = FixedProbability{0.02};
    s.weight = Distribution::uniform(-0.5e-3, 0.4e-3);
    // exponential channels: one with 1-step delays (into the state), one through the ring
    s.delay = Distribution::constant(c == 1 ? 1.5e-3 : 0.0);
    net.connect(s);
    s.name = "in" + std::to_string(c);
    s.source = "in";
    s.weight = Distribution::constant(0.3e-3);
    net.connect(s);
  }
  auto& spikes = net.record_spikes("s", "n");
  net.run(0.2, RunOptions{2});
  LifPopulation::use_portable_kernel(false);
  KernelRun r{spikes.times, spikes.units, {}};
  const auto v = pop.variable("v");
  for (std::size_t i = 0; i < pop.size(); ++i) r.v.push_back(v.at(i));
  return r;
}
}  // namespace

TEST(LifKernels, VectorAndPortableKernelsAreBitIdentical) {
  const std::vector<std::pair<std::vector<SynapticChannel>, bool>> cases = {
      {{{"e", 5e-3}, {"i", 10e-3}}, false},              // CUBA
      {{{"e", 5e-3}, {"i", 10e-3}}, true},
      {{{"e", 5e-3}}, true},
      {{{"e", 5e-3}, {"i", 10e-3}, {"x", 3e-3}}, false},
      {{{"d", 0.0}}, false},                              // a delta channel only
      {{{"e", 5e-3}, {"d", 0.0}}, true},
      {{{"e", 5e-3}, {"i", 10e-3}, {"x", 3e-3}, {"d", 0.0}}, false},
  };
  for (std::size_t k = 0; k < cases.size(); ++k) {
    const KernelRun a = run_kernel_case(cases[k].first, cases[k].second, true);
    const KernelRun b = run_kernel_case(cases[k].first, cases[k].second, false);
    ASSERT_GT(a.times.size(), 1000u) << "case " << k;
    EXPECT_EQ(a.times, b.times) << "case " << k;
    EXPECT_EQ(a.units, b.units) << "case " << k;
    ASSERT_EQ(a.v.size(), b.v.size());
    for (std::size_t i = 0; i < a.v.size(); ++i) {
      const double ulp = std::nextafter(static_cast<float>(std::abs(a.v[i])), 1.0f) -
                         static_cast<float>(std::abs(a.v[i]));
      ASSERT_LE(std::abs(a.v[i] - b.v[i]), 4.0 * ulp) << "case " << k << " neuron " << i;
    }
  }
}

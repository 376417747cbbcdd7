// ODE neuron models: the fixed-step integrators against the adaptive RK45 reference of the same
// equations, resting states, and the excitability figures the literature gives.
#include <gtest/gtest.h>

#include <cmath>

#include <filesystem>

#include "volley/error.hpp"
#include "volley/io/model_file.hpp"
#include "volley/models/ode_models.hpp"
#include "support/ode_reference.hpp"
#include "volley/network.hpp"

using namespace volley;

namespace {

// Spike times of one neuron of model M driven by a constant current, simulated by volley.
template <class M>
std::vector<double> simulate(const typename M::Params& p, Integrator method, double current,
                             double duration, double dt) {
  Network net(dt, 1);
  OdePopulationParams<M> pp;
  pp.model = p;
  pp.method = method;
  pp.max_step = std::min(pp.max_step, dt);  // the test chooses the step
  net.add<OdePopulation<M>>("n", 1, pp);
  CurrentInputSpec in{"I", "n", {}, {}, Dimension::amperes()};
  in.series.value = current;
  net.add_input(in);
  auto& s = net.record_spikes("s", "n");
  net.run(duration);
  return s.times;
}

// The first `count` spike times agree with the RK45 reference within `tolerance`.
template <class M>
void expect_matches_reference(const typename M::Params& p, Integrator method, double current,
                              double dt, double tolerance, std::size_t count = 10) {
  NeuronInput in;
  in.i = current;
  const auto ref = reference_spike_times<M>(p, in, 1.0);
  const auto got = simulate<M>(p, method, current, 1.0, dt);
  ASSERT_GE(ref.size(), count);
  ASSERT_GE(got.size(), count);
  for (std::size_t k = 0; k < count; ++k)
    EXPECT_NEAR(got[k], ref[k], tolerance)
        << M::kName << " " << integrator_name(method) << " spike " << k;
}

}  // namespace

TEST(HodgkinHuxley, RestsAtMinus65mVWithoutInput) {
  const auto s = simulate<HodgkinHuxley>({}, Integrator::kExponentialEuler, 0.0, 0.5, 1e-4);
  EXPECT_TRUE(s.empty());
  double x[4];
  HodgkinHuxley::initial({}, x);
  double dx[4];
  HodgkinHuxley::derivatives({}, x, {}, dx);
  EXPECT_LT(std::abs(dx[0]), 0.05);  // V/s: within 0.05 mV/ms of equilibrium
}

TEST(HodgkinHuxley, SpikeTimesMatchRk45Reference) {
  // 10 µA/cm² (area 1 cm²): tonic firing near 68 Hz. RK4 with 10 µs steps (the default) keeps
  // the first 10 spikes within 0.1 ms. The first-order methods drift (exponential Euler: 5 % of
  // each interval at 0.1 ms steps, 0.7 % at 0.01 ms), so they are held to the first spike.
  expect_matches_reference<HodgkinHuxley>({}, Integrator::kRk4, 10e-6, 0.01e-3, 0.1e-3);
  expect_matches_reference<HodgkinHuxley>({}, Integrator::kExponentialEuler, 10e-6, 0.01e-3,
                                          0.1e-3, 1);
  // Forward Euler is unstable for HH above dt ~ 0.01 ms (membrane time constant at the spike
  // peak is ~6 µs).
  expect_matches_reference<HodgkinHuxley>({}, Integrator::kEuler, 10e-6, 0.002e-3, 0.1e-3, 1);
}

TEST(HodgkinHuxley, DefaultsMeetTheReferenceAtTheDefaultDt) {
  // The network runs at dt = 0.1 ms; the population substeps RK4 at 10 µs internally.
  Network net(0.1e-3, 1);
  net.add<OdePopulation<HodgkinHuxley>>("n", 1, OdePopulationParams<HodgkinHuxley>{});
  CurrentInputSpec in{"I", "n", {}, {}, Dimension::amperes()};
  in.series.value = 10e-6;
  net.add_input(in);
  auto& s = net.record_spikes("s", "n");
  net.run(1.0);
  NeuronInput ni;
  ni.i = 10e-6;
  const auto ref = reference_spike_times<HodgkinHuxley>({}, ni, 1.0);
  ASSERT_GE(s.times.size(), 10u);
  // A spike is reported at the start of the network step in which v crosses 0 mV.
  for (std::size_t k = 0; k < 10; ++k) EXPECT_NEAR(s.times[k] + 0.05e-3, ref[k], 0.1e-3) << k;
}

TEST(MorrisLecar, SpikeTimesMatchRk45Reference) {
  expect_matches_reference<MorrisLecar>(MorrisLecar::Params::hopf(), Integrator::kRk4, 110e-6,
                                        0.1e-3, 0.1e-3);
  expect_matches_reference<MorrisLecar>(MorrisLecar::Params::snlc(), Integrator::kRk4, 50e-6,
                                        0.1e-3, 0.1e-3);
  expect_matches_reference<MorrisLecar>(MorrisLecar::Params::snlc(),
                                        Integrator::kExponentialEuler, 50e-6, 0.01e-3, 0.1e-3, 2);
}

// Integrate-and-fire models at their defaults and the network's default dt = 0.1 ms: the first
// 10 spikes (reported at the start of the step in which v reaches the cut-off) are within
// 0.1 ms of the RK45 reference.
template <class M>
void expect_defaults_match_reference(const typename M::Params& p, double current) {
  Network net(0.1e-3, 1);
  OdePopulationParams<M> pp;
  pp.model = p;
  net.add<OdePopulation<M>>("n", 1, pp);
  CurrentInputSpec in{"I", "n", {}, {}, Dimension::amperes()};
  in.series.value = current;
  net.add_input(in);
  auto& s = net.record_spikes("s", "n");
  net.run(1.0);
  NeuronInput ni;
  ni.i = current;
  const auto ref = reference_spike_times<M>(p, ni, 1.0);
  ASSERT_GE(ref.size(), 10u) << M::kName;
  ASSERT_GE(s.times.size(), 10u) << M::kName;
  for (std::size_t k = 0; k < 10; ++k)
    EXPECT_NEAR(s.times[k] + 0.05e-3, ref[k], 0.1e-3) << M::kName << " spike " << k;
}

TEST(IntegrateAndFire, DefaultsMatchRk45Reference) {
  expect_defaults_match_reference<AdEx>({}, 1e-9);          // adapting: intervals lengthen
  AdEx::Params eif;
  eif.a = eif.b = 0.0;
  expect_defaults_match_reference<AdEx>(eif, 0.8e-9);
  expect_defaults_match_reference<Qif>({}, 150e-12);
  expect_defaults_match_reference<Alif>({}, 0.3e-9);        // v_inf = -40 mV, threshold adapts
}

TEST(TraubHH, DefaultsMatchRk45Reference) {
  // The COBAHH neuron alone, starting from its gates-closed state, driven by 0.5 nA.
  expect_defaults_match_reference<TraubHH>({}, 0.5e-9);
}

TEST(IntegrateAndFire, AdaptationLengthensIntervals) {
  NeuronInput in;
  in.i = 1e-9;
  const auto s = reference_spike_times<AdEx>({}, in, 1.0);
  ASSERT_GE(s.size(), 5u);
  EXPECT_GT(s[4] - s[3], 1.5 * (s[1] - s[0]));
  const auto a = reference_spike_times<Alif>({}, NeuronInput{0, 0, 0.3e-9}, 1.0);
  ASSERT_GE(a.size(), 5u);
  EXPECT_GT(a[4] - a[3], a[1] - a[0]);
}

TEST(WangBuzsaki, SpikeTimesMatchRk45Reference) {
  expect_matches_reference<WangBuzsaki>({}, Integrator::kRk4, 1e-6, 0.01e-3, 0.1e-3);
}

// Class I versus class II onset: just above rheobase Wang-Buzsaki fires slowly (Wang & Buzsaki
// 1996: arbitrarily low rates near 0.16 uA/cm2), Hodgkin-Huxley jumps to about 50 Hz.
TEST(OdeModels, OnsetRatesSeparateClassIAndClassII) {
  auto rate = [](auto model, double current) {
    using M = decltype(model);
    NeuronInput in;
    in.i = current;
    const auto s = reference_spike_times<M>(typename M::Params{}, in, 2.0);
    if (s.size() < 3) return 0.0;
    return (s.size() - 2) / (s.back() - s[1]);  // skip the transient first interval
  };
  EXPECT_EQ(rate(WangBuzsaki{}, 0.10e-6), 0.0);
  const double wb = rate(WangBuzsaki{}, 0.20e-6);
  EXPECT_GT(wb, 0.0);
  EXPECT_LT(wb, 20.0);
  EXPECT_EQ(rate(HodgkinHuxley{}, 6.0e-6), 0.0);
  EXPECT_GT(rate(HodgkinHuxley{}, 6.5e-6), 40.0);
}

// A population refuses parameters outside their declared ranges and ones that contradict each
// other, naming the population and the parameter.
template <class M>
std::string population_error(const typename M::Params& p) {
  OdePopulationParams<M> pp;
  pp.model = p;
  try {
    OdePopulation<M> pop("bad", pp);
  } catch (const ParameterError& e) {
    return e.what();
  }
  return {};
}

TEST(OdeModels, RejectImpossibleParameters) {
  MorrisLecar::Params ml;
  ml.phi = 0.0;
  EXPECT_EQ(population_error<MorrisLecar>(ml), "population 'bad': phi must be > 0, got 0");
  ml = MorrisLecar::Params::snlc();
  ml.v4 = 0.0;
  EXPECT_EQ(population_error<MorrisLecar>(ml), "population 'bad': V4 must not be 0");
  HodgkinHuxley::Params hh;
  hh.c_m = -1.0;
  EXPECT_EQ(population_error<HodgkinHuxley>(hh), "population 'bad': C_m must be > 0, got -1");
  Qif::Params qif;
  qif.v_peak = qif.v_reset;
  EXPECT_EQ(population_error<Qif>(qif), "population 'bad': v_peak must be above v_reset");
  EXPECT_EQ(population_error<Qif>(Qif::Params{}), "");
}

TEST(OdeModels, CobahhExampleIsDeterministicAcrossThreads) {
  const auto path = std::filesystem::path(VOLLEY_SOURCE_DIR) / "examples" / "cobahh.toml";
  auto run = [&](int threads) {
    io::LoadOptions opt;
    opt.duration = 0.1;
    opt.threads = threads;
    opt.overrides = {"populations.P.size=800", "projections.Ce.source=\"P[0:640]\"",
                     "projections.Ci.source=\"P[640:]\""};
    auto m = io::load_model_file(path.string(), opt);
    m.network->run(m.duration, {m.threads});
    return m.network->spike_monitors().at(0)->units;
  };
  const auto one = run(1);
  EXPECT_GT(one.size(), 100u);
  EXPECT_EQ(one, run(2));
  EXPECT_EQ(one, run(3));
}

TEST(OdeModels, ModelFileErrorsNameTheField) {
  auto load = [](const std::string& extra) {
    const std::string text = "[populations.n]\nmodel = \"morris_lecar\"\nsize = 1\n" + extra;
    return io::load_model_string(text, "ml.toml");
  };
  EXPECT_NO_THROW(load("preset = \"snlc\"\n"));
  try {
    load("preset = \"saddle\"\n");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("ml.toml:4: populations.n.preset: unknown preset 'saddle'"),
              std::string::npos)
        << e.what();
  }
  try {
    load("phi = 0\n");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("populations.n.phi"), std::string::npos) << e.what();
  }
  try {
    load("C_m = \"-20 uF\"\n");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("populations.n.C_m"), std::string::npos) << e.what();
  }
  try {
    load("method = \"leapfrog\"\n");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "ml.toml:4: populations.n.method: unknown method 'leapfrog' (expected one of"),
              std::string::npos)
        << e.what();
  }
}

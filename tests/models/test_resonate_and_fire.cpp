// The resonate-and-fire neuron (Izhikevich 2001) against its analytic subthreshold solution, and
// its defining property: resonance. Built through the neuron-model registry, as users do.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "volley/error.hpp"
#include "volley/inputs.hpp"
#include "volley/models/registry.hpp"
#include "volley/models/resonate_and_fire.hpp"
#include "volley/network.hpp"

using namespace volley;

namespace {

constexpr double kDt = 1e-4;

struct Setting {
  double f, b;  // Hz, 1/s
};

// v - v_rest and u of the kicked oscillator z(t) = u0 e^{(b + i omega) t}.
double v_dev(const Setting& s, double u0, double t) {
  return u0 * std::exp(s.b * t) * std::sin(2.0 * std::numbers::pi * s.f * t);
}
double u_of(const Setting& s, double u0, double t) {
  return u0 * std::exp(s.b * t) * std::cos(2.0 * std::numbers::pi * s.f * t);
}

PopulationSpec spec_for(const Setting& s) {
  PopulationSpec spec;
  spec.params = {{"f", s.f}, {"b", s.b}};
  return spec;
}

// Spike count of one neuron at rest driven by current pulses of `amplitude` and `width` at
// `starts`.
std::size_t spikes_for_pulses(double amplitude, double width, const std::vector<double>& starts,
                              double duration) {
  Network net(kDt, 1);
  add_population(net, "resonate_and_fire", "n", 1);
  CurrentInputSpec in{"I", "n", {}, {}, Dimension::amperes()};
  in.series.kind = TimeSeries::Kind::kSteps;
  for (double t0 : starts) {
    in.series.times.insert(in.series.times.end(), {t0, t0 + width});
    in.series.values.insert(in.series.values.end(), {amplitude, 0.0});
  }
  net.add_input(in);
  auto& s = net.record_spikes("s", "n");
  net.run(duration);
  return s.times.size();
}

}  // namespace

// A kick u(0) = u0 from rest rings down as v - v_rest = u0 e^{bt} sin(2 pi f t), for the defaults
// and for another frequency and damping set through the registry.
TEST(ResonateAndFire, SubthresholdResponseIsTheDampedOscillation) {
  const ResonateAndFire::Params p;
  for (const Setting s : {Setting{p.f, p.b}, Setting{35.0, -25.0}}) {
    Network net(kDt, 1);
    PopulationSpec spec = spec_for(s);
    const double u0 = 5e-3;
    spec.initial = {{"u", Distribution::constant(u0)}};
    add_population(net, "resonate_and_fire", "n", 1, spec);
    auto& mon = net.record_state("m", "n", {"v", "u"}, {0}, 1);
    auto& spikes = net.record_spikes("s", "n");
    net.run(0.3);
    ASSERT_EQ(mon.times.size(), 3000u);
    EXPECT_TRUE(spikes.times.empty());
    double worst = 0.0;
    for (std::size_t k = 0; k < mon.times.size(); ++k) {
      const double t = mon.times[k];
      worst = std::max(worst, std::abs(mon.values[0][k] - (p.v_rest + v_dev(s, u0, t))));
      worst = std::max(worst, std::abs(mon.values[1][k] - u_of(s, u0, t)));
    }
    // Float storage of v (~4 nV at -65 mV) dominates; RK4's error is ~1e-11 per step.
    EXPECT_LT(worst, 2e-8) << "f " << s.f << " b " << s.b;

    // The same read the other way: the period between upward zero crossings of v - v_rest is
    // 1/f, and the modulus |z| = |u + i (v - v_rest)| decays as e^{bt}.
    std::vector<double> ups;
    for (std::size_t k = 1; k < mon.times.size(); ++k) {
      const double a = mon.values[0][k - 1] - p.v_rest, c = mon.values[0][k] - p.v_rest;
      if (a < 0.0 && c >= 0.0) ups.push_back(mon.times[k - 1] + kDt * a / (a - c));
    }
    ASSERT_GE(ups.size(), 3u);
    EXPECT_NEAR(ups[2] - ups[1], 1.0 / s.f, 1e-5);
    const auto modulus = [&](std::size_t k) {
      return std::hypot(mon.values[1][k], mon.values[0][k] - p.v_rest);
    };
    EXPECT_NEAR(modulus(1500) / modulus(500), std::exp(s.b * 1000 * kDt), 1e-5);
  }
}

// A constant current moves the rest to v - v_rest = (I/C) omega / (b^2 + omega^2).
TEST(ResonateAndFire, ConstantCurrentShiftsTheRestAsTheSteadyStateSays) {
  const ResonateAndFire::Params p;
  Network net(kDt, 1);
  add_population(net, "resonate_and_fire", "n", 1);
  CurrentInputSpec in{"I", "n", {}, {}, Dimension::amperes()};
  in.series.value = 50e-12;
  net.add_input(in);
  auto& mon = net.record_state("m", "n", {"v"}, {0}, 1);
  net.run(1.5);  // 15 decay times
  const double omega = 2.0 * std::numbers::pi * p.f;
  const double expected = in.series.value / p.c_m * omega / (p.b * p.b + omega * omega);
  EXPECT_NEAR(mon.values[0].back() - p.v_rest, expected, 1e-3 * expected);
}

// Resonance (Izhikevich 2001, Fig. 3): two brief pulses one eigenperiod apart add up and make
// the neuron fire; the same two pulses half a period apart cancel, and one pulse alone stays
// below threshold.
TEST(ResonateAndFire, PulsePairFiresAtTheEigenperiodNotAtHalfOfIt) {
  const ResonateAndFire::Params p;
  const double period = 1.0 / p.f, width = 1e-3;
  // Peak of e^{bt} sin(omega t) over the first half period: the response of v to a unit kick.
  double peak = 0.0;
  for (double t = 0.0; t < 0.5 * period; t += 1e-6)
    peak = std::max(peak, v_dev({p.f, p.b}, 1.0, t));
  // Pulses whose single response reaches 80% of the way to threshold.
  const double kick = 0.8 * (p.v_th - p.v_rest) / peak;
  const double amplitude = kick * p.c_m / width;
  // In phase the second kick adds to the first's remainder e^{b T}: 1.6x, above threshold.
  ASSERT_GT(0.8 * (1.0 + std::exp(p.b * period)), 1.0);

  const double t0 = 20e-3;
  EXPECT_EQ(spikes_for_pulses(amplitude, width, {t0}, 0.3), 0u);
  EXPECT_EQ(spikes_for_pulses(amplitude, width, {t0, t0 + 0.5 * period}, 0.3), 0u);
  EXPECT_EQ(spikes_for_pulses(amplitude, width, {t0, t0 + period}, 0.3), 1u);
  // Resonance, not mere summation: the pair at half a period is closer in time yet silent, and
  // a pair one and a half periods apart is silent again.
  EXPECT_EQ(spikes_for_pulses(amplitude, width, {t0, t0 + 1.5 * period}, 0.3), 0u);
}

TEST(ResonateAndFire, RegistryChecksItsDeclaredRanges) {
  Network net(kDt, 1);
  PopulationSpec spec;
  spec.params = {{"b", 5.0}};  // a growing oscillation
  try {
    add_population(net, "resonate_and_fire", "n", 1, spec);
    FAIL() << "b > 0 accepted";
  } catch (const ParameterError& e) {
    EXPECT_NE(std::string(e.what()).find("population 'n': b must be < 0, got 5"), std::string::npos)
        << e.what();
  }
  spec.params = {{"v_th", -70e-3}};
  EXPECT_THROW(add_population(net, "resonate_and_fire", "n", 1, spec), ParameterError);
}

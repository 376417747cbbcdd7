// The IPD task: labels bin the IPD, samples repeat exactly, and the right ear leads by the IPD.
#include <gtest/gtest.h>

#include <cmath>

#include "volley/ear/ipd_task.hpp"
#include "volley/error.hpp"

namespace ve = volley::ear;

TEST(IpdTask, LabelsBinTheIpdAndSamplesRepeat) {
  ve::IpdTaskConfig c;
  c.samples = 500;
  ve::IpdSource src(c);
  std::vector<int> per_class(c.classes, 0);
  for (std::size_t i = 0; i < src.size(); ++i) {
    const double ipd = src.ipd_deg(i);
    ASSERT_GE(ipd, -90.0);
    ASSERT_LT(ipd, 90.0);
    const int y = src.label(i);
    per_class[static_cast<std::size_t>(y)] += 1;
    EXPECT_LE(std::fabs(src.class_centre_deg(y) - ipd), 180.0 / 12 / 2 + 1e-9);
  }
  for (int n : per_class) EXPECT_GT(n, 20);  // roughly uniform
  volley::data::SampleEvents a, b;
  src.fill(7, 0, a);
  src.fill(7, 5, b);  // another epoch: the same sample
  EXPECT_EQ(a.units, b.units);
  EXPECT_EQ(a.offsets, b.offsets);
}

TEST(IpdTask, RightEarLeadsByTheIpd) {
  // Spike-time phase of each ear's fibres (circular mean of 2π·f·t over all spikes of many
  // samples with the same IPD would need a fixed start phase; instead compare the two ears'
  // phases within each sample).
  ve::IpdTaskConfig c;
  c.samples = 200;
  c.steps = 500;  // 10 cycles of 20 Hz
  ve::IpdSource src(c);
  volley::data::SampleEvents ev;
  double err = 0.0;
  for (std::size_t i = 0; i < src.size(); ++i) {
    src.fill(i, 0, ev);
    double sx[2] = {0, 0}, sy[2] = {0, 0};
    for (std::size_t t = 0; t < c.steps; ++t)
      for (std::uint32_t e = ev.offsets[t]; e < ev.offsets[t + 1]; ++e) {
        const int ear = ev.units[e] < c.fibres ? 0 : 1;
        const double th = 2.0 * M_PI * c.frequency * static_cast<double>(t) * c.dt;
        sx[ear] += std::cos(th);
        sy[ear] += std::sin(th);
      }
    // Phase at which each ear fires most; the right ear's is earlier by the IPD.
    const double lead = std::atan2(sy[0], sx[0]) - std::atan2(sy[1], sx[1]);
    double d = std::remainder(lead * 180.0 / M_PI - src.ipd_deg(i), 360.0);
    err += std::fabs(d);
  }
  EXPECT_LT(err / static_cast<double>(src.size()), 5.0);
}

TEST(IpdTask, RejectsImpossibleSettings) {
  ve::IpdTaskConfig c;
  c.rate_max = 2000.0;  // more than one spike per 1 ms step
  EXPECT_THROW(ve::IpdSource{c}, volley::ParameterError);
  c = {};
  c.classes = 1;
  EXPECT_THROW(ve::IpdSource{c}, volley::ParameterError);
}

// The Jeffress network built with the C++ API (jeffress_network, what run_jeffress runs) is the
// network of its model file (jeffress_model_text, what `volley sim` runs): the same objects,
// synapses and delays, and the same spikes for the same seed.
#include <gtest/gtest.h>

#include "volley/analysis/sound_localization.hpp"
#include "volley/error.hpp"
#include "volley/io/model_file.hpp"

namespace va = volley::analysis;

namespace {

void expect_same_network(const va::JeffressConfig& c, double ipd_deg) {
  SCOPED_TRACE(testing::Message() << c.fibres_per_ear << " fibre(s), IPD " << ipd_deg);
  auto api = va::jeffress_network(c, ipd_deg);
  auto file = volley::io::load_model_string(va::jeffress_model_text(c, ipd_deg), "jeffress");
  volley::Network& a = *api;
  volley::Network& b = *file.network;
  EXPECT_EQ(a.dt(), b.dt());
  EXPECT_EQ(a.seed(), b.seed());
  ASSERT_EQ(a.populations().size(), b.populations().size());
  for (std::size_t k = 0; k < a.populations().size(); ++k) {
    EXPECT_EQ(a.populations()[k]->name(), b.populations()[k]->name());
    EXPECT_EQ(a.populations()[k]->size(), b.populations()[k]->size());
  }
  ASSERT_EQ(a.projections().size(), b.projections().size());
  for (std::size_t k = 0; k < a.projections().size(); ++k) {
    const auto& p = *a.projections()[k];
    const auto& q = *b.projections()[k];
    EXPECT_EQ(p.name(), q.name());
    ASSERT_EQ(p.synapse_count(), q.synapse_count()) << p.name();
    for (std::size_t s = 0; s < p.synapse_count(); ++s) {
      EXPECT_EQ(p.targets()[s], q.targets()[s]) << p.name();
      EXPECT_EQ(p.delay_steps(s), q.delay_steps(s)) << p.name() << " synapse " << s;
    }
  }
  a.run(file.duration);
  b.run(file.duration);
  const auto& sa = *a.spike_monitors().at(0);
  const auto& sb = *b.spike_monitors().at(0);
  EXPECT_GT(sa.units.size(), 0u);
  EXPECT_EQ(sa.units, sb.units);
  EXPECT_EQ(sa.times, sb.times);
}

}  // namespace

TEST(JeffressNetwork, IsTheNetworkOfItsModelFile) {
  va::JeffressConfig c;
  c.duration = 0.3;
  expect_same_network(c, 90.0);
  c.fibres_per_ear = 3;
  c.detectors = 17;
  c.seed = 12345;
  expect_same_network(c, 250.0);
}

TEST(JeffressNetwork, RejectsImpossibleSettingsLikeTheModelFile) {
  va::JeffressConfig c;
  c.detectors = 1;
  EXPECT_THROW(va::jeffress_network(c, 0.0), volley::ParameterError);
}

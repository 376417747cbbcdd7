// Reservoir computing: a fixed random spiking reservoir with a ridge readout learns the toy task,
// the readout does not depend on the thread count, recurrence adds memory capacity, and bad
// settings are named.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "support/toy_events.hpp"
#include "volley/error.hpp"
#include "volley/train/reservoir.hpp"

namespace vt = volley::train;
using volley::test::toy_data;

namespace {

vt::NetConfig reservoir_net() {
  vt::NetConfig c;
  c.n_inputs = 20;
  c.n_steps = 30;
  vt::LayerConfig h;
  h.size = 60;
  h.weight_scale = 20.0;
  h.recurrent = true;
  h.recurrent_density = 0.2;
  h.recurrent_scale = 3.0;
  vt::LayerConfig o;
  o.kind = vt::LayerKind::readout;
  o.size = 2;
  c.layers = {h, o};
  c.seed = 4;
  return c;
}

}  // namespace

TEST(Reservoir, RidgeReadoutLearnsTheToyTaskWhateverTheThreads) {
  const vt::StoredEvents train = toy_data(300, 1), test = toy_data(100, 2);
  const vt::Net net(reservoir_net());
  vt::ReservoirConfig rc;
  rc.time_bins = 3;
  const vt::ReservoirResult one = vt::fit_reservoir(net, train, test, rc);
  rc.threads = 2;
  const vt::ReservoirResult two = vt::fit_reservoir(net, train, test, rc);
  std::printf("reservoir toy task: train %.3f, test %.3f, %.1f spikes per sample\n", one.train_accuracy,
              one.test_accuracy, one.mean_spikes_per_sample);
  EXPECT_GE(one.test_accuracy, 0.9);
  EXPECT_GT(one.mean_spikes_per_sample, 10.0);
  EXPECT_EQ(one.features, 60u * 3u + 1u);
  EXPECT_EQ(one.confusion, two.confusion);
  EXPECT_EQ(one.test_accuracy, two.test_accuracy);
}

TEST(Reservoir, RecurrenceAddsMemoryCapacity) {
  vt::LayerConfig l;
  l.size = 200;
  l.tau_mem = 20e-3;
  l.density = 0.2;
  vt::MemoryCapacityConfig m;
  m.values = 4000;
  m.max_delay = 15;
  const vt::MemoryCapacityResult feedforward = vt::memory_capacity(l, 1e-3, m);
  l.recurrent = true;
  l.recurrent_density = 0.1;
  l.recurrent_scale = 6.0;
  const vt::MemoryCapacityResult recurrent = vt::memory_capacity(l, 1e-3, m);
  std::printf("memory capacity: feedforward %.3f, recurrent %.3f (r² at delay 1: %.3f, %.3f)\n", feedforward.capacity,
              recurrent.capacity, feedforward.r2[1], recurrent.r2[1]);
  ASSERT_EQ(recurrent.r2.size(), 16u);
  EXPECT_GT(recurrent.capacity, feedforward.capacity);
  EXPECT_GT(recurrent.r2[1], recurrent.r2[15]);  // memory fades with delay
  EXPECT_GT(recurrent.capacity, 0.3);
}

TEST(Reservoir, BadSettingsAreNamed) {
  const vt::StoredEvents data = toy_data(10, 1);
  const vt::Net net(reservoir_net());
  vt::ReservoirConfig rc;
  rc.time_bins = 0;
  EXPECT_THAT([&] { vt::fit_reservoir(net, data, data, rc); },
              ::testing::ThrowsMessage<volley::ParameterError>(::testing::HasSubstr("time_bins")));
  rc = {};
  rc.ridge = -1;
  EXPECT_THAT([&] { vt::fit_reservoir(net, data, data, rc); },
              ::testing::ThrowsMessage<volley::ParameterError>(::testing::HasSubstr("ridge")));
  vt::MemoryCapacityConfig m;
  m.values = 10;
  EXPECT_THROW(vt::memory_capacity(vt::LayerConfig{}, 1e-3, m), volley::ParameterError);
}

// The CUBA network (examples/cuba.toml) written against the C++ API instead of a model file.
// Build: part of the default build (build/examples/cuba_api). Run: build/examples/cuba_api
// Expected output: about 24 000 spikes in 1 s, a mean rate near 6 Hz for seed 1.
#include <cstdio>

#include "volley/models/lif.hpp"
#include "volley/network.hpp"

int main() {
  volley::LifParams lif;
  lif.tau_m = 20e-3;
  lif.v_rest = -49e-3;
  lif.v_th = -50e-3;
  lif.v_reset = -60e-3;
  lif.t_ref = 5e-3;
  lif.channels = {{"exc", 5e-3}, {"inh", 10e-3}};
  lif.v_init = volley::Distribution::uniform(-60e-3, -50e-3);

  volley::Network net(/*dt=*/1e-4, /*seed=*/1);
  net.add<volley::LifPopulation>("P", 4000, lif);
  net.connect({.name = "Ce", .source = "P", .target = "P", .source_slice = {0, 3200},
               .channel = "exc", .connector = volley::FixedProbability{0.02},
               .weight = volley::Distribution::constant(1.62e-3)});
  net.connect({.name = "Ci", .source = "P", .target = "P", .source_slice = {3200},
               .channel = "inh", .connector = volley::FixedProbability{0.02},
               .weight = volley::Distribution::constant(-9e-3)});
  auto& spikes = net.record_spikes("spikes", "P");
  const auto stats = net.run(1.0, {.threads = 1});

  std::printf("%zu spikes, %.2f Hz, %.3f s wall\n", spikes.times.size(),
              static_cast<double>(spikes.times.size()) / 4000.0, stats.wall_seconds);
  return spikes.times.empty() ? 1 : 0;
}

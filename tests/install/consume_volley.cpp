// volley::volley from the installed package: a Poisson group drives one LIF neuron.
#include <cstdio>

#include "volley/models/lif.hpp"
#include "volley/models/sources.hpp"
#include "volley/network.hpp"

int main() {
  volley::Network net(1e-4, 1);
  net.add<volley::PoissonGroup>("x", 100, volley::PoissonGroupParams{50.0, {}, 0.0});
  net.add<volley::LifPopulation>("n", 1, volley::LifParams{});
  volley::ProjectionSpec s;
  s.name = "c";
  s.source = "x";
  s.target = "n";
  s.weight = volley::Distribution::constant(2e-3);
  net.connect(s);
  net.run(0.5);
  const auto in = net.spike_count("x"), out = net.spike_count("n");
  std::printf("inputs %llu, output spikes %llu\n", static_cast<unsigned long long>(in),
              static_cast<unsigned long long>(out));
  return in > 1000 && out > 0 ? 0 : 1;
}

// volley::io from the installed package: a model file read from a string and run.
#include <cstdio>

#include "volley/io/model_file.hpp"

int main() {
  const auto m = volley::io::load_model_string(R"(
[simulation]
dt = "0.1 ms"
duration = "0.2 s"
[populations.x]
model = "poisson"
size = 100
rate = "50 Hz"
[populations.n]
model = "lif"
size = 1
[projections.c]
source = "x"
target = "n"
connect = { rule = "all_to_all" }
weight = "2 mV"
)",
                                               "consumer.toml");
  m.network->run(m.duration);
  const auto in = m.network->spike_count("x"), out = m.network->spike_count("n");
  std::printf("io: inputs %llu, output spikes %llu\n", static_cast<unsigned long long>(in),
              static_cast<unsigned long long>(out));
  return in > 500 && out > 0 ? 0 : 1;
}

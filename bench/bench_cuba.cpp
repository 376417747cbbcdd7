// B1: the CUBA network built directly through the C++ API (no model file), for timing and
// profiling. Usage: bench_cuba N SECONDS [THREADS] [SEED]
// Prints one line: N, seconds, build and run wall time, spikes, rate, synapses, bytes/synapse,
// peak RSS. The CLI path (volley sim examples/cuba.toml) is timed by bench/run_b1.sh.
#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>

#include "volley/models/lif.hpp"
#include "volley/network.hpp"

int main(int argc, char** argv) {
  using namespace volley;
  const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 4000;
  const double seconds = argc > 2 ? std::strtod(argv[2], nullptr) : 1.0;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 1;
  const std::uint64_t seed = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 1;

  const auto b0 = std::chrono::steady_clock::now();
  Network net(1e-4, seed);
  LifParams p;
  p.tau_m = 20e-3;
  p.v_rest = -49e-3;
  p.v_th = -50e-3;
  p.v_reset = -60e-3;
  p.t_ref = 5e-3;
  p.channels = {{"exc", 5e-3}, {"inh", 10e-3}};
  p.v_init = Distribution::uniform(-60e-3, -50e-3);
  net.add<LifPopulation>("P", n, p);
  const std::size_t ne = n * 4 / 5;
  const double prob = 80.0 / static_cast<double>(n);
  ProjectionSpec e;
  e.name = "Ce";
  e.source = "P";
  e.source_slice = {0, ne};
  e.target = "P";
  e.channel = "exc";
  e.connector = FixedProbability{prob, true};
  e.weight = Distribution::constant(60 * 0.27 / 10 * 1e-3);
  net.connect(e);
  ProjectionSpec i = e;
  i.name = "Ci";
  i.source_slice = {ne, Slice::npos};
  i.channel = "inh";
  i.weight = Distribution::constant(-20 * 4.5 / 10 * 1e-3);
  net.connect(i);
  if (std::getenv("BENCH_RECORD")) net.record_spikes("spikes", "P");
  const double build = std::chrono::duration<double>(std::chrono::steady_clock::now() - b0).count();
  const RunStats st = net.run(seconds, {threads});
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const auto syn = net.projection("Ce").synapse_count() + net.projection("Ci").synapse_count();
  const auto mem = net.projection("Ce").memory_bytes() + net.projection("Ci").memory_bytes();
  const auto spikes = net.spike_count("P");
  fmt::print(
      "N={} T={}s threads={} build_seconds={:.3f} run_seconds={:.3f} spikes={} rate={:.3f}Hz "
      "synapses={} bytes_per_synapse={} synapse_memory_bytes_per_synapse={:.3f} peak_rss_mb={:.1f}\n",
      n, seconds, threads, build, st.wall_seconds, spikes,
      static_cast<double>(spikes) / static_cast<double>(n) / seconds, syn,
      net.projection("Ce").bytes_per_synapse(), static_cast<double>(mem) / static_cast<double>(syn),
      static_cast<double>(u.ru_maxrss) / 1024.0);
}

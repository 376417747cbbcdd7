// Google Benchmark of the two hot kernels: the LIF population update and spike delivery.
#include <benchmark/benchmark.h>

#include "volley/models/lif.hpp"
#include "volley/network.hpp"

using namespace volley;

namespace {

// One LIF update step over N neurons with two exponential channels (no spikes delivered).
void BM_LifUpdate(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  LifPopulation pop("P", LifParams{});
  pop.grow(n, 1);
  pop.prepare(1e-4);
  pop.configure_rings(2, 0, {});
  std::vector<std::uint32_t> spikes;
  std::uint64_t step = 0;
  for (auto _ : state) {
    spikes.clear();
    pop.update({step++, 1e-4, 1}, 0, n, spikes);
    benchmark::DoNotOptimize(spikes.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_LifUpdate)->Arg(4000)->Arg(40000)->Arg(400000);

// Delivery of 1% of N spikes through a fixed-probability projection with 80 synapses/neuron.
void BM_Deliver(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  Network net(1e-4, 1);
  net.add<LifPopulation>("P", n, LifParams{});
  ProjectionSpec s;
  s.name = "C";
  s.source = "P";
  s.target = "P";
  s.connector = FixedProbability{80.0 / static_cast<double>(n), true};
  s.weight = Distribution::constant(1e-4);
  auto& proj = net.connect(s);
  net.population("P").configure_rings(2, 0, {});
  std::vector<std::uint32_t> spikes;
  for (std::size_t i = 0; i < n; i += 100) spikes.push_back(static_cast<std::uint32_t>(i));
  std::uint64_t step = 0;
  for (auto _ : state) benchmark::DoNotOptimize(proj.deliver(SpikeList(&spikes, 1), step++, 0, n));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * spikes.size() * 80));
}
BENCHMARK(BM_Deliver)->Arg(4000)->Arg(400000);

}  // namespace

BENCHMARK_MAIN();

// Networks distributed over processes (Network::distribute), with the processes played by
// threads of this test sharing an in-memory Communicator: the same recordings as one process
// for any number of processes and threads, only the owned synapses held, and the refusals.
// (tests/mpi/mpi_test.sh runs the same under mpirun with MPI.)
#include <gtest/gtest.h>

#include <barrier>
#include <bit>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_dir.hpp"
#include "support/thread_comm.hpp"
#include "volley/communicator.hpp"
#include "volley/error.hpp"
#include "volley/io/model_file.hpp"
#ifdef VOLLEY_HAVE_HDF5
#include "volley/io/synapse_file.hpp"
#endif
#include "volley/models/lif.hpp"

namespace volley {
namespace {

using test_support::Shared;
using test_support::ThreadComm;

std::string example(const std::string& name) { return std::string(VOLLEY_SOURCE_DIR) + "/" + name; }

// What a run recorded, bit for bit.
struct Recording {
  std::vector<std::vector<double>> spike_times;
  std::vector<std::vector<std::uint32_t>> spike_units;
  std::vector<std::vector<std::uint32_t>> state_bits;
  std::vector<std::vector<std::uint32_t>> weight_bits;
  std::vector<std::vector<double>> weight_means;
  std::vector<std::uint64_t> spike_counts;
  std::size_t synapses = 0;  // held by this process
  bool operator==(const Recording& o) const {
    return spike_times == o.spike_times && spike_units == o.spike_units &&
           state_bits == o.state_bits && weight_bits == o.weight_bits &&
           weight_means == o.weight_means && spike_counts == o.spike_counts;
  }
};

Recording record(const Network& net) {
  Recording r;
  for (const auto& m : net.spike_monitors()) {
    r.spike_times.push_back(m->times);
    r.spike_units.push_back(m->units);
  }
  for (const auto& m : net.state_monitors())
    for (const auto& v : m->values) {
      r.state_bits.emplace_back();
      for (float x : v) r.state_bits.back().push_back(std::bit_cast<std::uint32_t>(x));
    }
  for (const auto& m : net.weight_monitors()) {
    r.weight_bits.emplace_back();
    for (float x : m->values) r.weight_bits.back().push_back(std::bit_cast<std::uint32_t>(x));
    r.weight_means.push_back(m->means);
  }
  for (const auto& p : net.populations()) r.spike_counts.push_back(net.spike_count(p->name()));
  for (const auto& p : net.projections()) r.synapses += p->synapse_count();
  return r;
}

io::LoadOptions options(double duration, int threads) {
  io::LoadOptions o;
  o.duration = duration;
  o.threads = threads;
  return o;
}

Recording run_alone(const std::string& model, double duration) {
  auto m = io::load_model_file(model, options(duration, 1));
  m.network->run(m.duration, {1});
  return record(*m.network);
}

// Runs `model` on `ranks` thread-processes (each with `threads` threads); every rank's
// recording. `split` runs it in two parts (the exchange interval restarts at each run).
std::vector<Recording> run_distributed(const std::string& model, double duration, int ranks,
                                       int threads, bool split = false) {
  std::vector<Recording> out(static_cast<std::size_t>(ranks));
  const auto errors = test_support::run_ranks(ranks, [&](Communicator& comm) {
    auto o = options(duration, threads);
    o.communicator = &comm;
    auto m = io::load_model_file(model, o);
    if (split) {
      m.network->run(0.37 * m.duration, {threads});
      m.network->run(m.duration - m.network->time(), {threads});
    } else {
      m.network->run(m.duration, {threads});
    }
    out[static_cast<std::size_t>(comm.rank())] = record(*m.network);
  });
  for (const auto& e : errors) EXPECT_EQ(e, "");
  return out;
}

TEST(OwnedRange, BlocksCoverThePopulationInOrderOnSixteenNeuronBoundaries) {
  for (std::size_t n : {0, 1, 15, 16, 17, 100, 4000, 12500}) {
    for (int ranks : {1, 2, 3, 4, 7}) {
      std::size_t next = 0;
      for (int r = 0; r < ranks; ++r) {
        const auto [lo, hi] = owned_range(n, r, ranks);
        EXPECT_EQ(lo, next) << n << " " << ranks << " " << r;
        EXPECT_LE(lo, hi);
        EXPECT_EQ(lo % 16, 0u);
        next = hi;
      }
      EXPECT_EQ(next, n);
    }
  }
  // Balanced to within one block.
  const auto [a, b] = owned_range(4000, 0, 2);
  EXPECT_EQ(b - a, 2000u);
}

TEST(Distributed, CubaRecordsWhatOneProcessRecordsForAnyProcessAndThreadCount) {
  const std::string model = example("examples/cuba.toml");
  const Recording alone = run_alone(model, 0.1);
  ASSERT_GT(alone.spike_units.at(0).size(), 500u);
  for (int ranks : {2, 3}) {
    for (int threads : {1, 2}) {
      const auto runs = run_distributed(model, 0.1, ranks, threads);
      std::size_t held = 0;
      for (const auto& r : runs) {
        EXPECT_TRUE(r == alone) << ranks << " processes, " << threads << " threads";
        held += r.synapses;
      }
      // Each process holds only the synapses onto its neurons: together, the network's.
      EXPECT_EQ(held, alone.synapses);
      EXPECT_LT(runs[0].synapses, alone.synapses);
    }
  }
}

TEST(Distributed, DelaysExchangeOncePerMinimumDelayAndRunsMaySplit) {
  // Brunel's 1.5 ms delay: 15 steps between exchanges; a run split at a step that is not a
  // multiple of 15 still matches.
  const std::string model = example("examples/brunel_delta.toml");
  const Recording alone = run_alone(model, 0.03);
  ASSERT_GT(alone.spike_units.at(0).size(), 1000u);
  for (const auto& r : run_distributed(model, 0.03, 2, 1, true)) EXPECT_TRUE(r == alone);
}

TEST(Distributed, StdpWeightAndStateMonitorsMatchOneProcess) {
  const std::string model = example("tests/mpi/every_section.toml");
  const Recording alone = run_alone(model, 0.1);
  ASSERT_FALSE(alone.weight_bits.empty());
  ASSERT_FALSE(alone.state_bits.empty());
  for (const auto& r : run_distributed(model, 0.1, 4, 1)) EXPECT_TRUE(r == alone);
  // Split into two runs: the second run's first state sample is taken by each neuron's owner
  // (a regression: every process once sampled every neuron, stale ones included).
  for (const auto& r : run_distributed(model, 0.1, 2, 1, true)) EXPECT_TRUE(r == alone);
}

#ifdef VOLLEY_HAVE_HDF5
// Weights and delays from a synapse file (volley export's format): each process gives the
// synapses it holds their own weights (a regression: it once wrote the whole file's weights
// into its shorter array).
TEST(Distributed, SynapseFileWeightsAndDelaysGoToTheirOwners) {
  test::TempDir dir;
  io::SynapseTable t;
  for (std::uint32_t post = 0; post < 64; ++post)
    for (std::uint32_t pre = 0; pre < 2; ++pre) {
      t.pre.push_back(pre);
      t.post.push_back(post);
      t.weight.push_back(12.0f + 0.5f * static_cast<float>((post * 7 + pre * 3) % 11));
      t.delay.push_back(1e-3 * (1 + (post + pre) % 4));
    }
  t.unit = "mV";
  io::write_synapses(dir / "w.h5", {{"g", t}});
  const std::string path = dir / "m.toml";
  std::ofstream(path) << R"(
[simulation]
dt = "0.1 ms"
duration = "60 ms"
[populations.S]
model = "spike_generator"
times = ["1 ms", "2 ms", "3 ms", "5 ms", "8 ms", "13 ms", "21 ms", "34 ms"]
indices = [0, 1, 0, 1, 0, 1, 0, 1]
size = 2
[populations.P]
model = "lif"
size = 64
v_rest = "-70 mV"
v_th = "-62 mV"
v_reset = "-70 mV"
[populations.P.channels.exc]
tau = "5 ms"
[projections.C]
source = "S"
target = "P"
synapses = { file = "w.h5", group = "g" }
[monitors.spikes]
type = "spikes"
population = "P"
[monitors.v]
type = "state"
population = "P"
variables = ["v"]
indices = [0, 20, 40, 63]
[monitors.w]
type = "weights"
projection = "C"
synapses = [[0, 3], [1, 33], [0, 63]]
every = "10 ms"
)";
  const Recording alone = run_alone(path, 0.06);
  ASSERT_GT(alone.spike_units.at(0).size(), 10u);
  for (const auto& r : run_distributed(path, 0.06, 2, 1)) EXPECT_TRUE(r == alone);
}
#endif

TEST(Distributed, RefusesWhatCannotBeDistributedByName) {
  const auto errors = test_support::run_ranks(2, [&](Communicator& comm) {
    auto o = options(0.01, 1);
    o.communicator = &comm;
    io::load_model_file(example("examples/wang_buzsaki_gap.toml"), o);
  });
  for (const auto& e : errors) {
    EXPECT_NE(e.find("gap junctions"), std::string::npos) << e;
    EXPECT_NE(e.find("cannot run distributed over 2 processes"), std::string::npos) << e;
  }
}

TEST(Distributed, SynapseChangesBetweenRunsAreRefusedByName) {
  const auto errors = test_support::run_ranks(2, [&](Communicator& comm) {
    auto o = options(0.01, 1);
    o.communicator = &comm;
    auto m = io::load_model_file(example("examples/cuba.toml"), o);
    m.network->projection("Ce").add_synapses({{0, 1}}, 1e-3, 1e-4);
  });
  for (const auto& e : errors) {
    EXPECT_NE(e.find("projection 'Ce': adding synapses cannot run distributed"), std::string::npos) << e;
  }
}

TEST(Distributed, DistributeComesFirst) {
  Shared one(1);
  ThreadComm comm(one, 0);
  Network net;
  net.add<LifPopulation>("P", 10, LifParams{});
  EXPECT_THROW(net.distribute(comm), ParameterError);
  Network fresh;
  fresh.distribute(comm);
  EXPECT_FALSE(fresh.distributed());  // one process: nothing changes
  EXPECT_THROW(fresh.distribute(comm), ParameterError);
}

}  // namespace
}  // namespace volley

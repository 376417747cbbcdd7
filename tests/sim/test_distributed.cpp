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
  // Rewards: their records (the synapse's weight, the others' mean) and final values, as
  // weight series; the modulators' release times, as spike times.
  for (const auto& w : net.rewards()) {
    r.weight_means.push_back(w->times());
    r.weight_means.push_back(w->weights());
    r.weight_means.push_back(w->others());
    r.weight_means.push_back({w->weight(), w->others_mean(), static_cast<double>(w->pairings()),
                              static_cast<double>(w->post_neuron())});
  }
  for (const auto& m : net.modulators()) r.spike_times.push_back(m->release_times());
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

// Changes made to a network between two runs (the same calls on every process).
using Between = std::function<void(Network&)>;

// Runs `model` on `ranks` thread-processes (each with `threads` threads); every rank's
// recording (and, with `extra`, what it adds from the network). `split` runs it in two parts
// (the exchange interval restarts at each run), `between` them when given.
std::vector<Recording> run_distributed(const std::string& model, double duration, int ranks,
                                       int threads, bool split = false,
                                       const Between& between = {},
                                       const std::vector<std::string>& overrides = {}) {
  std::vector<Recording> out(static_cast<std::size_t>(ranks));
  const auto errors = test_support::run_ranks(ranks, [&](Communicator& comm) {
    auto o = options(duration, threads);
    o.communicator = &comm;
    o.overrides = overrides;
    auto m = io::load_model_file(model, o);
    if (split) {
      m.network->run(0.37 * m.duration, {threads});
      if (between) between(*m.network);
      m.network->run(m.duration - m.network->time(), {threads});
    } else {
      m.network->run(m.duration, {threads});
    }
    out[static_cast<std::size_t>(comm.rank())] = record(*m.network);
  });
  for (const auto& e : errors) EXPECT_EQ(e, "");
  return out;
}

Recording run_alone_split(const std::string& model, double duration, const Between& between,
                          const std::vector<std::string>& overrides = {}) {
  auto o = options(duration, 1);
  o.overrides = overrides;
  auto m = io::load_model_file(model, o);
  m.network->run(0.37 * m.duration, {1});
  between(*m.network);
  m.network->run(m.duration - m.network->time(), {1});
  return record(*m.network);
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

// Synapses added and removed between runs: each process changes those onto its targets, and
// the second run records what one process records after the same calls. The new synapses have
// a 2 ms delay where the projection had one step (a ring from then on), and cross the
// processes' boundaries.
TEST(Distributed, SynapseChangesBetweenRunsMatchOneProcess) {
  const std::string model = example("examples/cuba.toml");
  const Between change = [](Network& net) {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
    for (std::uint32_t pre = 0; pre < 400; pre += 7)
      for (std::uint32_t post : {0u, 1327u, 1333u, 1999u, 2000u, 2001u, 2666u, 2667u, 3999u})
        pairs.emplace_back(pre, post);
    net.projection("Ce").add_synapses(pairs, 4e-3, 2e-3);
    const std::size_t removed = net.projection("Ci").remove_synapses(
        [](std::uint32_t pre, std::uint32_t post, float) { return (pre + post) % 5 == 0; });
    EXPECT_GT(removed, 0u);  // on this process's targets (each removes some)
  };
  const Recording alone = run_alone_split(model, 0.1, change);
  ASSERT_GT(alone.spike_units.at(0).size(), 500u);
  const Recording unchanged = run_alone(model, 0.1);
  EXPECT_FALSE(alone == unchanged);  // the changes matter to the spikes
  for (int ranks : {2, 3}) {
    std::size_t held = 0;
    for (const auto& r : run_distributed(model, 0.1, ranks, 2, true, change)) {
      EXPECT_TRUE(r == alone) << ranks << " processes";
      held += r.synapses;
    }
    EXPECT_EQ(held, alone.synapses);
  }
}

// New delays onto the last process's neurons only: the other processes hold one-step delays
// still, yet must store and sum them as the whole projection's mix (a ring), as one process
// does (a regression: each process once decided from its own synapses, and those with uniform
// delays added events straight into the state, rounding differently).
TEST(Distributed, NewDelaysOnOneProcessAreStoredAsTheWholeProjectionsMix) {
  const std::string model = example("examples/cuba.toml");
  const Between change = [](Network& net) {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
    for (std::uint32_t pre = 0; pre < 3200; pre += 3) pairs.emplace_back(pre, 3990 + pre % 10);
    net.projection("Ce").add_synapses(pairs, 1e-3, 2e-3);
  };
  const Recording alone = run_alone_split(model, 0.1, change);
  for (int ranks : {2, 3})
    for (const auto& r : run_distributed(model, 0.1, ranks, 1, true, change))
      EXPECT_TRUE(r == alone) << ranks << " processes";
}

// Reward-modulated STDP with a pairing reward (Izhikevich 2007): the synapse it follows sits on
// one process, the others see the same spikes and release the same dopamine; the weights, the
// reward's records and the release times are those of one process.
TEST(Distributed, RewardModulatedStdpMatchesOneProcess) {
  // The example with a spike monitor on E.
  test::TempDir dir;
  const std::string model = dir / "distal_reward.toml";
  {
    std::ifstream in(example("examples/distal_reward.toml"));
    std::ofstream out(model);
    out << in.rdbuf() << "\n[monitors.s]\ntype = \"spikes\"\npopulation = \"E\"\n";
  }
  // Short and eventful: pairings within 200 ms rewarded 0.1-0.3 s later, records every 0.5 s;
  // the 50th synapse of neuron 0's row (targets sorted: held by a later process).
  const std::vector<std::string> set = {
      "rewards.chosen.window=\"200 ms\"", "rewards.chosen.delay_min=\"0.1 s\"",
      "rewards.chosen.delay_max=\"0.3 s\"", "rewards.chosen.record_every=\"0.5 s\"",
      "rewards.chosen.synapse=50"};
  const Between none = [](Network&) {};
  const Recording alone = run_alone_split(model, 10.0, none, set);
  ASSERT_EQ(alone.spike_times.size(), 2u);  // E's spikes, dopamine's releases
  ASSERT_GT(alone.spike_times[0].size(), 1000u);
  ASSERT_GT(alone.spike_times[1].size(), 2u) << "too few rewards to test anything";
  for (int ranks : {2, 3})
    for (const auto& r : run_distributed(model, 10.0, ranks, 1, true, none, set))
      EXPECT_TRUE(r == alone) << ranks << " processes";
  // A synapse added before the followed one in its row (onto the first process's neurons)
  // moves it: one process refuses the next run, and so does every process when distributed
  // (a regression: the holder's own part of the row did not show the shift).
  const Between shift = [](Network& net) { net.projection("EE").add_synapses({{0, 0}}, 1e-3, 1e-3); };
  EXPECT_THROW(run_alone_split(model, 0.2, shift, set), ParameterError);
  const auto errors = test_support::run_ranks(2, [&](Communicator& comm) {
    auto o = options(0.2, 1);
    o.communicator = &comm;
    o.overrides = set;
    auto m = io::load_model_file(model, o);
    ASSERT_EQ(m.network->rewards()[0]->holds_synapse(), comm.rank() == 1);
    m.network->run(0.1, {1});
    shift(*m.network);
    m.network->run(0.1, {1});
  });
  for (const auto& e : errors) EXPECT_NE(e.find("moved by a structural change"), std::string::npos) << e;
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

#pragma once
// One plastic synapse "syn" from a spike generator "pre" onto a LIF neuron "post" whose spike
// times are imposed: a generator "kicker" fires one step before each wanted post spike through a
// 30 mV instantaneous synapse, whose jump lands in that step. The plastic synapse (w0, far below
// 30 mV) cannot move the post spikes, so a plasticity rule sees exactly the given timing.
#include <memory>
#include <vector>

#include "volley/models/lif.hpp"
#include "volley/models/sources.hpp"
#include "volley/network.hpp"

namespace volley::test {

inline void add_kicked_synapse(Network& net, const std::vector<double>& pre_times,
                               const std::vector<double>& post_times, const StdpParams& stdp,
                               double w0) {
  LifParams lp;
  lp.channels = {{"exc", 5e-3}, {"kick", 0.0}};
  lp.v_init = Distribution::constant(-70e-3);
  net.add<LifPopulation>("post", 1, lp);
  std::vector<SpikeEvent> pre, kicks;
  for (double t : pre_times) pre.push_back({t, 0});
  for (double t : post_times) kicks.push_back({t - net.dt(), 0});
  net.add(std::make_unique<SpikeGenerator>("pre", pre), 1);
  net.add(std::make_unique<SpikeGenerator>("kicker", kicks), 1);
  ProjectionSpec plastic;
  plastic.name = "syn";
  plastic.source = "pre";
  plastic.target = "post";
  plastic.connector = OneToOne{};
  plastic.weight = Distribution::constant(w0);
  plastic.stdp = stdp;
  net.connect(plastic);
  ProjectionSpec kick;
  kick.name = "kick";
  kick.source = "kicker";
  kick.target = "post";
  kick.channel = "kick";
  kick.connector = OneToOne{};
  kick.weight = Distribution::constant(30e-3);
  net.connect(kick);
}

}  // namespace volley::test

#pragma once
// Connection rules (Brian2/PyNN style) that produce a compressed sparse row structure:
// for every presynaptic neuron, the sorted list of postsynaptic neurons it contacts.
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace volley {

struct AllToAll {
  bool allow_self = true;  // only matters when source and target are the same neurons
};
struct OneToOne {};
struct FixedProbability {
  double p = 0.0;
  bool allow_self = true;
};
// Each postsynaptic neuron receives exactly `k` synapses from distinct random sources.
struct FixedInDegree {
  std::uint32_t k = 0;
  bool allow_self = true;
};
// Each presynaptic neuron makes exactly `k` synapses onto distinct random targets.
struct FixedOutDegree {
  std::uint32_t k = 0;
  bool allow_self = true;
};
// Explicit (pre, post) pairs, indices relative to the projection's source/target slices.
struct ExplicitList {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
};

using Connector =
    std::variant<AllToAll, OneToOne, FixedProbability, FixedInDegree, FixedOutDegree, ExplicitList>;

// Row-major sparsity pattern; cols are relative to the target slice and sorted within rows.
// When only some targets are kept (ConnectGeometry::keep_lo/keep_hi), slot[s] is synapse s's
// place in its whole row (what keys its weight and delay draws); empty otherwise.
struct SparsityPattern {
  std::vector<std::uint64_t> row_ptr;  // size n_pre + 1
  std::vector<std::uint32_t> cols;
  std::vector<std::uint32_t> slot;
};

// `self_offset` is (first target index) - (first source index) when source and target are the
// same population, used to recognise self-connections; `same_population` says if they are.
struct ConnectGeometry {
  std::size_t n_pre = 0, n_post = 0;
  bool same_population = false;
  std::int64_t self_offset = 0;  // post_rel + self_offset == pre_rel  <=> same neuron
  // Only the synapses onto targets [keep_lo, keep_hi) are built (a process of a distributed
  // network); the pattern is the same as the whole one restricted to them, drawn without
  // holding the rest. keep_hi = npos: all.
  std::size_t keep_lo = 0, keep_hi = static_cast<std::size_t>(-1);
  bool keeps_all() const { return keep_lo == 0 && keep_hi >= n_post; }
};

// Throws ParameterError on impossible requests (p outside [0,1], k larger than the candidates).
SparsityPattern build_pattern(const Connector& c, const ConnectGeometry& g, std::uint64_t seed,
                              std::uint32_t stream);

// Reads "pre post" rows (whitespace or comma separated, '#' comments); IoError names file:line.
std::vector<std::pair<std::uint32_t, std::uint32_t>> read_pairs(const std::string& path);

}  // namespace volley

#pragma once
// Synapses with their own weights, in HDF5: what `volley export` writes for trained networks and
// what a model file's projection reads with `synapses = { file = "...", group = "..." }`. Any
// tool can write one (h5py: three arrays). A group holds three 1-D datasets of equal length:
//   pre     integers >= 0   source index, relative to the projection's source slice
//   post    integers >= 0   target index, relative to the target slice
//   weight  numbers         with a string attribute `unit` ("mV", "nS", "pA"; absent or "1":
//                           dimensionless, as the trainer's weights are)
// Pairs may come in any order but not twice.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace volley::io {

struct SynapseTable {
  std::vector<std::uint32_t> pre, post;
  std::vector<float> weight;
  std::string unit;  // "" = dimensionless
};

// Throws IoError naming the file and group: missing or unreadable datasets, lengths that differ,
// negative indices, a pair given twice, a non-finite weight.
SynapseTable read_synapses(const std::string& path, const std::string& group);

// Writes (or replaces) `path` with one group per entry, atomically.
void write_synapses(const std::string& path,
                    const std::vector<std::pair<std::string, SynapseTable>>& groups);

}  // namespace volley::io

#pragma once
// Synapses with their own weights, in HDF5: what `volley export` writes for trained networks and
// what a model file's projection reads with `synapses = { file = "...", group = "..." }`. Any
// tool can write one (h5py: three arrays). A group holds three 1-D datasets of equal length:
//   pre     integers >= 0   source index, relative to the projection's source slice
//   post    integers >= 0   target index, relative to the target slice
//   weight  numbers         with a string attribute `unit` ("mV", "nS", "pA"; absent or "1":
//                           dimensionless, as the trainer's weights are)
//   delay   numbers         optional: one delay per synapse in seconds (attribute `unit` "s"),
//                           e.g. learned delays; the projection's `delay` key must then be absent
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
  std::vector<double> delay;  // s, one per synapse; empty = none in the file
};

// Per-neuron values of a parameter: a 1-D dataset with a `unit` attribute, in the same file.
struct NeuronValues {
  std::vector<double> values;
  std::string unit;  // "" = dimensionless
};

// Throws IoError naming the file and group: missing or unreadable datasets, lengths that differ,
// negative indices, a pair given twice, a non-finite weight, a negative or non-finite delay or
// one in another unit than seconds.
SynapseTable read_synapses(const std::string& path, const std::string& group);
// Throws IoError naming the file and dataset: missing, not 1-D numbers, a non-finite value.
NeuronValues read_neuron_values(const std::string& path, const std::string& dataset);

// Writes (or replaces) `path` with one group per synapse table and one dataset per entry of
// `values` (paths such as "neurons/layer0.tau_mem"), atomically.
void write_synapses(const std::string& path,
                    const std::vector<std::pair<std::string, SynapseTable>>& groups,
                    const std::vector<std::pair<std::string, NeuronValues>>& values = {});

}  // namespace volley::io

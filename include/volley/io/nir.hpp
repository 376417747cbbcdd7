#pragma once
// NIR, the Neuromorphic Intermediate Representation (neuromorphs/NIR; Pedersen et al., Nat.
// Commun. 2024): a graph of continuous-time primitives exchanged between simulators, training
// libraries and neuromorphic hardware, stored as HDF5. This header has two parts.
//
// 1. The file format, read and written with the HDF5 C library in the layout of NIR's Python
//    package (nir.write / nir.read):
//      /version                     scalar string (volley writes kFormatVersion)
//      /node                        the graph: a group with `type` = "NIRGraph"
//      /node/nodes/NAME/            one group per node: `type` (a string) and one dataset per
//                                   parameter; a node of type NIRGraph nests the same layout
//      /node/edges                  n×2 strings (source, target); a cycle is recurrence
//      .../metadata/                optional, per node or graph: strings and numbers
//    Parameters may be of any integer or float type, scalars or arrays, compressed or not.
//    Reading checks the whole graph: node types (only the primitives below), parameters present
//    and of consistent shapes, edges naming existing nodes, and the sizes of connected nodes.
//
// 2. The mapping between NIR and volley's trained networks (train::Net), with the exact
//    zero-order-hold reading of the trainer's update (docs/nir.md):
//      Input → Affine → CubaLIF (tau_syn > 0) | LIF (tau_syn = 0) [+ Linear cycle if recurrent]
//            → ... → CubaLI | LI (readout) → Output
//    A layer with reset "none" is a CubaLI/LI followed by a Threshold node. For NIR's CubaLIF
//      tau_syn dI/dt = −I + w_in·x,   tau_mem dv/dt = (v_leak − v) + r·I,
//    and α = exp(−dt/tau_syn), β = exp(−dt/tau_mem) (float, as the trainer computes them):
//      W_volley[i, j] = (1 − α_j)(1 − β_j)·r_j·w_in_j·W_nir[j, i]      (CubaLIF, CubaLI)
//      W_volley[i, j] = (1 − β_j)·r_j·W_nir[j, i]                      (LIF, LI)
//    Export writes r = 1, w_in = 1, v_leak = 0, v_reset = 0, v_threshold = θ and W_nir =
//    W_volley / factor in double precision (stored as float64), so that import gives back the
//    same float weights bit for bit.
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "volley/train/checkpoint.hpp"
#include "volley/train/net.hpp"

namespace volley::io::nir {

// The NIR format generation volley writes to /version (the nir 1.0.x Python packages read it).
inline constexpr std::string_view kFormatVersion = "1.0";

// A numeric parameter: shape (empty for a scalar) and values in row-major order, kept as double
// (every integer and float type of a file fits; float64 data round-trip exactly). `type` is what
// a writer stores.
struct Array {
  enum class Type { float32, float64, int64 };
  Type type = Type::float64;
  std::vector<std::size_t> shape;
  std::vector<double> values;

  std::size_t size() const { return values.size(); }
  static Array scalar(double x, Type t = Type::float64);
  static Array vector(std::vector<double> v, Type t = Type::float64);
  static Array filled(std::size_t n, double x);
  static Array matrix(std::size_t rows, std::size_t cols, std::vector<double> v);
  bool operator==(const Array&) const = default;
};

// Metadata of a node or graph: strings and numbers (other entries of a file's metadata groups
// are skipped). Backends must not rely on it.
struct Metadata {
  std::map<std::string, std::string> text;
  std::map<std::string, Array> numbers;
  bool empty() const { return text.empty() && numbers.empty(); }
  bool operator==(const Metadata&) const = default;
};

// A node: its name in the parent graph, its NIR type ("LIF", "Affine", ...) and parameters; a
// node of type "NIRGraph" holds nodes and edges instead (a graph is a node).
struct Node {
  std::string name;
  std::string type;
  std::map<std::string, Array> params;
  Metadata metadata;
  std::vector<Node> nodes;                                   // NIRGraph only
  std::vector<std::pair<std::string, std::string>> edges;    // NIRGraph only: (source, target)

  const Node* find(std::string_view child) const;
  bool operator==(const Node&) const = default;
};

// The primitives volley reads and writes, in the order of error messages.
const std::vector<std::string_view>& supported_types();

// Throws ConfigError naming `where` (e.g. the file) and the node: a type outside
// supported_types(), a missing or unknown parameter, parameters of one node with inconsistent
// shapes, non-finite values, an edge naming a node that does not exist, connected nodes of
// different sizes.
void validate(const Node& graph, const std::string& where);

// Reads a NIR file: IoError when it cannot be opened or is not HDF5, ConfigError (naming the
// file and the node) when it is not a valid NIR graph. `version` receives /version ("" if absent).
Node read(const std::string& path, std::string* version = nullptr);

// Validates, then writes `graph` (type NIRGraph) atomically: the same graph gives the same bytes.
void write(const std::string& path, const Node& graph);

// ---- the mapping ---------------------------------------------------------------------------

// A trained network as a NIR graph (nodes input, layerL_w, layerL [, layerL_spike, layerL_v],
// output; graph metadata: dt, steps, generator). Learned per-neuron time constants become
// per-neuron tau arrays. Throws ConfigError for what NIR cannot express: alif layers, the
// subtract reset, the smooth forward mode.
Node to_nir(const train::Net& net);

struct ImportOptions {
  double dt = 1e-3;          // s: the time step volley runs the continuous-time graph with
  std::size_t steps = 100;   // T, the steps per sample of the network
  // Surrogate, backward mode, seed etc. of the imported network (n_inputs, dt, steps and the
  // layers come from the graph and the two fields above).
  train::NetConfig base;
};

// A NIR graph as volley's network: its configuration and every parameter (as named by
// train::Net::params(), so that train::restore loads them), plus notes on what was folded.
struct Imported {
  train::NetConfig config;
  std::vector<std::pair<std::string, std::vector<float>>> params;
  std::vector<std::string> notes;    // e.g. "node 'x': per-neuron thresholds folded into weights"
  std::vector<std::string> layers;   // per layer, a line describing it and its NIR nodes

  // A network with these parameters.
  std::unique_ptr<train::Net> make_net() const;
};

// Throws ConfigError naming `where` and the node for graphs outside what volley runs: not one
// Input → chain of layers → one Output, a layer type volley does not have, v_leak or v_reset not
// 0, a bias not 0, a recurrent readout.
Imported from_nir(const Node& graph, const ImportOptions& options, const std::string& where);

// `[network]` and `[[layers]]` of a training file for the configuration (times in seconds).
std::string network_toml(const train::NetConfig& config);

// A whole training file: `train_text` (read from `train_path`) with its [network] and [[layers]]
// replaced by the configuration's, and relative data paths made absolute (so the file works from
// anywhere). Throws ConfigError if it does not parse or its surrogate uses the smooth forward.
std::string training_text(const std::string& train_text, const std::string& train_path,
                          const train::NetConfig& config, const std::string& header);

// `volley import`: everything written for a NIR file.
struct ImportDirOptions {
  std::string nir_path, out_dir;
  double dt = 0.0;             // s; 0: the training file's network.dt (an error without one)
  std::size_t steps = 0;       // 0: the training file's network.steps, else 100
  std::string train_path;      // optional training file (its data, loss, optimiser, ...)
};
struct ImportReport {
  Imported imported;
  std::vector<std::string> written;  // file names in out_dir
  std::vector<std::string> notes;    // what could not be written or checked, and why
};
// Writes OUT/network.toml, OUT/model.toml + synapses.h5 + input.h5 + export.json (volley sim;
// no input spikes), and with a training file OUT/training.toml and OUT/checkpoint.bin (volley
// eval / export / train --resume).
ImportReport import_to_directory(const ImportDirOptions& options);

}  // namespace volley::io::nir

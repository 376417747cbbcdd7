#pragma once
// Model files: TOML with units on every quantity. See docs/model-format.md for the schema.
// Loading builds a volley::Network; every error is a ConfigError whose message names the file,
// the line and the dotted field ("cuba.toml:12: populations.P.tau_m: ...").
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "volley/communicator.hpp"

#include "volley/network.hpp"

namespace volley::io {

struct LoadOptions {
  std::optional<std::uint64_t> seed;     // overrides [simulation].seed
  std::optional<double> duration;        // s; overrides [simulation].duration
  std::optional<int> threads;            // overrides [simulation].threads
  // "dotted.path=VALUE" overrides applied to the TOML tree before it is read, VALUE in TOML
  // syntax ("populations.P.size=40000", "projections.Ce.connect.p=0.002",
  // "populations.P.tau_m=\"10 ms\""); a bare word that is not valid TOML is taken as a string.
  std::vector<std::string> overrides;
  // Distributes the network over these processes (Network::distribute); nullptr: one process.
  Communicator* communicator = nullptr;
};

struct LoadedModel {
  std::unique_ptr<Network> network;
  double duration = 0.0;  // s
  int threads = 1;
  std::string path;       // where it came from ("<string>" for in-memory text)
};

LoadedModel load_model_file(const std::string& path, const LoadOptions& options = {});
LoadedModel load_model_string(std::string_view text, const std::string& display_name,
                              const LoadOptions& options = {});

// The Markdown reference of the model-file format's registries (docs/reference.md is generated
// from it): every neuron model with its meaning, parameter table, presets, methods, states and
// channels, and the names, keys and meanings of the distributions, connection rules, plasticity
// rules, inputs, monitors and rewards.
std::string model_reference_markdown();

}  // namespace volley::io

#pragma once
// Training checkpoints: the training file's text and the options it ran with, the number of
// finished epochs, every parameter and the optimiser state. Binary, little-endian:
//   "VOLLEYCK" | u32 version | u64 payload bytes | payload | u32 CRC-32 of the payload
// (version 2 adds the rewired sparsity patterns after the optimiser state; 1 is still read)
// Written to a temporary file and renamed, so a crash never leaves a half-written checkpoint
// over a good one; reading checks magic, version, size and CRC.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace volley::train {

struct Checkpoint {
  std::string config_name, config_text;
  std::vector<std::string> options;  // effective command-line options, "key=value"
  std::uint32_t epochs_done = 0;
  std::uint64_t optimizer_steps = 0;
  std::vector<std::pair<std::string, std::vector<float>>> params, opt_m, opt_v;
  // Every sparse weight matrix's pattern (rewiring.hpp changes them in training), by parameter
  // name: CSR row pointers and columns. Version 2; version-1 files read with none (the patterns
  // are then the ones the seed builds).
  struct Pattern {
    std::string name;
    std::vector<std::uint32_t> row_ptr, cols;
  };
  std::vector<Pattern> patterns;
};

void write_checkpoint(const std::string& path, const Checkpoint& ckpt);
Checkpoint read_checkpoint(const std::string& path);

}  // namespace volley::train

#pragma once
// Spiking Heidelberg Digits (SHD) files: HDF5 with
//   spikes/times   variable-length float arrays, one per sample, spike times in seconds
//   spikes/units   variable-length integer arrays, one per sample, the input channel of each spike
//   labels         one integer per sample
//   extra/...      metadata; extra/speaker (one integer per sample) is read when present
// read_shd bins the spikes into steps of dt (step = floor(t / dt)); spikes of one unit in one
// bin become a single event whose value is the spike count.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "volley/train/dataset.hpp"

namespace volley::io {

struct ShdOptions {
  double dt = 1e-3;            // s, bin width
  std::size_t n_steps = 100;   // bins; spikes at t >= n_steps * dt are dropped
  std::size_t n_inputs = 700;  // units must be < n_inputs
  std::size_t n_classes = 20;  // labels must be in [0, n_classes)
  std::size_t limit = 0;       // > 0: read only the first `limit` samples
};

// Reads an SHD file into memory, binned. Throws ParameterError for invalid options and IoError
// (naming the path and the dataset) for a missing or non-HDF5 file, a missing dataset, a sample
// whose times and units differ in length, label and sample counts that differ, a unit >=
// n_inputs, a label out of range, or a negative or NaN time. If `speakers` is given it receives
// extra/speaker (first `limit` entries) when the file has it, and is emptied otherwise.
std::unique_ptr<volley::train::StoredEvents> read_shd(const std::string& path,
                                                      const ShdOptions& options,
                                                      std::vector<int>* speakers = nullptr);

// Writes the SHD layout: spikes/times as float32, spikes/units as uint16 (variable-length),
// labels as uint8 and, if given, extra/speaker as uint8 and extra/keys (the class names, one
// variable-length UTF-8 string per class) as SHD has them. The file is written under a temporary
// name and renamed when complete. Throws ParameterError if the vectors differ in length (per
// sample for times/units), a unit does not fit uint16 or a label/speaker does not fit uint8,
// and IoError if writing fails.
void write_shd(const std::string& path, const std::vector<std::vector<double>>& times,
               const std::vector<std::vector<std::uint32_t>>& units, const std::vector<int>& labels,
               const std::vector<int>* speakers = nullptr,
               const std::vector<std::string>* keys = nullptr);

}  // namespace volley::io

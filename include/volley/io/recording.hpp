#pragma once
// Reading recordings back: spikes.h5 as `volley sim` writes it (see outputs.hpp) and record.h5
// as `volley eval --record` writes it (the same layout, with the test samples laid end to end in
// time, plus per-spike sample indices, labels and predictions). The analysis and the report
// work on what this returns.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace volley::io {

struct StateRecording {
  std::string monitor;
  std::vector<double> t;                 // s, one per sample
  std::vector<std::uint32_t> indices;    // recorded neurons
  std::string variable;                  // e.g. "v"
  std::string unit;                      // e.g. "V" (SI), "1" for dimensionless
  std::vector<float> values;             // [t.size() × indices.size()], row-major
};

struct RateRecording {
  std::string monitor;
  std::vector<double> t, rate;  // s, Hz
};

// Weights of chosen synapses of a projection whose source is the population (weight monitor).
struct WeightRecording {
  std::string monitor, projection, target, unit;
  std::vector<double> t;                   // s, end of each sampled step
  std::vector<std::uint32_t> pre, post;    // absolute indices in source and target
  std::vector<float> w;                    // [t.size() × pre.size()], row-major
  std::vector<double> mean;                // mean of all the projection's weights
};

struct PopulationRecording {
  std::string name;
  std::size_t size = 0;  // neurons; from the "size" attribute, else the largest unit + 1
  std::vector<double> times;
  std::vector<std::uint32_t> units;
  std::vector<std::uint32_t> samples;  // record.h5 only: the test sample of each spike
  std::vector<StateRecording> states;  // one per (monitor, variable)
  std::vector<RateRecording> rates;
  std::vector<WeightRecording> weights;  // weight monitors of projections from this population
};

struct Recording {
  double duration = 0.0;  // s; from the "duration" attribute, else the last spike or sample
  double dt = 0.0;        // s; 0 if unknown
  std::vector<PopulationRecording> populations;
  // record.h5 only: one entry per test sample.
  double sample_duration = 0.0;  // s, the length of one sample (steps × dt)
  std::vector<int> labels, predictions;
  std::vector<std::string> class_names;  // empty if unknown

  const PopulationRecording* find(const std::string& name) const;
};

// Throws IoError naming the path (and the object) for a missing or non-HDF5 file, a group whose
// times and units differ in length, a unit >= size, a non-finite time or a state dataset of the
// wrong shape.
Recording read_recording(const std::string& path);

}  // namespace volley::io

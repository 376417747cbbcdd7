#pragma once
// Reading recordings back: spikes.h5 as `volley sim` writes it (see outputs.hpp) and record.h5
// as `volley eval --record` writes it (the same layout, with the test samples laid end to end in
// time, plus per-spike sample indices, labels and predictions). The analysis and the report
// work on what this returns.
#include <cstddef>
#include <cstdint>
#include <optional>
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
  // Populations whose neurons were added or removed during the run: size (all neurons ever
  // made) and living after each change; the indices of the removed neurons.
  struct Sizes {
    std::vector<double> t;  // s
    std::vector<std::uint64_t> size, living;
  };
  std::optional<Sizes> sizes;
  std::vector<std::uint32_t> removed;
};

// Homeostatic structural plasticity (/structural_plasticity of spikes.h5, see outputs.hpp):
// every series has one value per entry of t; the lists are in name order (as HDF5 lists them).
struct StructuralRecording {
  double update_interval = 0.0;  // s
  std::uint64_t updates = 0, created = 0, deleted = 0;
  std::vector<double> t;  // s, end of each sampled step
  struct Series {
    std::string name;  // the population
    std::vector<double> values;
    std::optional<double> target;  // eps shared by the population's growth curves, if one
  };
  std::vector<Series> calcium;  // mean Ca per population over t
  // Ca of every neuron at the end of the run (values per neuron, not per t; no target).
  std::vector<Series> calcium_final;
  struct ElementSeries {
    std::string name;                      // "POPULATION.ELEMENT"
    std::vector<double> z;                 // mean elements per neuron
    std::vector<std::uint64_t> connected;  // connected elements of the population
  };
  std::vector<ElementSeries> elements;
  struct Count {
    std::string name;  // the rule projection
    std::vector<std::uint64_t> values;
  };
  std::vector<Count> synapses;  // synapse count per projection over t
};

struct Recording {
  double duration = 0.0;  // s; from the "duration" attribute, else the last spike or sample
  double dt = 0.0;        // s; 0 if unknown
  std::vector<PopulationRecording> populations;
  // record.h5 only: one entry per test sample.
  double sample_duration = 0.0;  // s, the length of one sample (steps × dt)
  std::vector<int> labels, predictions;
  std::vector<std::string> class_names;  // empty if unknown
  std::optional<StructuralRecording> structural;  // when the run had structural plasticity

  const PopulationRecording* find(const std::string& name) const;
};

// Throws IoError naming the path (and the object) for a missing or non-HDF5 file, a group whose
// times and units differ in length, a unit >= size, a non-finite time or a state dataset of the
// wrong shape, or a structural-plasticity series whose length differs from its t.
Recording read_recording(const std::string& path);

}  // namespace volley::io

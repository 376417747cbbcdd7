// Training data from numpy arrays (included once by module.cpp): volley.Dataset, held as a
// data::StoredEvents (the type the SHD reader fills) shared between Python and the runs that use
// it, so the trainer sees Python's samples exactly as it sees samples read from files.
//   from_events: per sample, spike times (s) and input units, binned to steps of dt by
//                floor(t / dt) as the SHD reader bins; repeats of a (step, unit) merge into one
//                event whose value is their count (or the sum of their values)
//   from_dense:  [samples, steps, inputs]: every nonzero entry is an event with that value
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "arrays.hpp"
#include "volley/data/events.hpp"
#include "volley/error.hpp"

namespace volley_python_data {

namespace py = pybind11;
using namespace volley;
using volley_python_arrays::take;

struct Dataset {
  std::shared_ptr<data::StoredEvents> events;
  double dt = 0.0;  // s; 0 when not known (dense data)
};

// A run's view of a Dataset: its first `limit` samples (all when 0), sharing the samples.
class SharedEvents final : public data::EventSource {
 public:
  SharedEvents(std::shared_ptr<const data::StoredEvents> ev, std::size_t limit)
      : ev_(std::move(ev)), n_(limit == 0 ? ev_->size() : std::min(limit, ev_->size())) {}
  std::size_t size() const override { return n_; }
  std::size_t n_inputs() const override { return ev_->n_inputs(); }
  std::size_t n_steps() const override { return ev_->n_steps(); }
  std::size_t n_classes() const override { return ev_->n_classes(); }
  int label(std::size_t i) const override { return ev_->label(i); }
  void fill(std::size_t i, std::uint64_t epoch, data::SampleEvents& out) const override {
    ev_->fill(i, epoch, out);
  }
  std::string description() const override { return ev_->description(); }

 private:
  std::shared_ptr<const data::StoredEvents> ev_;
  std::size_t n_;
};

using IntArray = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;
using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;
using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

std::vector<int> checked_labels(const IntArray& labels, std::size_t n, std::size_t n_classes,
                                const std::string& what) {
  if (labels.ndim() != 1 || static_cast<std::size_t>(labels.shape(0)) != n)
    throw py::value_error(what + ": expected " + std::to_string(n) +
                          " labels (one per sample), got " + std::to_string(labels.size()));
  std::vector<int> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t y = labels.data()[i];
    if (y < 0 || static_cast<std::size_t>(y) >= n_classes)
      throw py::value_error(what + ": labels[" + std::to_string(i) + "] = " + std::to_string(y) +
                            " is outside [0, n_classes = " + std::to_string(n_classes) + ")");
    out[i] = static_cast<int>(y);
  }
  return out;
}

Dataset from_events(const std::vector<DoubleArray>& times, const std::vector<IntArray>& units,
                    const std::vector<DoubleArray>& values, const IntArray& labels,
                    std::size_t n_inputs, double dt, std::size_t n_steps, std::size_t n_classes,
                    bool clip, const std::string& description) {
  const std::string what = "Dataset.from_events";
  const std::size_t n = times.size();
  if (units.size() != n)
    throw py::value_error(what + ": " + std::to_string(n) + " time arrays but " +
                          std::to_string(units.size()) + " unit arrays");
  if (!values.empty() && values.size() != n)
    throw py::value_error(what + ": " + std::to_string(n) + " time arrays but " +
                          std::to_string(values.size()) + " value arrays");
  if (!(dt > 0.0) || !std::isfinite(dt))
    throw py::value_error(what + ": dt must be a time > 0, got " + std::to_string(dt) + " s");
  if (n_inputs < 1 || n_steps < 1 || n_classes < 1)
    throw py::value_error(what + ": n_inputs, steps and n_classes must be >= 1");
  const std::vector<int> y = checked_labels(labels, n, n_classes, what);
  Dataset d;
  d.dt = dt;
  d.events = std::make_shared<data::StoredEvents>(n_inputs, n_steps, n_classes, description);
  std::vector<std::uint64_t> keys;
  std::vector<std::pair<std::uint64_t, float>> keyed;
  data::SampleEvents sample;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& t = times[i];
    const auto& u = units[i];
    const std::string where = what + ": sample " + std::to_string(i);
    if (t.ndim() != 1 || u.ndim() != 1 || t.shape(0) != u.shape(0))
      throw py::value_error(where + ": times and units must be 1-d arrays of the same length (" +
                            std::to_string(t.size()) + " and " + std::to_string(u.size()) + ")");
    const bool has_values = !values.empty();
    if (has_values && (values[i].ndim() != 1 || values[i].shape(0) != t.shape(0)))
      throw py::value_error(where + ": values must be a 1-d array as long as times (" +
                            std::to_string(t.size()) + ")");
    keyed.clear();
    for (py::ssize_t j = 0; j < t.shape(0); ++j) {
      const double tj = t.data()[j];
      const std::int64_t uj = u.data()[j];
      if (!std::isfinite(tj) || tj < 0.0)
        throw py::value_error(where + ": times[" + std::to_string(j) + "] = " + std::to_string(tj) +
                              " s is not a finite time >= 0");
      if (uj < 0 || static_cast<std::size_t>(uj) >= n_inputs)
        throw py::value_error(where + ": units[" + std::to_string(j) + "] = " + std::to_string(uj) +
                              " is outside [0, n_inputs = " + std::to_string(n_inputs) + ")");
      const double step = std::floor(tj / dt);
      if (!(step < static_cast<double>(n_steps))) {
        if (clip) continue;
        throw py::value_error(where + ": times[" + std::to_string(j) + "] = " + std::to_string(tj) +
                              " s is at or after the end of the sample (steps * dt = " +
                              std::to_string(static_cast<double>(n_steps) * dt) +
                              " s); pass clip=True to drop such spikes, as the SHD reader does");
      }
      const float v = has_values ? static_cast<float>(values[i].data()[j]) : 1.0f;
      if (!std::isfinite(v))
        throw py::value_error(where + ": values[" + std::to_string(j) + "] is not finite");
      keyed.emplace_back((static_cast<std::uint64_t>(step) << 32) | static_cast<std::uint64_t>(uj), v);
    }
    // Sort by (step, unit) and merge repeats (their values add, as the forward pass adds them).
    std::stable_sort(keyed.begin(), keyed.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    sample.reset(n_steps);
    for (std::size_t j = 0; j < keyed.size();) {
      std::size_t e = j;
      float sum = 0.0f;
      while (e < keyed.size() && keyed[e].first == keyed[j].first) sum += keyed[e++].second;
      sample.units.push_back(static_cast<std::uint32_t>(keyed[j].first & 0xFFFFFFFFu));
      sample.values.push_back(sum);
      ++sample.offsets[(keyed[j].first >> 32) + 1];
      j = e;
    }
    for (std::size_t s = 0; s < n_steps; ++s) sample.offsets[s + 1] += sample.offsets[s];
    d.events->add(sample, y[i]);
  }
  return d;
}

Dataset from_dense(const FloatArray& x, const IntArray& labels, std::size_t n_classes, double dt,
                   const std::string& description) {
  const std::string what = "Dataset.from_dense";
  if (x.ndim() != 3)
    throw py::value_error(what + ": expected an array of shape (samples, steps, inputs), got " +
                          std::to_string(x.ndim()) + " dimension(s)");
  const auto S = static_cast<std::size_t>(x.shape(0)), T = static_cast<std::size_t>(x.shape(1)),
             N = static_cast<std::size_t>(x.shape(2));
  if (T < 1 || N < 1) throw py::value_error(what + ": steps and inputs must be >= 1");
  if (n_classes < 1) throw py::value_error(what + ": n_classes must be >= 1");
  const std::vector<int> y = checked_labels(labels, S, n_classes, what);
  Dataset d;
  d.dt = dt;
  d.events = std::make_shared<data::StoredEvents>(N, T, n_classes, description);
  data::SampleEvents sample;
  const float* p = x.data();
  for (std::size_t i = 0; i < S; ++i) {
    sample.reset(T);
    for (std::size_t t = 0; t < T; ++t) {
      for (std::size_t k = 0; k < N; ++k) {
        const float v = p[(i * T + t) * N + k];
        if (v == 0.0f) continue;
        if (!std::isfinite(v))
          throw py::value_error(what + ": x[" + std::to_string(i) + ", " + std::to_string(t) +
                                ", " + std::to_string(k) + "] is not finite");
        sample.units.push_back(static_cast<std::uint32_t>(k));
        sample.values.push_back(v);
      }
      sample.offsets[t + 1] = static_cast<std::uint32_t>(sample.units.size());
    }
    d.events->add(sample, y[i]);
  }
  return d;
}

void check_index(const Dataset& d, std::size_t i) {
  if (i >= d.events->size())
    throw py::index_error("sample " + std::to_string(i) + " is outside the " +
                          std::to_string(d.events->size()) + " samples of the dataset");
}

// Sample i's events: (steps, units, values).
py::tuple sample_events(const Dataset& d, std::size_t i) {
  check_index(d, i);
  data::SampleEvents s;
  d.events->fill(i, 0, s);
  std::vector<std::uint32_t> steps(s.units.size());
  for (std::size_t t = 0; t < s.n_steps(); ++t)
    for (std::uint32_t k = s.offsets[t]; k < s.offsets[t + 1]; ++k) steps[k] = static_cast<std::uint32_t>(t);
  return py::make_tuple(take(std::move(steps)), take(std::move(s.units)), take(std::move(s.values)));
}

// Sample i as a dense [steps, inputs] array (values of repeated events added).
py::array_t<float> sample_dense(const Dataset& d, std::size_t i) {
  check_index(d, i);
  data::SampleEvents s;
  d.events->fill(i, 0, s);
  const std::size_t T = d.events->n_steps(), N = d.events->n_inputs();
  std::vector<float> out(T * N, 0.0f);
  for (std::size_t t = 0; t < T; ++t)
    for (std::uint32_t k = s.offsets[t]; k < s.offsets[t + 1]; ++k) out[t * N + s.units[k]] += s.values[k];
  return take(std::move(out), {static_cast<py::ssize_t>(T), static_cast<py::ssize_t>(N)});
}

py::array_t<std::int64_t> dataset_labels(const Dataset& d) {
  std::vector<std::int64_t> y(d.events->size());
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = d.events->label(i);
  return take(std::move(y));
}

void bind(py::module_& m) {
  py::class_<Dataset>(m, "Dataset")
      .def_property_readonly("size", [](const Dataset& d) { return d.events->size(); })
      .def_property_readonly("n_inputs", [](const Dataset& d) { return d.events->n_inputs(); })
      .def_property_readonly("n_steps", [](const Dataset& d) { return d.events->n_steps(); })
      .def_property_readonly("n_classes", [](const Dataset& d) { return d.events->n_classes(); })
      .def_property_readonly("total_events", [](const Dataset& d) { return d.events->total_events(); })
      .def_property_readonly("description", [](const Dataset& d) { return d.events->description(); })
      .def_property_readonly("dt", [](const Dataset& d) { return d.dt; })
      .def("labels", &dataset_labels)
      .def("sample", &sample_events)
      .def("dense", &sample_dense);
  m.def("dataset_from_events", &from_events);
  m.def("dataset_from_dense", &from_dense);
}

}  // namespace volley_python_data

// Results from Python (included once by module.cpp): recordings read back from spikes.h5 /
// record.h5 (io::read_recording), the spike-train statistics of volley::analysis, the HTML
// report (report::write_report) and the exchange formats (io::export_network, NIR). Each is the
// library function the CLI calls (`volley analyze`, `volley report`, `volley export`,
// `volley import`); arrays produced here are handed to numpy without copying (arrays.hpp).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arrays.hpp"
#include "data.hpp"
#include "volley/analysis/spike_stats.hpp"
#include "volley/error.hpp"
#include "volley/io/recording.hpp"
#include "volley/io/training.hpp"
#include "volley/report/report.hpp"
#ifdef VOLLEY_HAVE_HDF5
#include "volley/io/export.hpp"
#include "volley/io/nir.hpp"
#endif

namespace volley_python_results {

namespace py = pybind11;
using namespace volley;
using volley_python_arrays::take;

py::ssize_t ssize(std::size_t n) { return static_cast<py::ssize_t>(n); }

// ---- recordings --------------------------------------------------------------------------------

py::dict recording_dict(io::Recording&& rec) {
  py::dict d;
  d["duration"] = rec.duration;
  d["dt"] = rec.dt;
  d["sample_duration"] = rec.sample_duration;
  std::vector<std::int64_t> labels(rec.labels.begin(), rec.labels.end()),
      predictions(rec.predictions.begin(), rec.predictions.end());
  d["labels"] = take(std::move(labels));
  d["predictions"] = take(std::move(predictions));
  d["class_names"] = rec.class_names;
  py::dict pops;
  for (auto& p : rec.populations) {
    py::dict q;
    q["name"] = p.name;
    q["size"] = p.size;
    q["times"] = take(std::move(p.times));
    q["units"] = take(std::move(p.units));
    q["samples"] = take(std::move(p.samples));
    py::list states;
    for (auto& s : p.states) {
      py::dict sd;
      sd["monitor"] = s.monitor;
      sd["variable"] = s.variable;
      sd["unit"] = s.unit == "1" ? std::string() : s.unit;
      const std::size_t rows = s.t.size(), cols = s.indices.size();
      sd["t"] = take(std::move(s.t));
      sd["indices"] = take(std::move(s.indices));
      sd["values"] = take(std::move(s.values), {ssize(rows), ssize(cols)});  // [t, neurons]
      states.append(sd);
    }
    q["states"] = states;
    py::list rates;
    for (auto& r : p.rates) {
      py::dict rd;
      rd["monitor"] = r.monitor;
      rd["t"] = take(std::move(r.t));
      rd["rate"] = take(std::move(r.rate));
      rates.append(rd);
    }
    q["rates"] = rates;
    py::list weights;
    for (auto& w : p.weights) {
      py::dict wd;
      wd["monitor"] = w.monitor;
      wd["projection"] = w.projection;
      wd["target"] = w.target;
      wd["unit"] = w.unit;
      const std::size_t rows = w.t.size(), cols = w.pre.size();
      wd["t"] = take(std::move(w.t));
      wd["pre"] = take(std::move(w.pre));
      wd["post"] = take(std::move(w.post));
      wd["w"] = take(std::move(w.w), {ssize(rows), ssize(cols)});  // [t, synapses]
      wd["mean"] = take(std::move(w.mean));
      weights.append(wd);
    }
    q["weights"] = weights;
    q["removed"] = take(std::move(p.removed));
    pops[py::str(p.name)] = q;
  }
  d["populations"] = pops;
  return d;
}

py::dict read_recording(const std::string& path) {
  io::Recording rec;
  {
    py::gil_scoped_release nogil;
    rec = io::read_recording(path);
  }
  return recording_dict(std::move(rec));
}

// ---- spike statistics --------------------------------------------------------------------------

using DoubleArray = volley_python_data::DoubleArray;
using IntArray = volley_python_data::IntArray;

analysis::SpikeTrains trains(const DoubleArray& times, const IntArray& units,
                             std::size_t n_neurons, double t_start, double t_stop) {
  if (times.ndim() != 1 || units.ndim() != 1 || times.shape(0) != units.shape(0))
    throw py::value_error("times and units must be 1-d arrays of the same length (got " +
                          std::to_string(times.size()) + " and " + std::to_string(units.size()) + ")");
  analysis::SpikeTrains s;
  s.times.assign(times.data(), times.data() + times.size());
  s.units.resize(static_cast<std::size_t>(units.size()));
  for (std::size_t i = 0; i < s.units.size(); ++i) {
    const std::int64_t u = units.data()[i];
    if (u < 0 || static_cast<std::size_t>(u) >= n_neurons)
      throw py::value_error("units[" + std::to_string(i) + "] = " + std::to_string(u) +
                            " is outside [0, n_neurons = " + std::to_string(n_neurons) + ")");
    s.units[i] = static_cast<std::uint32_t>(u);
  }
  s.n_neurons = n_neurons;
  s.t_start = t_start;
  s.t_stop = t_stop;
  analysis::validate(s);
  return s;
}

py::list spike_statistics(const DoubleArray& times, const IntArray& units, std::size_t n,
                          double t0, double t1, const analysis::SimulationStatsOptions& o) {
  o.validate();
  const auto s = trains(times, units, n, t0, t1);
  py::list out;
  for (const auto& e : analysis::stat_entries(analysis::simulation_stats(s, o)))
    out.append(py::make_tuple(e.name, e.value, e.unit));
  return out;
}

void bind_analysis(py::module_& m) {
  py::class_<analysis::SimulationStatsOptions>(m, "StatsOptions")
      .def(py::init<>())
      .def_readwrite("fano_window", &analysis::SimulationStatsOptions::fano_window)
      .def_readwrite("correlation_window", &analysis::SimulationStatsOptions::correlation_window)
      .def_readwrite("max_pairs", &analysis::SimulationStatsOptions::max_pairs)
      .def_readwrite("seed", &analysis::SimulationStatsOptions::seed)
      .def_readwrite("synchrony_tau", &analysis::SimulationStatsOptions::synchrony_tau)
      .def_readwrite("synchrony_dt", &analysis::SimulationStatsOptions::synchrony_dt)
      .def_readwrite("population_bin", &analysis::SimulationStatsOptions::population_bin);
  m.def("spike_statistics", &spike_statistics);
  m.def("firing_rates", [](const DoubleArray& t, const IntArray& u, std::size_t n, double t0, double t1) {
    return take(analysis::firing_rates(trains(t, u, n, t0, t1)));
  });
  m.def("cv_isi", [](const DoubleArray& t, const IntArray& u, std::size_t n, double t0, double t1) {
    auto r = analysis::cv_isi(trains(t, u, n, t0, t1));
    return py::make_tuple(take(std::move(r.cv)), r.mean, r.n_neurons_used);
  });
  m.def("fano_factor", [](const DoubleArray& t, const IntArray& u, std::size_t n, double t0,
                          double t1, double window) {
    auto r = analysis::fano_factor(trains(t, u, n, t0, t1), window);
    return py::make_tuple(take(std::move(r.fano)), r.mean, r.n_neurons_used, r.n_windows);
  });
  m.def("isi_histogram", [](const DoubleArray& t, const IntArray& u, std::size_t n, double t0,
                            double t1, double bin, double max_isi) {
    auto r = analysis::isi_histogram(trains(t, u, n, t0, t1), bin, max_isi);
    return py::make_tuple(take(std::move(r.edges)), take(std::move(r.counts)), r.overflow);
  });
  m.def("population_rate", [](const DoubleArray& t, const IntArray& u, std::size_t n, double t0,
                              double t1, double bin) {
    auto r = analysis::population_rate(trains(t, u, n, t0, t1), bin);
    return py::make_tuple(take(std::move(r.time)), take(std::move(r.rate)));
  });
  m.def("spike_count_correlations", [](const DoubleArray& t, const IntArray& u, std::size_t n,
                                       double t0, double t1, double window, std::size_t max_pairs,
                                       std::uint64_t seed) {
    auto r = analysis::spike_count_correlations(trains(t, u, n, t0, t1), window, max_pairs, seed);
    std::vector<std::uint32_t> pairs;
    pairs.reserve(2 * r.pairs.size());
    for (const auto& [i, j] : r.pairs) {
      pairs.push_back(i);
      pairs.push_back(j);
    }
    const std::size_t np = r.pairs.size();
    return py::make_tuple(take(std::move(pairs), {ssize(np), 2}), take(std::move(r.r)), r.mean,
                          r.n_pairs_used, r.n_windows);
  });
  m.def("golomb_synchrony", [](const DoubleArray& t, const IntArray& u, std::size_t n, double t0,
                               double t1, double tau, double dt) {
    const auto r = analysis::golomb_synchrony(trains(t, u, n, t0, t1), tau, dt);
    return py::make_tuple(r.chi, r.n_neurons_used, r.n_samples);
  });
  m.def("psth", [](const DoubleArray& t, const IntArray& u, std::size_t n, double t0, double t1,
                   const std::vector<double>& triggers, double before, double after, double bin) {
    auto r = analysis::psth(trains(t, u, n, t0, t1), triggers, before, after, bin);
    return py::make_tuple(take(std::move(r.time)), take(std::move(r.rate)), r.n_triggers_used);
  });
  m.def("rate_spectrum", [](const std::vector<double>& rate, double bin) {
    auto r = analysis::population_rate_spectrum(rate, bin);
    const double peak = analysis::peak_frequency(r);
    return py::make_tuple(take(std::move(r.frequency)), take(std::move(r.psd)), peak);
  });
  // Tuning of one layer: counts [samples, neurons] and labels -> mean count per (class, neuron),
  // selectivity index and preferred class per neuron.
  m.def("tuning", [](py::array_t<std::uint32_t, py::array::c_style | py::array::forcecast> counts,
                     const IntArray& labels, std::size_t n_classes) {
    if (counts.ndim() != 2)
      throw py::value_error("tuning: counts must be a 2-d array [samples, neurons]");
    analysis::SampleCounts c;
    c.n_samples = static_cast<std::size_t>(counts.shape(0));
    c.n_neurons = static_cast<std::size_t>(counts.shape(1));
    c.counts.assign(counts.data(), counts.data() + counts.size());
    c.labels = volley_python_data::checked_labels(labels, c.n_samples, n_classes, "tuning");
    auto tc = analysis::tuning_curves(c, n_classes);
    auto sel = analysis::selectivity(tc);
    std::vector<std::int64_t> pref(sel.preferred_class.begin(), sel.preferred_class.end());
    return py::make_tuple(take(std::move(tc.mean), {ssize(tc.n_classes), ssize(tc.n_neurons)}),
                          take(std::move(sel.index)), take(std::move(pref)));
  });
}

// ---- report ------------------------------------------------------------------------------------

py::dict write_report(const std::string& dir, const std::string& out, std::size_t max_raster_points) {
  report::ReportOptions o;
  o.out = out;
  o.max_raster_points = max_raster_points;
  report::ReportResult r;
  {
    py::gil_scoped_release nogil;
    r = report::write_report(dir, o);
  }
  py::dict d;
  d["html"] = r.html_path;
  d["figures"] = r.figures;
  d["kinds"] = r.kinds;
  d["bytes"] = r.html_bytes;
  return d;
}

// ---- export / import ---------------------------------------------------------------------------

// A checkpoint's network with its test data: the training file's, `data_path`'s or a Dataset's.
io::Restored restored(const std::string& checkpoint, const std::string& data_path,
                      const volley_python_data::Dataset* arrays, int threads, long long test_limit,
                      bool dense_backward) {
  if (arrays)
    return io::restore_checkpoint(
        checkpoint,
        std::make_unique<volley_python_data::SharedEvents>(
            arrays->events, test_limit > 0 ? static_cast<std::size_t>(test_limit) : 0),
        threads, dense_backward);
  return io::restore_checkpoint(checkpoint, data_path, threads, test_limit, dense_backward);
}

#ifdef VOLLEY_HAVE_HDF5
py::dict export_model(const std::string& checkpoint, const std::string& out, std::size_t first,
                      std::size_t count, const std::string& data_path,
                      const volley_python_data::Dataset* arrays, int threads) {
  io::ExportLayout layout;
  std::string description;
  {
    py::gil_scoped_release nogil;
    io::Restored r = restored(checkpoint, data_path, arrays, threads, -1, false);
    io::ExportOptions o;
    o.first = first;
    o.count = count;
    o.source = checkpoint;
    layout = io::export_network(*r.net, *r.data.test, o, out);
    description = r.data.test->description();
  }
  py::dict d;
  d["model"] = out + "/model.toml";
  d["dt"] = layout.dt;
  d["steps"] = layout.steps;
  d["layers"] = layout.layers;
  d["window"] = layout.window;
  d["input_copies"] = layout.input_copies;
  d["samples"] = layout.samples;
  d["labels"] = layout.labels;
  d["duration"] = layout.duration();
  d["data"] = description;
  return d;
}

py::dict export_nir(const std::string& checkpoint, const std::string& path,
                    const std::string& data_path, int threads) {
  std::unique_ptr<train::Net> net;
  {
    py::gil_scoped_release nogil;
    net = io::restore_network(checkpoint, data_path, threads);
    io::nir::write(path, io::nir::to_nir(*net));
  }
  py::dict d;
  d["path"] = path;
  d["n_inputs"] = net->config().n_inputs;
  d["layers"] = net->config().layers.size();
  d["synapses"] = net->n_synapses();
  d["dt"] = net->config().dt;
  return d;
}

py::dict import_nir(const std::string& file, const std::string& out, double dt, std::size_t steps,
                    const std::string& train_path) {
  io::nir::ImportDirOptions o;
  o.nir_path = file;
  o.out_dir = out;
  o.dt = dt;
  o.steps = steps;
  o.train_path = train_path;
  io::nir::ImportReport r;
  {
    py::gil_scoped_release nogil;
    r = io::nir::import_to_directory(o);
  }
  const train::NetConfig& c = r.imported.config;
  py::dict d;
  d["n_inputs"] = c.n_inputs;
  d["layers"] = c.layers.size();
  d["dt"] = c.dt;
  d["steps"] = c.n_steps;
  d["description"] = r.imported.layers;
  d["written"] = r.written;
  d["notes"] = r.notes;
  d["out"] = out;
  return d;
}
#endif

void bind(py::module_& m) {
  m.def("read_recording", &read_recording, py::arg("path"));
  bind_analysis(m);
  m.def("write_report", &write_report);
#ifdef VOLLEY_HAVE_HDF5
  m.def("export_model", &export_model);
  m.def("export_nir", &export_nir);
  m.def("import_nir", &import_nir);
#endif
}

}  // namespace volley_python_results

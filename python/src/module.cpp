// _volley: the compiled core of the Python package `volley` (python/volley/__init__.py wraps it).
//
// Everything here goes through the same paths as `volley sim`: networks come from
// io::load_model_file / io::load_model_string (so every registered model, connection rule,
// input and monitor works without binding code), runs are Network::run, and the summary is
// io::summarize + analysis::add_spike_statistics written by io::write_summary.
//
// Arrays handed to Python are copies that own their memory: they stay valid after the network
// (and its monitors, whose vectors grow and move on later runs) is gone.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

#include "core/peak_rss.hpp"
#include "volley/analysis/spike_stats.hpp"
#include "volley/error.hpp"
#include "volley/io/model_file.hpp"
#include "volley/io/outputs.hpp"
#include "volley/network.hpp"
#include "volley/units.hpp"

#include "data.hpp"      // volley.Dataset
#include "results.hpp"   // recordings, analysis, report, export / import
#include "training.hpp"  // volley.train, volley.eval

namespace py = pybind11;

namespace {

// Python exception classes, defined in volley/_errors.py and handed over once at import.
struct ErrorClasses {
  py::handle base, config, parameter, unit, io;
};
ErrorClasses g_errors;

void register_errors(py::object base, py::object config, py::object parameter, py::object unit,
                     py::object io) {
  // Kept for the life of the process (the translator may run until interpreter shutdown).
  g_errors = {base.release(), config.release(), parameter.release(), unit.release(), io.release()};
}

// One simulation: the loaded model and the run facts that summary.json reports.
struct Sim {
  volley::io::LoadedModel model;
  double build_seconds = 0.0;
  double wall_seconds = 0.0;  // all runs together
  double update_seconds = 0.0, exchange_seconds = 0.0, deliver_seconds = 0.0;  // RunStats phases
  int threads = 1;

  volley::Network& net() { return *model.network; }
};

volley::io::LoadOptions make_options(const std::vector<std::string>& overrides,
                                     std::optional<std::uint64_t> seed,
                                     std::optional<double> duration, std::optional<int> threads) {
  volley::io::LoadOptions o;
  o.overrides = overrides;
  o.seed = seed;
  o.duration = duration;
  o.threads = threads;
  return o;
}

std::shared_ptr<Sim> finish_load(volley::io::LoadedModel m, double build) {
  auto s = std::make_shared<Sim>();
  s->model = std::move(m);
  s->build_seconds = build;
  s->threads = s->model.threads;
  return s;
}

std::shared_ptr<Sim> load_file(const std::string& path, const std::vector<std::string>& overrides,
                               std::optional<std::uint64_t> seed, std::optional<double> duration,
                               std::optional<int> threads) {
  const auto opt = make_options(overrides, seed, duration, threads);
  py::gil_scoped_release nogil;  // building a large network takes a while
  const auto t0 = std::chrono::steady_clock::now();
  auto m = volley::io::load_model_file(path, opt);
  const double build = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return finish_load(std::move(m), build);
}

std::shared_ptr<Sim> load_string(const std::string& text, const std::string& name,
                                 const std::vector<std::string>& overrides,
                                 std::optional<std::uint64_t> seed, std::optional<double> duration,
                                 std::optional<int> threads) {
  const auto opt = make_options(overrides, seed, duration, threads);
  py::gil_scoped_release nogil;
  const auto t0 = std::chrono::steady_clock::now();
  auto m = volley::io::load_model_string(text, name, opt);
  const double build = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return finish_load(std::move(m), build);
}

// Runs `seconds` (rounded to whole steps) without the GIL. Long runs go in parts of about
// 0.1 s of wall time; between parts the GIL is taken back and Python's signal handlers run,
// so Ctrl-C raises KeyboardInterrupt with the network stopped at a step boundary (net.t says
// where). Splitting a run into parts gives the same results as one run (every random number
// and monitor sample is keyed by the step, as `volley sim`'s progress display relies on).
double run(Sim& s, double seconds, std::optional<int> threads) {
  if (!std::isfinite(seconds) || seconds < 0.0)
    throw volley::ParameterError("run duration must be a finite time >= 0, got " +
                                 std::to_string(seconds) + " s");
  const int nthreads = threads.value_or(s.threads);
  if (nthreads < 1) throw volley::ParameterError("threads must be >= 1, got " + std::to_string(nthreads));
  volley::Network& net = s.net();
  const double dt = net.dt();
  const auto total = static_cast<std::uint64_t>(std::llround(seconds / dt));
  std::uint64_t done = 0, chunk = std::min<std::uint64_t>(total, 2000);
  double wall = 0.0;
  while (done < total) {
    const std::uint64_t n = std::min(chunk, total - done);
    volley::RunStats st;
    {
      py::gil_scoped_release nogil;
      st = net.run(static_cast<double>(n) * dt, volley::RunOptions{nthreads});
    }
    done += n;
    wall += st.wall_seconds;
    s.wall_seconds += st.wall_seconds;
    s.update_seconds += st.update_seconds;
    s.exchange_seconds += st.exchange_seconds;
    s.deliver_seconds += st.deliver_seconds;
    if (done < total) {
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
      // Aim the next part at ~0.1 s of wall time (at least 100 steps, at most 10x the last).
      const double per_step = st.wall_seconds / static_cast<double>(n);
      const double want = per_step > 0.0 ? 0.1 / per_step : 10.0 * static_cast<double>(n);
      chunk = static_cast<std::uint64_t>(
          std::clamp(want, 100.0, 10.0 * static_cast<double>(n)));
    }
  }
  return wall;
}

// ---- arrays ------------------------------------------------------------------------------------

template <class T, class Src>
py::array_t<T> copy_1d(const Src& v) {
  py::array_t<T> a(static_cast<py::ssize_t>(v.size()));
  T* out = a.mutable_data();
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = static_cast<T>(v[i]);
  return a;
}

// rows x cols stored row-major in `v` (offset `off`), returned transposed: [cols][rows].
py::array_t<float> transposed(const float* v, std::size_t rows, std::size_t cols) {
  py::array_t<float> a({static_cast<py::ssize_t>(cols), static_cast<py::ssize_t>(rows)});
  float* out = a.mutable_data();
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) out[c * rows + r] = v[r * cols + c];
  return a;
}

std::string unit_of(volley::Dimension d) { return volley::unit_symbol(d); }

py::dict monitors(Sim& s) {
  py::dict d;
  auto& net = s.net();
  for (const auto& m : net.spike_monitors()) d[py::str(m->name())] = "spikes";
  for (const auto& m : net.state_monitors()) d[py::str(m->name())] = "state";
  for (const auto& m : net.rate_monitors()) d[py::str(m->name())] = "rate";
  for (const auto& m : net.weight_monitors()) d[py::str(m->name())] = "weights";
  return d;
}

[[noreturn]] void unknown_monitor(Sim& s, const std::string& name, const char* kind) {
  std::string known;
  for (const auto& [k, v] : monitors(s)) {
    if (py::str(v).cast<std::string>() != kind) continue;
    known += (known.empty() ? "" : ", ") + k.cast<std::string>();
  }
  throw py::key_error("no " + std::string(kind) + " monitor or population '" + name +
                      "' (known " + kind + " monitors: " + (known.empty() ? "none" : known) + ")");
}

// Spikes of a spike monitor, found by its name or by its population's (when the population has
// exactly one spike monitor).
py::tuple spikes(Sim& s, const std::string& name) {
  const volley::SpikeMonitor* found = nullptr;
  for (const auto& m : s.net().spike_monitors())
    if (m->name() == name) found = m.get();
  if (!found) {
    int n = 0;
    for (const auto& m : s.net().spike_monitors())
      if (m->population().name() == name) {
        found = m.get();
        ++n;
      }
    if (n > 1)
      throw py::key_error("population '" + name +
                          "' has several spike monitors: name the monitor instead");
  }
  if (!found) unknown_monitor(s, name, "spikes");
  return py::make_tuple(copy_1d<double>(found->times), copy_1d<std::uint32_t>(found->units),
                        found->name(), found->population().name());
}

py::dict state(Sim& s, const std::string& name) {
  for (const auto& m : s.net().state_monitors()) {
    if (m->name() != name) continue;
    py::dict d;
    const std::size_t rows = m->times.size(), cols = m->indices().size();
    d["t"] = copy_1d<double>(m->times);
    d["indices"] = copy_1d<std::uint32_t>(m->indices());
    d["population"] = m->population().name();
    py::dict values, units;
    for (std::size_t v = 0; v < m->variables().size(); ++v) {
      values[py::str(m->variables()[v])] = transposed(m->values[v].data(), rows, cols);
      units[py::str(m->variables()[v])] = v < m->dims.size() ? unit_of(m->dims[v]) : "";
    }
    d["values"] = values;
    d["units"] = units;
    return d;
  }
  unknown_monitor(s, name, "state");
}

py::tuple rate(Sim& s, const std::string& name) {
  for (const auto& m : s.net().rate_monitors())
    if (m->name() == name)
      return py::make_tuple(copy_1d<double>(m->times), copy_1d<double>(m->rates));
  unknown_monitor(s, name, "rate");
}

py::dict weight_record(Sim& s, const std::string& name) {
  for (const auto& m : s.net().weight_monitors()) {
    if (m->name() != name) continue;
    const auto& p = m->projection();
    std::vector<std::uint32_t> pre, post;
    for (const auto& [a, b] : m->pairs()) {
      pre.push_back(static_cast<std::uint32_t>(a + p.pre_begin()));
      post.push_back(static_cast<std::uint32_t>(b + p.post_begin()));
    }
    py::dict d;
    d["t"] = copy_1d<double>(m->times);
    d["pre"] = copy_1d<std::uint32_t>(pre);
    d["post"] = copy_1d<std::uint32_t>(post);
    d["w"] = transposed(m->values.data(), m->times.size(), m->pairs().size());
    d["mean"] = copy_1d<double>(m->means);
    d["unit"] = unit_of(p.weight_dim());
    d["projection"] = p.name();
    return d;
  }
  unknown_monitor(s, name, "weights");
}

// ---- populations -------------------------------------------------------------------------------

std::vector<std::string> population_names(Sim& s) {
  std::vector<std::string> v;
  for (const auto& p : s.net().populations()) v.push_back(p->name());
  return v;
}

py::dict population_info(Sim& s, const std::string& name) {
  auto& p = s.net().population(name);
  py::dict d;
  d["name"] = p.name();
  d["model"] = std::string(p.model());
  d["size"] = p.size();
  d["living"] = p.living();
  d["variables"] = p.variable_names();
  std::vector<std::string> ch;
  for (const auto& c : p.channels()) ch.push_back(c.name);
  d["channels"] = ch;
  d["spikes"] = s.net().spike_count(name);
  return d;
}

volley::VariableView find_variable(volley::Population& p, const std::string& var) {
  volley::VariableView v = p.variable(var);
  if (!v.found) {
    std::string known;
    for (const auto& n : p.variable_names()) known += (known.empty() ? "" : ", ") + n;
    throw py::key_error("population '" + p.name() + "' (" + std::string(p.model()) +
                        ") has no variable '" + var + "' (known: " + (known.empty() ? "none" : known) + ")");
  }
  return v;
}

py::array_t<double> get_variable(Sim& s, const std::string& pop, const std::string& var) {
  auto& p = s.net().population(pop);
  const auto v = find_variable(p, var);
  py::array_t<double> a(static_cast<py::ssize_t>(p.size()));
  double* out = a.mutable_data();
  for (std::size_t i = 0; i < p.size(); ++i) out[i] = v.at(i);
  return a;
}

std::string variable_unit(Sim& s, const std::string& pop, const std::string& var) {
  return unit_of(find_variable(s.net().population(pop), var).dim);
}

void set_variable(Sim& s, const std::string& pop, const std::string& var,
                  py::array_t<double, py::array::c_style | py::array::forcecast> values) {
  auto& p = s.net().population(pop);
  const auto v = find_variable(p, var);
  if (values.ndim() != 1 || static_cast<std::size_t>(values.shape(0)) != p.size())
    throw py::value_error("population '" + pop + "' variable '" + var + "': expected " +
                          std::to_string(p.size()) + " values, got an array of shape " +
                          py::str(py::tuple(py::cast(std::vector<py::ssize_t>(
                              values.shape(), values.shape() + values.ndim())))).cast<std::string>());
  if (v.data64 != nullptr)
    throw py::value_error("population '" + pop + "' variable '" + var + "' is read-only");
  const double* in = values.data();
  for (std::size_t i = 0; i < p.size(); ++i) v.data[i] = static_cast<float>(in[i] / v.to_si);
}

// ---- projections -------------------------------------------------------------------------------

std::vector<std::string> projection_names(Sim& s) {
  std::vector<std::string> v;
  for (const auto& p : s.net().projections()) v.push_back(p->name());
  return v;
}

py::dict projection_info(Sim& s, const std::string& name) {
  auto& p = s.net().projection(name);
  py::dict d;
  d["name"] = p.name();
  d["source"] = p.source().name();
  d["target"] = p.target().name();
  d["pre_begin"] = p.pre_begin();
  d["pre_count"] = p.pre_count();
  d["post_begin"] = p.post_begin();
  d["post_count"] = p.post_count();
  d["channel"] = p.target().channels().empty() ? std::string()
                                               : p.target().channels()[p.channel()].name;
  d["synapses"] = p.synapse_count();
  d["unit"] = unit_of(p.weight_dim());
  d["plastic"] = p.plastic();
  d["equations"] = p.equations();
  d["events"] = p.events();
  d["memory_bytes"] = p.memory_bytes();
  return d;
}

std::size_t synapse_count(Sim& s, const std::string& name) {
  return s.net().projection(name).synapse_count();
}

py::array_t<std::uint32_t> pre_indices(Sim& s, const std::string& name) {
  const auto& p = s.net().projection(name);
  py::array_t<std::uint32_t> a(static_cast<py::ssize_t>(p.synapse_count()));
  auto* out = a.mutable_data();
  const auto& rp = p.row_ptr();
  for (std::size_t i = 0; i + 1 < rp.size(); ++i)
    for (std::uint64_t k = rp[i]; k < rp[i + 1]; ++k)
      out[k] = static_cast<std::uint32_t>(i + p.pre_begin());
  return a;
}

py::array_t<std::uint32_t> post_indices(Sim& s, const std::string& name) {
  return copy_1d<std::uint32_t>(s.net().projection(name).targets());
}

py::array_t<double> get_weights(Sim& s, const std::string& name) {
  const auto& p = s.net().projection(name);
  const auto& w = p.weights();
  py::array_t<double> a(static_cast<py::ssize_t>(w.size()));
  double* out = a.mutable_data();
  const double f = p.weight_factor();
  for (std::size_t i = 0; i < w.size(); ++i) out[i] = static_cast<double>(w[i]) / f;
  return a;
}

void set_weights(Sim& s, const std::string& name,
                 py::array_t<double, py::array::c_style | py::array::forcecast> values) {
  auto& p = s.net().projection(name);
  auto& w = p.weights();
  if (values.ndim() != 1 || static_cast<std::size_t>(values.shape(0)) != w.size())
    throw py::value_error("projection '" + name + "': expected " + std::to_string(w.size()) +
                          " weights (one per synapse), got an array of " +
                          std::to_string(values.size()) + " values with " +
                          std::to_string(values.ndim()) + " dimension(s)");
  const double* in = values.data();
  for (std::size_t i = 0; i < w.size(); ++i)
    if (!std::isfinite(in[i]))
      throw py::value_error("projection '" + name + "': weight " + std::to_string(i) +
                            " is not finite");
  const double f = p.weight_factor();
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(in[i] * f);
}

py::array_t<double> delays(Sim& s, const std::string& name) {
  const auto& p = s.net().projection(name);
  py::array_t<double> a(static_cast<py::ssize_t>(p.synapse_count()));
  double* out = a.mutable_data();
  for (std::size_t i = 0; i < p.synapse_count(); ++i)
    out[i] = static_cast<double>(p.delay_steps(i)) * s.net().dt();
  return a;
}

py::array_t<double> synapse_variable(Sim& s, const std::string& name, const std::string& var) {
  return copy_1d<double>(s.net().projection(name).synapse_variable(var));
}

void add_synapses(Sim& s, const std::string& name, const std::vector<std::uint32_t>& pre,
                  const std::vector<std::uint32_t>& post, double weight, double delay) {
  if (pre.size() != post.size())
    throw py::value_error("add_synapses: pre and post differ in length (" +
                          std::to_string(pre.size()) + " and " + std::to_string(post.size()) + ")");
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
  pairs.reserve(pre.size());
  for (std::size_t i = 0; i < pre.size(); ++i) pairs.emplace_back(pre[i], post[i]);
  s.net().projection(name).add_synapses(pairs, weight, delay);
}

// ---- summary -----------------------------------------------------------------------------------

// summary.json's text, written by the same code as `volley sim` (to a temporary file, since
// io::write_summary writes files).
std::string summary_json(Sim& s) {
  namespace fs = std::filesystem;
  auto& net = s.net();
  const volley::io::RunInfo info{s.wall_seconds, s.build_seconds, net.time(), s.threads,
                                 s.model.path, volley::detail::peak_rss_bytes()};
  volley::io::SimSummary summary = volley::io::summarize(net, info);
  summary.update_seconds = s.update_seconds;
  summary.exchange_seconds = s.exchange_seconds;
  summary.deliver_seconds = s.deliver_seconds;
  volley::analysis::add_spike_statistics(summary, net);
  std::string tmpl = (fs::temp_directory_path() / "volley-summary-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw volley::IoError("cannot create a temporary directory");
  const fs::path dir(tmpl), file = dir / "summary.json";
  std::string text;
  try {
    volley::io::write_summary(file.string(), summary);
    std::ifstream in(file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  } catch (...) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    throw;
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return text;
}

double parse_time(const std::string& text) {
  return volley::parse_quantity(text, volley::Dimension::seconds());
}

py::tuple parse_quantity(const std::string& text) {
  const auto q = volley::parse_quantity(text);
  return py::make_tuple(q.value, volley::unit_symbol(q.dim));
}

}  // namespace

PYBIND11_MODULE(_volley, m) {
  m.doc() = "Compiled core of the volley package (use `import volley`, not this module).";

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const volley::ConfigError& e) {
      PyErr_SetString(g_errors.config ? g_errors.config.ptr() : PyExc_ValueError, e.what());
    } catch (const volley::ParameterError& e) {
      PyErr_SetString(g_errors.parameter ? g_errors.parameter.ptr() : PyExc_ValueError, e.what());
    } catch (const volley::UnitError& e) {
      PyErr_SetString(g_errors.unit ? g_errors.unit.ptr() : PyExc_ValueError, e.what());
    } catch (const volley::IoError& e) {
      PyErr_SetString(g_errors.io ? g_errors.io.ptr() : PyExc_OSError, e.what());
    } catch (const volley::Error& e) {
      PyErr_SetString(g_errors.base ? g_errors.base.ptr() : PyExc_RuntimeError, e.what());
    }
  });

  m.def("_register_errors", &register_errors);
  m.def("load_file", &load_file, py::arg("path"), py::arg("overrides"), py::arg("seed"),
        py::arg("duration"), py::arg("threads"));
  m.def("load_string", &load_string, py::arg("text"), py::arg("name"), py::arg("overrides"),
        py::arg("seed"), py::arg("duration"), py::arg("threads"));
  m.def("parse_time", &parse_time, py::arg("text"));
  m.def("parse_quantity", &parse_quantity, py::arg("text"));
  m.def("model_reference", [] { return volley::io::model_reference_markdown(); });
  volley_python_data::bind(m);
  volley_python_results::bind(m);
  volley_python_training::bind(m);

  py::class_<Sim, std::shared_ptr<Sim>>(m, "Sim")
      .def_property_readonly("dt", [](Sim& s) { return s.net().dt(); })
      .def_property_readonly("t", [](Sim& s) { return s.net().time(); })
      .def_property_readonly("step", [](Sim& s) { return s.net().step(); })
      .def_property_readonly("seed", [](Sim& s) { return s.net().seed(); })
      .def_property_readonly("duration", [](Sim& s) { return s.model.duration; })
      .def_property_readonly("path", [](Sim& s) { return s.model.path; })
      .def_property_readonly("build_seconds", [](Sim& s) { return s.build_seconds; })
      .def_property_readonly("wall_seconds", [](Sim& s) { return s.wall_seconds; })
      .def_property(
          "threads", [](Sim& s) { return s.threads; },
          [](Sim& s, int n) {
            if (n < 1) throw py::value_error("threads must be >= 1, got " + std::to_string(n));
            s.threads = n;
          })
      .def("run", &run, py::arg("seconds"), py::arg("threads") = std::nullopt)
      .def("monitors", &monitors)
      .def("spikes", &spikes)
      .def("state", &state)
      .def("rate", &rate)
      .def("weight_record", &weight_record)
      .def("population_names", &population_names)
      .def("population_info", &population_info)
      .def("get_variable", &get_variable)
      .def("variable_unit", &variable_unit)
      .def("set_variable", &set_variable)
      .def("projection_names", &projection_names)
      .def("projection_info", &projection_info)
      .def("synapse_count", &synapse_count)
      .def("pre_indices", &pre_indices)
      .def("post_indices", &post_indices)
      .def("get_weights", &get_weights)
      .def("set_weights", &set_weights)
      .def("delays", &delays)
      .def("synapse_variable", &synapse_variable)
      .def("add_synapses", &add_synapses)
      .def("summary_json", &summary_json);
}

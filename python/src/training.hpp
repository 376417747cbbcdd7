// Training from Python (included once by module.cpp): volley.train and volley.eval.
//
// `volley train` is io::fit: the training file's data and network run by the library's epoch
// loop train::fit with the writer of io (metrics.jsonl, checkpoint.bin, summary.json). io::fit
// has no per-epoch hook and cannot be stopped, so this file runs the same library pieces it
// runs — io::load_train_config, io::load_data, train::Net, train::Trainer (with rewiring),
// train::fit — with a writer of its own that writes the same files with the same functions
// (io::append_metrics, train::write_checkpoint) and also calls back into Python after every
// epoch. The results are those of the CLI: same loader, same trainer, same epoch loop.
//
// The GIL is released for the whole run; the writer takes it back after every batch (to let
// Python's signal handlers run: Ctrl-C) and after every epoch (the callback).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/peak_rss.hpp"
#include "volley/error.hpp"
#include "volley/io/outputs.hpp"
#include "volley/io/train_config.hpp"
#include "volley/io/training.hpp"
#include "volley/train/checkpoint.hpp"
#include "volley/train/runner.hpp"
#include "volley/train/trainer.hpp"

namespace volley_python_training {

namespace py = pybind11;
namespace fs = std::filesystem;
using namespace volley;

// The options that change results, in the order `volley train` stores them in the checkpoint
// (apps/volley/train_command.cpp, effective_options), so that `volley train --resume` and
// `volley eval` treat a run from Python as their own.
std::vector<std::string> effective_options(std::optional<std::uint64_t> seed,
                                           std::optional<std::size_t> train_limit,
                                           std::optional<std::size_t> test_limit,
                                           const std::vector<std::string>& sets) {
  std::vector<std::string> o;
  if (seed) o.push_back("seed=" + std::to_string(*seed));
  if (train_limit) o.push_back("train_limit=" + std::to_string(*train_limit));
  if (test_limit) o.push_back("test_limit=" + std::to_string(*test_limit));
  for (const auto& s : sets) o.push_back("set:" + s);
  return o;
}

// A network's parameters as numpy copies: dense weight matrices shaped (pre, post) (rows:
// presynaptic neurons: inputs or the previous layer), everything else (sparse matrices' values
// in CSR order, time constants, thresholds) flat.
py::dict parameters(const train::Net& net) {
  py::dict out;
  std::vector<std::vector<std::size_t>> shape(net.params().size());
  for (std::size_t l = 0; l < net.config().layers.size(); ++l)
    for (const train::WeightLayout* W : {&net.input_weights(l), &net.recurrent_weights(l)})
      if (W->dense && W->n_pre > 0 && W->param < shape.size() &&
          net.params()[W->param].value.size() == W->n_pre * W->n_post)
        shape[W->param] = {W->n_pre, W->n_post};
  for (std::size_t k = 0; k < net.params().size(); ++k) {
    const auto& p = net.params()[k];
    std::vector<py::ssize_t> dims;
    if (shape[k].empty())
      dims = {static_cast<py::ssize_t>(p.value.size())};
    else
      dims = {static_cast<py::ssize_t>(shape[k][0]), static_cast<py::ssize_t>(shape[k][1])};
    py::array_t<float> a(dims);
    std::copy(p.value.begin(), p.value.end(), a.mutable_data());
    out[py::str(p.name)] = a;
  }
  return out;
}

py::array_t<std::int64_t> confusion(const std::vector<std::size_t>& c, std::size_t C) {
  py::array_t<std::int64_t> a({static_cast<py::ssize_t>(C), static_cast<py::ssize_t>(C)});
  auto* d = a.mutable_data();
  for (std::size_t i = 0; i < C * C && i < c.size(); ++i) d[i] = static_cast<std::int64_t>(c[i]);
  return a;
}

// Thrown by the writer to leave train::fit after an epoch's checkpoint (or, on a second
// Ctrl-C, in the middle of an epoch).
struct StopTraining {};

class PyFitWriter final : public train::FitWriter {
 public:
  PyFitWriter(const io::TrainConfig& cfg, std::string out_dir, std::vector<std::string> options,
              bool resume, py::object callback, double load_seconds)
      : cfg_(cfg),
        out_dir_(std::move(out_dir)),
        options_(std::move(options)),
        resume_(resume),
        callback_(std::move(callback)),
        load_seconds_(load_seconds),
        ckpt_path_((fs::path(out_dir_) / "checkpoint.bin").string()),
        metrics_path_((fs::path(out_dir_) / "metrics.jsonl").string()) {}

  // As io::fit's writer: the checkpoint in OUT, when it was made from the same file and options.
  std::optional<train::ResumePoint> resume() override {
    if (!resume_) return std::nullopt;
    if (!fs::exists(ckpt_path_))
      throw IoError("resume: " + out_dir_ + " has no checkpoint.bin to resume from");
    train::ResumePoint r{train::read_checkpoint(ckpt_path_), ckpt_path_};
    if (r.checkpoint.config_text != cfg_.text)
      throw ConfigError("resume: " + cfg_.path +
                        " differs from the training file the checkpoint was made with (" +
                        r.checkpoint.config_name + ")");
    if (r.checkpoint.options != options_)
      throw ConfigError("resume: the options differ from the checkpoint's");
    return r;
  }

  void start(const train::FitStart& s) override {
    start_ = s;
    if (resume_)
      io::truncate_metrics(metrics_path_, static_cast<std::size_t>(s.first_epoch));
    else
      volley::detail::write_file_atomically(metrics_path_, "");
  }

  // Between batches: Python's signal handlers. The first Ctrl-C asks to stop after this epoch
  // (its checkpoint is written); a second one stops now (the previous checkpoint stays).
  void batch(int, int, const train::BatchProgress&, double) override {
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() == 0) return;
    if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
      PyErr_Clear();
      if (interrupted_) throw StopTraining{};  // the second Ctrl-C: now, mid-epoch
      interrupted_ = true;
      return;
    }
    error_ = std::make_exception_ptr(py::error_already_set());
    throw StopTraining{};
  }

  void epoch(const train::EpochRecord& r) override {
    const train::EpochStats& st = r.train;
    io::MetricsLine line;
    line.epoch = r.epoch;
    line.train_loss = st.loss;
    line.train_acc = st.accuracy;
    line.test_acc = r.test.accuracy;
    line.test_loss = r.test.loss;
    line.epoch_seconds = st.seconds;
    line.samples_per_second = static_cast<double>(st.samples) / std::max(st.seconds, 1e-12);
    line.test_seconds = r.test.seconds;
    line.active_fraction = st.active_fraction;
    line.lr = r.lr;
    for (const auto& m : st.rewiring)
      line.rewiring.push_back({m.name, m.active, m.rewired, m.rows_connected});
    io::append_metrics(metrics_path_, line);
    records_.push_back(r);
  }

  // After the epoch's checkpoint: the callback, then Python's signal handlers. A stop (the
  // callback's False, a KeyboardInterrupt, another exception) leaves train::fit here unless this
  // was the last epoch anyway: then the run ends as usual (summary.json) and the interrupt or
  // exception is raised after it.
  void checkpoint(const train::Checkpoint& ck) override {
    train::write_checkpoint(ckpt_path_, ck);
    epochs_done_ = static_cast<int>(ck.epochs_done);
    const bool last = epochs_done_ >= start_.epochs;
    py::gil_scoped_acquire gil;
    bool stop = false;
    if (!callback_.is_none() && !interrupted_) {
      try {
        py::object ret = callback_(epoch_dict(records_.back()));
        stop = ret.ptr() == Py_False;
      } catch (py::error_already_set& e) {
        if (e.matches(PyExc_KeyboardInterrupt))
          interrupted_ = true;
        else
          error_ = std::current_exception();
      }
    }
    if (!interrupted_ && !error_ && PyErr_CheckSignals() != 0) {
      if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
        PyErr_Clear();
        interrupted_ = true;
      } else {
        error_ = std::make_exception_ptr(py::error_already_set());
      }
    }
    if (last) return;
    stopped_by_callback_ = stop && !interrupted_ && !error_;
    if (stop || interrupted_ || error_) throw StopTraining{};
  }

  void finish(const train::FitEnd& e) override {
    end_ = e;
    const std::size_t C = e.n_classes;
    nlohmann::json conf = nlohmann::json::array();
    for (std::size_t y = 0; y < C; ++y) {
      nlohmann::json row = nlohmann::json::array();
      for (std::size_t p = 0; p < C; ++p) row.push_back(e.test.confusion[y * C + p]);
      conf.push_back(row);
    }
    const nlohmann::json summary = {
        {"config", cfg_.path},
        {"epochs", e.epochs_done},
        {"test_acc", e.test.accuracy},
        {"test_loss", e.test.loss},
        {"test_samples", e.test.samples},
        {"train_samples", e.train_samples},
        {"train_seconds_this_run", e.train_seconds},
        {"data_load_seconds", load_seconds_},
        {"synapses", e.synapses},
        {"trainable_parameters", e.trainable},
        {"spikes_per_sample", e.test.spikes_per_sample},
        {"confusion", conf},
        {"peak_rss_mb", static_cast<double>(volley::detail::peak_rss_bytes()) / 1048576.0}};
    std::ofstream f(fs::path(out_dir_) / "summary.json");
    f << summary.dump(2) << "\n";
  }

  py::dict epoch_dict(const train::EpochRecord& r) const {
    const train::EpochStats& st = r.train;
    py::dict d;
    d["epoch"] = r.epoch;
    d["epochs"] = r.epochs;
    d["train_loss"] = st.loss;
    d["train_acc"] = st.accuracy;
    d["test_acc"] = r.test.accuracy;
    d["test_loss"] = r.test.loss;
    d["epoch_seconds"] = st.seconds;
    d["samples_per_second"] = static_cast<double>(st.samples) / std::max(st.seconds, 1e-12);
    d["test_seconds"] = r.test.seconds;
    d["active_fraction"] = st.active_fraction;
    d["lr"] = r.lr;
    d["train_samples"] = st.samples;
    d["test_samples"] = r.test.samples;
    d["spikes_per_sample"] = r.test.spikes_per_sample;
    d["checkpoint"] = ckpt_path_;
    return d;
  }

  const io::TrainConfig& cfg_;
  std::string out_dir_;
  std::vector<std::string> options_;
  bool resume_;
  py::object callback_;
  double load_seconds_;
  std::string ckpt_path_, metrics_path_;
  train::FitStart start_;
  std::vector<train::EpochRecord> records_;
  std::optional<train::FitEnd> end_;
  int epochs_done_ = 0;
  bool interrupted_ = false, stopped_by_callback_ = false;
  std::exception_ptr error_;
};

py::dict train(const std::string& config, const std::string& out_dir,
               const std::vector<std::string>& sets, std::optional<std::uint64_t> seed,
               std::optional<int> epochs, std::optional<std::size_t> train_limit,
               std::optional<std::size_t> test_limit, std::optional<int> threads, bool resume,
               py::object callback) {
  const std::vector<std::string> options = effective_options(seed, train_limit, test_limit, sets);
  // The options as `volley train` derives them (train_options of apps/volley/restore.cpp).
  io::TrainOptions topt = io::options_from_checkpoint(options);
  if (threads) topt.threads = *threads;
  if (epochs) topt.epochs = *epochs;

  std::optional<PyFitWriter> writer;
  std::unique_ptr<io::TrainConfig> cfg;
  std::unique_ptr<io::DataSets> data;
  std::unique_ptr<train::Net> net;
  std::unique_ptr<train::Trainer> trainer;
  train::FitResult r;
  {
    py::gil_scoped_release nogil;
    cfg = std::make_unique<io::TrainConfig>(io::load_train_config(config, topt));
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec || !fs::is_directory(out_dir))
      throw IoError("out: cannot create directory '" + out_dir + "'");
    const std::string ckpt = (fs::path(out_dir) / "checkpoint.bin").string();
    if (!resume && fs::exists(ckpt))
      throw IoError(out_dir + " already holds a training run (" + ckpt +
                    "); pass resume=True to continue it, or choose another out");
    const auto t0 = std::chrono::steady_clock::now();
    data = std::make_unique<io::DataSets>(io::load_data(*cfg));
    train::NetConfig nc = cfg->net;
    nc.n_inputs = data->train->n_inputs();
    if (nc.layers.back().size != data->train->n_classes())
      throw ConfigError(cfg->path + ": the last layer has " + std::to_string(nc.layers.back().size) +
                        " neurons but the data has " + std::to_string(data->train->n_classes()) +
                        " classes");
    net = std::make_unique<train::Net>(nc);
    trainer = std::make_unique<train::Trainer>(*net, cfg->loss, cfg->optimizer, cfg->training);
    try {
      trainer->enable_rewiring(cfg->rewiring);
    } catch (const ParameterError& e) {
      throw ConfigError(cfg->path + ": " + e.what());
    }
    const double load_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    {
      py::gil_scoped_acquire gil;  // the writer holds a Python object
      writer.emplace(*cfg, out_dir, options, resume, std::move(callback), load_seconds);
    }
    try {
      r = train::fit(*trainer, *data->train, *data->test, {cfg->path, cfg->text, options}, *writer);
    } catch (const StopTraining&) {
      r.epochs_done = writer->epochs_done_;
      r.test_accuracy = writer->records_.empty() ? 0.0 : writer->records_.back().test.accuracy;
    } catch (const ParameterError& e) {
      throw ConfigError(cfg->path + ": " + e.what());
    }
    if (r.stopped)  // as io::fit says it
      r.message += r.epochs_done > 0
                       ? " The last good checkpoint (" + std::to_string(r.epochs_done) +
                             " epochs) is " + writer->ckpt_path_ + "."
                       : std::string(" No epoch finished, so there is no checkpoint.");
  }
  if (writer->error_) {
    std::exception_ptr err = writer->error_;
    writer->error_ = nullptr;
    std::rethrow_exception(err);
  }
  py::dict d;
  py::list metrics;
  for (const auto& rec : writer->records_) metrics.append(writer->epoch_dict(rec));
  d["metrics"] = metrics;
  d["epochs_done"] = r.epochs_done;
  d["test_accuracy"] = r.test_accuracy;
  d["diverged"] = r.stopped;
  d["message"] = r.message;
  d["stopped_by_callback"] = writer->stopped_by_callback_;
  d["interrupted"] = writer->interrupted_;
  d["checkpoint"] = r.epochs_done > 0 ? py::object(py::str(writer->ckpt_path_)) : py::none();
  d["out"] = out_dir;
  d["config"] = cfg->path;
  d["weights"] = parameters(*net);
  d["train_samples"] = data->train->size();
  d["test_samples"] = data->test->size();
  if (writer->end_)
    d["confusion"] = confusion(writer->end_->test.confusion, writer->end_->n_classes);
  else if (!writer->records_.empty())  // stopped early: the last epoch's evaluation
    d["confusion"] = confusion(writer->records_.back().test.confusion, net->n_outputs());
  writer->callback_ = py::none();
  return d;
}

// `volley eval`'s evaluation: the checkpoint's network rebuilt as it was trained (as
// restore_checkpoint of apps/volley/restore.cpp does), evaluated on its test data.
py::dict evaluate(const std::string& checkpoint, const std::string& data_path,
                  std::optional<std::size_t> test_limit, std::optional<int> threads) {
  py::gil_scoped_release nogil;
  train::Checkpoint ck = train::read_checkpoint(checkpoint);
  io::TrainOptions opt = io::options_from_checkpoint(ck.options);
  if (threads) opt.threads = *threads;
  if (test_limit) opt.test_limit = *test_limit;
  io::TrainConfig cfg = io::load_train_string(ck.config_text, ck.config_name, opt);
  if (!data_path.empty()) {
    if (cfg.data.kind == io::DataConfig::Kind::shd)
      cfg.data.test_file = data_path;
    else
      cfg.data.path = data_path;
  }
  cfg.data.train_limit = 1;  // only the test set is used
  io::DataSets data = io::load_data(cfg);
  train::NetConfig nc = cfg.net;
  nc.n_inputs = data.test->n_inputs();
  train::Net net(nc);
  train::restore(ck, net, nullptr, checkpoint);
  train::Trainer trainer(net, cfg.loss, cfg.optimizer, cfg.training);
  const train::EvalStats st = trainer.evaluate(*data.test);
  py::gil_scoped_acquire gil;
  py::dict d;
  d["checkpoint"] = checkpoint;
  d["config"] = ck.config_name;
  d["epochs"] = ck.epochs_done;
  d["accuracy"] = st.accuracy;
  d["loss"] = st.loss;
  d["samples"] = st.samples;
  d["seconds"] = st.seconds;
  d["confusion"] = confusion(st.confusion, net.n_outputs());
  d["spikes_per_sample"] = st.spikes_per_sample;
  d["data"] = data.test->description();
  d["weights"] = parameters(net);
  return d;
}

void bind(py::module_& m) {
  m.def("train", &train, py::arg("config"), py::arg("out"), py::arg("sets"), py::arg("seed"),
        py::arg("epochs"), py::arg("train_limit"), py::arg("test_limit"), py::arg("threads"),
        py::arg("resume"), py::arg("callback"));
  m.def("evaluate", &evaluate, py::arg("checkpoint"), py::arg("data"), py::arg("test_limit"),
        py::arg("threads"));
}

}  // namespace volley_python_training

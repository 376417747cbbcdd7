// Training from Python (included once by module.cpp): volley.train and volley.eval.
//
// volley.train is `volley train`: io::fit (the training file's data and network, the library's
// epoch loop, metrics.jsonl / checkpoint.bin / summary.json in OUT) with an observer
// (FitOptions::observer) that records each epoch, calls back into Python after each epoch's
// checkpoint is on disk, and stops the run by throwing when the callback returns False or on
// Ctrl-C. The GIL is released for the whole run; the observer takes it back after every batch
// (to let Python's signal handlers run) and after every epoch (the callback).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <exception>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "data.hpp"
#include "results.hpp"
#include "volley/error.hpp"
#ifdef VOLLEY_HAVE_HDF5
#include "volley/io/network_recording.hpp"
#endif
#include "volley/io/train_config.hpp"
#include "volley/io/training.hpp"
#include "volley/train/checkpoint.hpp"
#include "volley/train/runner.hpp"
#include "volley/train/trainer.hpp"

namespace volley_python_training {

namespace py = pybind11;
namespace fs = std::filesystem;
using namespace volley;

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
  PyFitWriter(std::string ckpt_path, py::object callback)
      : ckpt_path_(std::move(ckpt_path)), callback_(std::move(callback)) {}

  void start(const train::FitStart& s) override { start_ = s; }

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

  void epoch(const train::EpochRecord& r) override { records_.push_back(r); }

  // After the epoch's checkpoint is on disk: the callback, then Python's signal handlers. A stop
  // (the callback's False, a KeyboardInterrupt, another exception) leaves the run here unless
  // this was the last epoch anyway: then the run ends as usual (summary.json) and the interrupt
  // or exception is raised after it.
  void checkpoint(const train::Checkpoint& ck) override {
    last_ = ck;
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

  void finish(const train::FitEnd& e) override { end_ = e; }

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

  std::string ckpt_path_;
  py::object callback_;
  train::FitStart start_;
  std::vector<train::EpochRecord> records_;
  std::optional<train::FitEnd> end_;
  std::optional<train::Checkpoint> last_;  // the last checkpoint written (the trained state)
  int epochs_done_ = 0;
  bool interrupted_ = false, stopped_by_callback_ = false;
  std::exception_ptr error_;
};

py::dict train(const std::string& config, const std::string& out_dir,
               const std::vector<std::string>& sets, std::optional<std::uint64_t> seed,
               std::optional<int> epochs, std::optional<std::size_t> train_limit,
               std::optional<std::size_t> test_limit, std::optional<int> threads, bool resume,
               py::object callback, const volley_python_data::Dataset* train_data,
               const volley_python_data::Dataset* test_data) {
  std::vector<std::string> options = io::stored_options({seed, train_limit, test_limit, sets, ""});
  // Samples from Python instead of the training file's [data]: noted in the checkpoint, so that
  // `volley train --resume` (which cannot have them) refuses it.
  io::DataSets arrays;
  if ((train_data == nullptr) != (test_data == nullptr))
    throw py::value_error("train: data needs both a training and a test Dataset");
  if (train_data) {
    options.push_back("data=arrays");
    arrays.train = std::make_unique<volley_python_data::SharedEvents>(train_data->events,
                                                                      train_limit.value_or(0));
    arrays.test = std::make_unique<volley_python_data::SharedEvents>(test_data->events,
                                                                     test_limit.value_or(0));
  }
  const io::TrainOptions topt = io::train_options(options, threads.value_or(0), epochs.value_or(-1));
  std::optional<PyFitWriter> writer;
  writer.emplace((fs::path(out_dir) / "checkpoint.bin").string(), std::move(callback));
  std::unique_ptr<io::TrainConfig> cfg;
  train::FitResult r;
  {
    py::gil_scoped_release nogil;
    cfg = std::make_unique<io::TrainConfig>(io::load_train_config(config, topt));
    io::FitOptions fo;
    fo.out_dir = out_dir;
    fo.resume = resume;
    fo.options = options;
    fo.log = nullptr;  // Python sees the epochs through the callback
    fo.observer = &*writer;
    if (train_data) fo.data = &arrays;
    try {
      r = io::fit(*cfg, fo);
    } catch (const StopTraining&) {
      r.epochs_done = writer->epochs_done_;
      r.test_accuracy = writer->records_.empty() ? 0.0 : writer->records_.back().test.accuracy;
    }
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
  d["train_samples"] = writer->start_.train_samples;
  d["test_samples"] = writer->start_.test_samples;
  // The trained parameters: the network rebuilt from the last checkpoint written.
  train::NetConfig nc = cfg->net;
  nc.n_inputs = writer->start_.n_inputs;
  std::optional<train::Net> net;
  if (writer->last_) {
    net.emplace(nc);
    train::restore(*writer->last_, *net, nullptr, writer->ckpt_path_);
    d["weights"] = parameters(*net);
  } else {
    d["weights"] = py::dict();
  }
  if (writer->end_)
    d["confusion"] = confusion(writer->end_->test.confusion, writer->end_->n_classes);
  else if (!writer->records_.empty() && net)  // stopped early: the last epoch's evaluation
    d["confusion"] = confusion(writer->records_.back().test.confusion, net->n_outputs());
  writer->callback_ = py::none();
  return d;
}

// `volley eval`'s evaluation: the checkpoint's network rebuilt as it was trained
// (io::restore_checkpoint), evaluated on its test data (the training file's, `data_path`'s or a
// Dataset's). With `record_dir`, also `volley eval --record`: DIR/record.h5 (every layer's spikes,
// the first `trace_samples` samples' traces), read back as arrays.
py::dict evaluate(const std::string& checkpoint, const std::string& data_path,
                  const volley_python_data::Dataset* arrays, std::optional<std::size_t> test_limit,
                  std::optional<int> threads, const std::string& record_dir,
                  std::size_t trace_samples) {
  std::optional<io::Recording> recording;
  std::optional<io::Restored> r;
  train::EvalStats st;
  {
    py::gil_scoped_release nogil;
    r.emplace(volley_python_results::restored(
        checkpoint, data_path, arrays, threads.value_or(0),
        test_limit ? static_cast<long long>(*test_limit) : -1, !record_dir.empty()));
    train::Trainer trainer(*r->net, r->cfg.loss, r->cfg.optimizer, r->cfg.training);
    st = trainer.evaluate(*r->data.test);
    if (!record_dir.empty()) {
#ifndef VOLLEY_HAVE_HDF5
      throw IoError("record writes HDF5; rebuild with VOLLEY_HDF5=ON");
#else
      std::error_code ec;
      fs::create_directories(record_dir, ec);
      if (ec || !fs::is_directory(record_dir))
        throw IoError("eval: record: cannot create directory '" + record_dir + "'");
      const std::string path = (fs::path(record_dir) / "record.h5").string();
      io::NetworkRecordOptions ro;
      ro.trace_samples = trace_samples;
      ro.class_names = io::class_names(r->cfg.data);
      io::record_network(*r->net, r->cfg.loss, *r->data.test, ro, path);
      recording = io::read_recording(path);
#endif
    }
  }
  py::dict d;
  d["checkpoint"] = checkpoint;
  d["config"] = r->ck.config_name;
  d["epochs"] = r->ck.epochs_done;
  d["accuracy"] = st.accuracy;
  d["loss"] = st.loss;
  d["samples"] = st.samples;
  d["seconds"] = st.seconds;
  d["confusion"] = confusion(st.confusion, r->net->n_outputs());
  d["spikes_per_sample"] = st.spikes_per_sample;
  d["data"] = r->data.test->description();
  d["weights"] = parameters(*r->net);
  d["record"] = recording ? py::object(volley_python_results::recording_dict(std::move(*recording)))
                          : py::none();
  return d;
}

void bind(py::module_& m) {
  m.def("train", &train, py::arg("config"), py::arg("out"), py::arg("sets"), py::arg("seed"),
        py::arg("epochs"), py::arg("train_limit"), py::arg("test_limit"), py::arg("threads"),
        py::arg("resume"), py::arg("callback"), py::arg("train_data"), py::arg("test_data"));
  m.def("evaluate", &evaluate, py::arg("checkpoint"), py::arg("data"), py::arg("arrays"),
        py::arg("test_limit"), py::arg("threads"), py::arg("record"), py::arg("trace_samples"));
}

}  // namespace volley_python_training

// `volley train` / `volley evolve` runs (see training.hpp): the library's runners with writers
// that put metrics, checkpoints and summaries in a directory and progress on a log stream.
#include "volley/io/training.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/atomic_file.hpp"
#include "core/peak_rss.hpp"
#include "volley/error.hpp"
#include "volley/io/outputs.hpp"
#include "volley/train/trainer.hpp"

namespace volley::io {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

double peak_rss_mb() { return static_cast<double>(detail::peak_rss_bytes()) / 1048576.0; }

std::string fmt_seconds(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  if (s < 60) return fmt::format("{:.0f}s", s);
  return fmt::format("{}m{:02d}s", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
}

// json or ordered_json (whose keys keep the order they were written in).
template <class Json>
void write_json_atomic(const std::string& path, const Json& j) {
  detail::write_file_atomically(path, j.dump(2) + "\n");
}

// DIR of `volley train`: metrics.jsonl, checkpoint.bin, summary.json; console lines on o.log.
class FitDirectory final : public train::FitWriter {
 public:
  FitDirectory(const TrainConfig& cfg, const FitOptions& o, double load_seconds)
      : cfg_(cfg),
        o_(o),
        load_seconds_(load_seconds),
        ckpt_path_((fs::path(o.out_dir) / "checkpoint.bin").string()),
        metrics_path_((fs::path(o.out_dir) / "metrics.jsonl").string()) {}

  const std::string& checkpoint_path() const { return ckpt_path_; }

  std::optional<train::ResumePoint> resume() override {
    if (!o_.resume) return std::nullopt;
    if (!fs::exists(ckpt_path_))
      throw IoError(fmt::format("--resume: {} has no checkpoint.bin to resume from", o_.out_dir));
    train::ResumePoint r{train::read_checkpoint(ckpt_path_), ckpt_path_};
    if (r.checkpoint.config_text != cfg_.text)
      throw ConfigError(fmt::format("--resume: {} differs from the training file the checkpoint "
                                    "was made with ({})",
                                    cfg_.path, r.checkpoint.config_name));
    if (r.checkpoint.options != o_.options)
      throw ConfigError(fmt::format("--resume: the options differ from the checkpoint's ({})",
                                    fmt::join(r.checkpoint.options, " ")));
    return r;
  }

  void start(const train::FitStart& s) override {
    if (o_.resume)
      truncate_metrics(metrics_path_, static_cast<std::size_t>(s.first_epoch));
    else
      detail::write_file_atomically(metrics_path_, "");
    const auto& t = cfg_.training;
    if (o_.log) fmt::print(o_.log, "volley train: {} | {} train / {} test samples | {} synapses | {} threads{}\n",
               cfg_.path, s.train_samples, s.test_samples, s.synapses, t.threads,
               t.gradient == train::GradientKind::eprop
                   ? fmt::format(" | e-prop, {} feedback", train::feedback_name(t.feedback))
                   : std::string());
    if (o_.observer) o_.observer->start(s);
  }

  void batch(int epoch, int epochs, const train::BatchProgress& p, double seconds) override {
    if (o_.observer) o_.observer->batch(epoch, epochs, p, seconds);
    if (!o_.progress_bar || !o_.log) return;
    const double rate = static_cast<double>(p.samples) / std::max(seconds, 1e-9);
    const int width = 24;
    const int fill = static_cast<int>(width * static_cast<double>(p.batch) /
                                      static_cast<double>(std::max<std::size_t>(p.batches, 1)));
    fmt::print(o_.log,
               "\repoch {}/{} [{:<{}}] {}/{} loss {:.4f} acc {:.3f} {:.0f} samples/s ETA {}   ",
               epoch + 1, epochs, std::string(static_cast<std::size_t>(fill), '#'), width,
               p.batch, p.batches, p.loss, p.accuracy, rate,
               fmt_seconds(static_cast<double>(p.batches - p.batch) * seconds /
                           static_cast<double>(std::max<std::size_t>(p.batch, 1))));
    std::fflush(o_.log);
  }

  void trained(int epoch, const train::EpochStats& stats) override {
    if (o_.progress_bar && o_.log) fmt::print(o_.log, "\r{:<110}\r", "");
    if (o_.observer) o_.observer->trained(epoch, stats);
  }

  void epoch(const train::EpochRecord& r) override {
    const train::EpochStats& st = r.train;
    const double samples_per_second =
        static_cast<double>(st.samples) / std::max(st.seconds, 1e-12);
    MetricsLine line;
    line.epoch = r.epoch;
    line.train_loss = st.loss;
    line.train_acc = st.accuracy;
    line.test_acc = r.test.accuracy;
    line.test_loss = r.test.loss;
    line.epoch_seconds = st.seconds;
    line.samples_per_second = samples_per_second;
    line.test_seconds = r.test.seconds;
    line.active_fraction = st.active_fraction;
    line.lr = r.lr;
    for (const auto& m : st.rewiring) line.rewiring.push_back({m.name, m.active, m.rewired, m.rows_connected});
    append_metrics(metrics_path_, line);
    pending_line_ = fmt::format(
        "epoch {:>3}/{} train_loss {:.4f} train_acc {:.4f} test_acc {:.4f} | {:.1f} s "
        "({:.0f} samples/s) | active {:.3f}\n",
        r.epoch, r.epochs, st.loss, st.accuracy, r.test.accuracy, st.seconds, samples_per_second,
        st.active_fraction);
    if (o_.observer) o_.observer->epoch(r);
  }

  // The epoch's console line follows its checkpoint, so that a line on screen means the epoch
  // is safely on disk.
  void checkpoint(const train::Checkpoint& ck) override {
    train::write_checkpoint(ckpt_path_, ck);
    if (o_.log) {
      fmt::print(o_.log, "{}", pending_line_);
      std::fflush(o_.log);
    }
    if (o_.observer) o_.observer->checkpoint(ck);
  }

  void finish(const train::FitEnd& e) override {
    const std::size_t C = e.n_classes;
    json confusion = json::array();
    for (std::size_t y = 0; y < C; ++y) {
      json row = json::array();
      for (std::size_t p = 0; p < C; ++p) row.push_back(e.test.confusion[y * C + p]);
      confusion.push_back(row);
    }
    const json summary = {{"config", cfg_.path},
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
                          {"confusion", confusion},
                          {"peak_rss_mb", peak_rss_mb()}};
    write_json_atomic((fs::path(o_.out_dir) / "summary.json").string(), summary);
    if (o_.observer) o_.observer->finish(e);
  }

 private:
  const TrainConfig& cfg_;
  const FitOptions& o_;
  double load_seconds_;
  std::string ckpt_path_, metrics_path_;
  std::string pending_line_;
};

std::string_view evolution_method(train::EvolutionKind k) {
  return k == train::EvolutionKind::openai_es ? "openai_es" : "sep_cmaes";
}

// DIR of `volley evolve`: metrics.jsonl, checkpoint.bin, summary.json; console lines on o.log.
class EvolveDirectory final : public train::EvolveWriter {
 public:
  EvolveDirectory(const TrainConfig& cfg, const EvolveOptions& o)
      : cfg_(cfg), o_(o), metrics_path_((fs::path(o.out_dir) / "metrics.jsonl").string()) {}

  void start(const train::EvolveStart& s) override {
    const train::EvolutionConfig& ev = s.config;
    fmt::print(o_.log,
               "volley evolve: {} | {} | {} parameters | population {} | batch {} | {} threads\n",
               cfg_.path, evolution_method(ev.kind), s.parameters, ev.population, ev.batch_size,
               ev.threads);
    detail::write_file_atomically(metrics_path_, "");
  }

  void generation(const train::GenerationRecord& r) override {
    const train::GenerationStats& st = r.stats;
    const double per_second = 1.0 / std::max(st.seconds, 1e-12);
    MetricsLine line;
    line.generation = true;
    line.epoch = static_cast<int>(r.generation);
    line.best_fitness = st.best_fitness;
    line.mean_fitness = st.mean_fitness;
    line.sigma = st.sigma;
    line.epoch_seconds = st.seconds;
    line.evaluations_per_second = static_cast<double>(st.evaluations) * per_second;
    line.samples_per_second = static_cast<double>(st.evaluations * r.batch_size) * per_second;
    if (r.test) {
      line.test_acc = r.test->accuracy;
      line.test_loss = r.test->loss;
      fmt::print(o_.log,
                 "generation {:>5}/{} fitness best {:.4f} mean {:.4f} | test_acc {:.4f} | {:.1f} "
                 "evaluations/s\n",
                 r.generation, r.generations, st.best_fitness, st.mean_fitness, r.test->accuracy,
                 static_cast<double>(r.evaluations) / std::max(r.seconds, 1e-12));
    }
    append_metrics(metrics_path_, line);
  }

  void checkpoint(const train::Checkpoint& ck) override {
    train::write_checkpoint((fs::path(o_.out_dir) / "checkpoint.bin").string(), ck);
  }

  void finish(const train::EvolveEnd& e) override {
    const train::EvolutionConfig& ev = cfg_.evolution;
    const nlohmann::ordered_json summary = {
        {"config", cfg_.path},
        {"method", evolution_method(ev.kind)},
        {"parameters", e.parameters},
        {"generations", e.generations},
        {"population", ev.population},
        {"batch_size", e.batch_size},
        {"evaluations", e.evaluations},
        {"seconds", e.seconds},
        {"evaluations_per_second",
         static_cast<double>(e.evaluations) / std::max(e.seconds, 1e-12)},
        {"test_acc", e.test.accuracy},
        {"test_loss", e.test.loss}};
    write_json_atomic((fs::path(o_.out_dir) / "summary.json").string(), summary);
  }

 private:
  const TrainConfig& cfg_;
  const EvolveOptions& o_;
  std::string metrics_path_;
};

// Creates DIR; returns the path of its checkpoint.
std::string prepare_directory(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw IoError(fmt::format("--out: cannot create directory '{}'", dir));
  return (fs::path(dir) / "checkpoint.bin").string();
}

// The network of the training file with the data's input count, checked against the data.
train::NetConfig network_for(const TrainConfig& cfg, const DataSets& data) {
  train::NetConfig net_cfg = cfg.net;
  net_cfg.n_inputs = data.train->n_inputs();
  if (data.train->n_steps() != net_cfg.n_steps || data.test->n_inputs() != net_cfg.n_inputs)
    throw ConfigError(fmt::format("{}: the training and test data disagree with the network "
                                  "({} / {} inputs, {} / {} steps)",
                                  cfg.path, data.train->n_inputs(), data.test->n_inputs(),
                                  data.train->n_steps(), net_cfg.n_steps));
  if (net_cfg.layers.back().size != data.train->n_classes())
    throw ConfigError(fmt::format("{}: the last layer has {} neurons but the data has {} classes",
                                  cfg.path, net_cfg.layers.back().size, data.train->n_classes()));
  return net_cfg;
}

}  // namespace

TrainOptions options_from_checkpoint(const std::vector<std::string>& stored) {
  TrainOptions opt;
  for (const auto& s : stored) {
    if (s.rfind("set:", 0) == 0) {
      opt.overrides.push_back(s.substr(4));
      continue;
    }
    const auto eq = s.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = s.substr(0, eq);
    if (key == "twin") {
      if (const auto* k = train::twin_kinds().find(s.substr(eq + 1))) opt.twin = k->value;
      continue;
    }
    if (key == "data") continue;  // "data=arrays": samples given by the program (FitOptions::data)
    const auto value = std::stoull(s.substr(eq + 1));
    if (key == "seed") opt.seed = value;
    if (key == "train_limit") opt.train_limit = value;
    if (key == "test_limit") opt.test_limit = value;
  }
  return opt;
}

train::FitResult fit(const TrainConfig& cfg, const FitOptions& o) {
  const std::string ckpt = prepare_directory(o.out_dir);
  if (!o.resume && fs::exists(ckpt))
    throw IoError(fmt::format(
        "{} already holds a training run ({}); pass --resume to continue it, or choose another "
        "--out",
        o.out_dir, ckpt));
  const auto t_load = std::chrono::steady_clock::now();
  DataSets loaded;
  if (o.data && (!o.data->train || !o.data->test))
    throw ParameterError("fit: given data need both a training and a test set");
  if (!o.data) loaded = load_data(cfg);
  const DataSets& data = o.data ? *o.data : loaded;
  train::Net net(network_for(cfg, data));
  train::Trainer trainer(net, cfg.loss, cfg.optimizer, cfg.training);
  try {
    trainer.enable_rewiring(cfg.rewiring);
  } catch (const ParameterError& e) {
    throw ConfigError(fmt::format("{}: {}", cfg.path, e.what()));
  }
  const double load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count();

  FitDirectory dir(cfg, o, load_seconds);
  // Distributed, every process trains; only the first writes (and logs), the others only read
  // the checkpoint a resumed run continues from.
  struct Follower final : train::FitWriter {
    FitDirectory& dir;
    explicit Follower(FitDirectory& d) : dir(d) {}
    std::optional<train::ResumePoint> resume() override { return dir.resume(); }
    void epoch(const train::EpochRecord&) override {}
    void checkpoint(const train::Checkpoint&) override {}
  } follower(dir);
  const bool distributed = o.communicator != nullptr && o.communicator->size() > 1;
  if (distributed) trainer.distribute(*o.communicator);
  train::FitWriter& writer =
      distributed && o.communicator->rank() != 0 ? static_cast<train::FitWriter&>(follower) : dir;
  train::FitResult r =
      train::fit(trainer, *data.train, *data.test, {cfg.path, cfg.text, o.options}, writer);
  if (r.stopped)
    r.message += r.epochs_done > 0
                     ? fmt::format(" The last good checkpoint ({} epochs) is {}.", r.epochs_done,
                                   dir.checkpoint_path())
                     : std::string(" No epoch finished, so there is no checkpoint.");
  return r;
}

std::vector<std::string> stored_options(const StoredOptions& o) {
  std::vector<std::string> out;
  if (o.seed) out.push_back(fmt::format("seed={}", *o.seed));
  if (o.train_limit) out.push_back(fmt::format("train_limit={}", *o.train_limit));
  if (o.test_limit) out.push_back(fmt::format("test_limit={}", *o.test_limit));
  for (const auto& s : o.sets) out.push_back("set:" + s);
  if (!o.twin.empty()) out.push_back("twin=" + o.twin);
  return out;
}

TrainOptions train_options(const std::vector<std::string>& stored, int threads, long long epochs) {
  TrainOptions opt = options_from_checkpoint(stored);
  if (threads > 0) opt.threads = threads;
  if (epochs >= 0) opt.epochs = static_cast<int>(epochs);
  return opt;
}

namespace {

// r.net from r.ck and r.cfg with r.data.test's input count. Recording keeps V − θ of every
// neuron, which the dense backward mode's forward pass does (the forward computation itself is
// the same in both modes).
void rebuild_network(Restored& r, const std::string& checkpoint, bool dense_backward) {
  train::NetConfig nc = r.cfg.net;
  nc.n_inputs = r.data.test->n_inputs();
  if (dense_backward) nc.backward = train::BackwardMode::dense;
  r.net = std::make_unique<train::Net>(nc);
  train::restore(r.ck, *r.net, nullptr, checkpoint);
}

}  // namespace

Restored restore_checkpoint(const std::string& checkpoint, const std::string& data_path,
                            int threads, long long test_limit, bool dense_backward) {
  Restored r;
  r.ck = train::read_checkpoint(checkpoint);
  TrainOptions opt = train_options(r.ck.options, threads, -1);
  if (test_limit >= 0) opt.test_limit = static_cast<std::size_t>(test_limit);
  r.cfg = load_train_string(r.ck.config_text, r.ck.config_name, opt);
  if (!data_path.empty()) {
    if (r.cfg.data.kind == DataConfig::Kind::shd) {
      r.cfg.data.test_file = data_path;
    } else {
      r.cfg.data.path = data_path;
    }
  }
  r.cfg.data.train_limit = 1;  // only the test set is used
  r.data = load_data(r.cfg);
  rebuild_network(r, checkpoint, dense_backward);
  return r;
}

Restored restore_checkpoint(const std::string& checkpoint, std::unique_ptr<train::EventSource> test,
                            int threads, bool dense_backward) {
  if (!test) throw ParameterError("restore_checkpoint: no test data given");
  Restored r;
  r.ck = train::read_checkpoint(checkpoint);
  r.cfg = load_train_string(r.ck.config_text, r.ck.config_name, train_options(r.ck.options, threads, -1));
  const train::NetConfig& nc = r.cfg.net;
  if (test->n_steps() != nc.n_steps || test->n_classes() != nc.layers.back().size)
    throw ConfigError(fmt::format(
        "{}: the given test data ({}: {} steps, {} classes) do not fit the network trained in {} "
        "({} steps, {} outputs)",
        checkpoint, test->description(), test->n_steps(), test->n_classes(), r.ck.config_name,
        nc.n_steps, nc.layers.back().size));
  r.data.test = std::move(test);
  rebuild_network(r, checkpoint, dense_backward);
  return r;
}

std::unique_ptr<train::Net> restore_network(const std::string& checkpoint,
                                            const std::string& data_path, int threads) {
  const train::Checkpoint ck = train::read_checkpoint(checkpoint);
  const TrainConfig cfg =
      load_train_string(ck.config_text, ck.config_name, train_options(ck.options, threads, -1));
  const train::LayerConfig& first = cfg.net.layers.front();
  if (first.density >= 1.0 && data_path.empty() && !ck.params.empty() &&
      ck.params.front().first == "layer0.w" && first.size > 0 &&
      ck.params.front().second.size() % first.size == 0) {
    train::NetConfig nc = cfg.net;
    nc.n_inputs = ck.params.front().second.size() / first.size;
    auto net = std::make_unique<train::Net>(nc);
    train::restore(ck, *net, nullptr, checkpoint);
    return net;
  }
  return std::move(restore_checkpoint(checkpoint, data_path, threads, -1, false).net);
}

train::EvolveEnd evolve(const TrainConfig& cfg, const EvolveOptions& o) {
  // (Distributed, the first process may already have written a checkpoint when another looks.)
  const bool first = o.communicator == nullptr || o.communicator->rank() == 0;
  if (first && fs::exists(prepare_directory(o.out_dir)))
    throw IoError(
        fmt::format("{} already holds a run (checkpoint.bin); choose another --out", o.out_dir));
  DataSets data = load_data(cfg);
  train::Net net(network_for(cfg, data));
  train::Evolution evolution(net, cfg.loss, cfg.optimizer, cfg.evolution);
  train::Trainer tester(net, cfg.loss, cfg.optimizer, cfg.training);
  EvolveDirectory dir(cfg, o);
  struct Follower final : train::EvolveWriter {  // processes other than the first write nothing
    void generation(const train::GenerationRecord&) override {}
    void checkpoint(const train::Checkpoint&) override {}
  } follower;
  const bool distributed = o.communicator != nullptr && o.communicator->size() > 1;
  if (distributed) {
    evolution.distribute(*o.communicator);
    tester.distribute(*o.communicator);
  }
  train::EvolveWriter& writer = distributed && o.communicator->rank() != 0
                                    ? static_cast<train::EvolveWriter&>(follower)
                                    : dir;
  return train::evolve(evolution, tester, *data.train, *data.test, {cfg.path, cfg.text, o.options},
                       writer);
}

}  // namespace volley::io

// `volley train`'s run loop: epochs, metrics, checkpoints, resume (see training.hpp).
#include "volley/io/training.hpp"

#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "volley/error.hpp"
#include "volley/train/trainer.hpp"

namespace volley::io {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

std::string fmt_seconds(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  if (s < 60) return fmt::format("{:.0f}s", s);
  return fmt::format("{}m{:02d}s", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
}

// Keeps the first `n` lines of a text file (the epochs a checkpoint covers).
void keep_lines(const std::string& path, std::size_t n) {
  std::ifstream in(path);
  if (!in) return;
  std::string line, kept;
  for (std::size_t i = 0; i < n && std::getline(in, line); ++i) kept += line + "\n";
  in.close();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << kept;
    if (!out) throw IoError(fmt::format("{}: cannot write", tmp));
  }
  fs::rename(tmp, path);
}

void write_json_atomic(const std::string& path, const json& j) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2) << "\n";
    if (!out) throw IoError(fmt::format("{}: cannot write", tmp));
  }
  fs::rename(tmp, path);
}

train::Checkpoint make_checkpoint(const TrainConfig& cfg, const FitOptions& o,
                                  train::Net& net, train::Optimizer& opt, int epochs_done) {
  train::Checkpoint ck;
  ck.config_name = cfg.path;
  ck.config_text = cfg.text;
  ck.options = o.options;
  ck.epochs_done = static_cast<std::uint32_t>(epochs_done);
  ck.optimizer_steps = opt.steps();
  for (std::size_t k = 0; k < net.params().size(); ++k) {
    const auto& p = net.params()[k];
    ck.params.emplace_back(p.name, p.value);
    ck.opt_m.emplace_back(p.name, opt.m()[k]);
    ck.opt_v.emplace_back(p.name, opt.v()[k]);
  }
  return ck;
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
    const auto value = std::stoull(s.substr(eq + 1));
    if (key == "seed") opt.seed = value;
    if (key == "train_limit") opt.train_limit = value;
    if (key == "test_limit") opt.test_limit = value;
  }
  return opt;
}

void restore(const train::Checkpoint& ck, train::Net& net, train::Optimizer* opt,
             const std::string& path) {
  auto& params = net.params();
  auto check = [&](const auto& list, std::string_view what) {
    if (list.size() != params.size())
      throw IoError(fmt::format("{}: checkpoint has {} {} arrays, the network has {}", path,
                                list.size(), what, params.size()));
    for (std::size_t k = 0; k < params.size(); ++k) {
      if (list[k].first != params[k].name)
        throw IoError(fmt::format("{}: checkpoint {} '{}' where the network has '{}'", path, what,
                                  list[k].first, params[k].name));
    }
  };
  check(ck.params, "parameter");
  for (std::size_t k = 0; k < params.size(); ++k) {
    if (ck.params[k].second.size() != params[k].value.size())
      throw IoError(fmt::format("{}: parameter '{}' has {} values, the network has {}", path,
                                params[k].name, ck.params[k].second.size(),
                                params[k].value.size()));
    params[k].value = ck.params[k].second;
  }
  if (!opt) return;
  check(ck.opt_m, "optimiser state");
  check(ck.opt_v, "optimiser state");
  for (std::size_t k = 0; k < params.size(); ++k) {
    if (ck.opt_m[k].second.size() != opt->m()[k].size() ||
        ck.opt_v[k].second.size() != opt->v()[k].size())
      throw IoError(fmt::format("{}: optimiser state of '{}' has the wrong size", path,
                                params[k].name));
    opt->m()[k] = ck.opt_m[k].second;
    opt->v()[k] = ck.opt_v[k].second;
  }
  opt->set_steps(ck.optimizer_steps);
}

FitResult fit(const TrainConfig& cfg, const FitOptions& o) {
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec || !fs::is_directory(o.out_dir))
    throw IoError(fmt::format("--out: cannot create directory '{}'", o.out_dir));
  const std::string ckpt_path = (fs::path(o.out_dir) / "checkpoint.bin").string();
  const std::string metrics_path = (fs::path(o.out_dir) / "metrics.jsonl").string();
  if (!o.resume && fs::exists(ckpt_path))
    throw IoError(fmt::format(
        "{} already holds a training run ({}); pass --resume to continue it, or choose another "
        "--out",
        o.out_dir, ckpt_path));

  const auto t_load = std::chrono::steady_clock::now();
  DataSets data = load_data(cfg);
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
  train::Net net(net_cfg);
  train::Trainer trainer(net, cfg.loss, cfg.optimizer, cfg.training);
  const double load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count();

  int start = 0;
  if (o.resume) {
    if (!fs::exists(ckpt_path))
      throw IoError(fmt::format("--resume: {} has no checkpoint.bin to resume from", o.out_dir));
    const train::Checkpoint ck = train::read_checkpoint(ckpt_path);
    if (ck.config_text != cfg.text)
      throw ConfigError(fmt::format("--resume: {} differs from the training file the checkpoint "
                                    "was made with ({})",
                                    cfg.path, ck.config_name));
    if (ck.options != o.options)
      throw ConfigError(fmt::format("--resume: the options differ from the checkpoint's ({})",
                                    fmt::join(ck.options, " ")));
    restore(ck, net, &trainer.optimizer(), ckpt_path);
    start = static_cast<int>(ck.epochs_done);
    keep_lines(metrics_path, static_cast<std::size_t>(start));
  } else {
    std::ofstream(metrics_path, std::ios::trunc);
  }

  const int epochs = cfg.training.epochs;
  std::FILE* log = o.log;
  fmt::print(log, "volley train: {} | {} train / {} test samples | {} synapses | {} threads{}\n",
             cfg.path, data.train->size(), data.test->size(), net.n_synapses(),
             cfg.training.threads,
             cfg.training.gradient == train::GradientKind::eprop
                 ? fmt::format(" | e-prop, {} feedback", train::feedback_name(cfg.training.feedback))
                 : std::string());
  FitResult result;
  result.epochs_done = start;
  train::EvalStats last_eval;
  double train_seconds = 0.0;
  for (int epoch = start; epoch < epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    auto bar = [&](const train::BatchProgress& p) {
      if (!o.progress_bar) return;
      const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double rate = static_cast<double>(p.samples) / std::max(el, 1e-9);
      const int width = 24;
      const int fill = static_cast<int>(width * static_cast<double>(p.batch) /
                                        static_cast<double>(std::max<std::size_t>(p.batches, 1)));
      fmt::print(log, "\repoch {}/{} [{:<{}}] {}/{} loss {:.4f} acc {:.3f} {:.0f} samples/s ETA {}   ",
                 epoch + 1, epochs, std::string(static_cast<std::size_t>(fill), '#'), width,
                 p.batch, p.batches, p.loss, p.accuracy, rate,
                 fmt_seconds(static_cast<double>(p.batches - p.batch) * el /
                             static_cast<double>(std::max<std::size_t>(p.batch, 1))));
      std::fflush(log);
    };
    const train::EpochStats st = trainer.train_epoch(*data.train, epoch, bar);
    if (o.progress_bar) fmt::print(log, "\r{:<110}\r", "");
    if (!st.finite) {
      result.stopped = true;
      result.message = fmt::format(
          "epoch {}: the loss, a gradient or a parameter became NaN or Inf (loss {}); training "
          "stopped. {}",
          epoch + 1, st.loss,
          epoch > 0 ? fmt::format("The last good checkpoint ({} epochs) is {}.", epoch, ckpt_path)
                    : std::string("No epoch finished, so there is no checkpoint."));
      return result;
    }
    train_seconds += st.seconds;
    last_eval = trainer.evaluate(*data.test);
    json line = {{"epoch", epoch + 1},
                 {"train_loss", st.loss},
                 {"train_acc", st.accuracy},
                 {"test_acc", last_eval.accuracy},
                 {"test_loss", last_eval.loss},
                 {"epoch_seconds", st.seconds},
                 {"samples_per_second", static_cast<double>(st.samples) / std::max(st.seconds, 1e-12)},
                 {"test_seconds", last_eval.seconds},
                 {"active_fraction", st.active_fraction},
                 {"lr", cfg.optimizer.lr_at(epoch, epochs)}};
    {
      std::ofstream out(metrics_path, std::ios::app);
      out << line.dump() << "\n";
      if (!out) throw IoError(fmt::format("{}: cannot write", metrics_path));
    }
    train::write_checkpoint(ckpt_path, make_checkpoint(cfg, o, net, trainer.optimizer(), epoch + 1));
    fmt::print(log,
               "epoch {:>3}/{} train_loss {:.4f} train_acc {:.4f} test_acc {:.4f} | {:.1f} s "
               "({:.0f} samples/s) | active {:.3f}\n",
               epoch + 1, epochs, st.loss, st.accuracy, last_eval.accuracy, st.seconds,
               static_cast<double>(st.samples) / std::max(st.seconds, 1e-12), st.active_fraction);
    std::fflush(log);
    result.epochs_done = epoch + 1;
    result.test_accuracy = last_eval.accuracy;
  }
  if (start >= epochs && o.resume) {
    last_eval = trainer.evaluate(*data.test);
    result.test_accuracy = last_eval.accuracy;
  }
  if (last_eval.samples > 0) {
    const std::size_t C = net.n_outputs();
    json confusion = json::array();
    for (std::size_t y = 0; y < C; ++y) {
      json row = json::array();
      for (std::size_t p = 0; p < C; ++p) row.push_back(last_eval.confusion[y * C + p]);
      confusion.push_back(row);
    }
    json summary = {{"config", cfg.path},
                    {"epochs", result.epochs_done},
                    {"test_acc", last_eval.accuracy},
                    {"test_loss", last_eval.loss},
                    {"test_samples", last_eval.samples},
                    {"train_samples", data.train->size()},
                    {"train_seconds_this_run", train_seconds},
                    {"data_load_seconds", load_seconds},
                    {"synapses", net.n_synapses()},
                    {"spikes_per_sample", last_eval.spikes_per_sample},
                    {"confusion", confusion},
                    {"peak_rss_mb", peak_rss_mb()}};
    write_json_atomic((fs::path(o.out_dir) / "summary.json").string(), summary);
  }
  return result;
}

}  // namespace volley::io

// `volley robustness`: what spikes buy, measured on a trained network and, with --against, on its
// ANN twin with the same samples and budgets: accuracy under input noise, under adversarial
// attacks (white-box FGSM and PGD through the surrogate, black-box Square Attack, transfer from
// the other network, PGD with other surrogate slopes), the robust accuracy (per sample, the
// minimum over every attack) and the energy per sample. Writes OUT/robustness.json.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands.hpp"
#include "errors.hpp"
#include "restore.hpp"
#include "volley/error.hpp"
#include "volley/train/attack.hpp"
#include "volley/train/decision.hpp"
#include "volley/train/event_attack.hpp"
#include "volley/train/noise.hpp"
#include "volley/train/trainer.hpp"

namespace volley::cli {
namespace {

struct RobustnessArgs {
  std::string checkpoint, out, data, against;
  std::vector<std::string> noise;  // "kind" or "kind=l1,l2,...", or "none"
  std::vector<std::string> attacks;
  std::string eps = "1,2,4,8,16";  // L∞, in units of 1/255
  std::string eps_l2 = "0.5,1,2";  // L2, in units of full scale
  std::string slopes = "0.25,4";   // PGD with the surrogate scale times these
  int pgd_steps = 10;
  std::size_t queries = 1000;
  long long square_limit = 1000;
  int threads = 0;
  long long test_limit = -1;
  long long seed = 1;
};

// "a,b,c" as numbers; `what` names the option in errors.
std::vector<double> numbers(const std::string& list, const std::string& what, bool non_negative) {
  std::vector<double> out;
  if (list.empty() || list == "none") return out;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    const std::size_t comma = std::min(list.find(',', pos), list.size());
    const std::string item = list.substr(pos, comma - pos);
    double v = 0.0;
    try {
      std::size_t used = 0;
      v = std::stod(item, &used);
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw ConfigError(fmt::format("{}: '{}' is not a number", what, item));
    }
    if (non_negative && !(v >= 0.0))
      throw ConfigError(fmt::format("{}: {} is negative; a radius must be >= 0", what, v));
    out.push_back(v);
    pos = comma + 1;
  }
  return out;
}

// The default levels of each noise kind (SI units: probability, seconds, hertz).
std::vector<double> default_levels(train::NoiseKind k) {
  switch (k) {
    case train::NoiseKind::deletion: return {0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9};
    case train::NoiseKind::jitter: return {0.0, 1e-3, 2e-3, 5e-3, 10e-3, 20e-3};
    case train::NoiseKind::spurious: return {0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0};
    case train::NoiseKind::gaussian: return {0.0, 0.05, 0.1, 0.2, 0.3, 0.5};
    case train::NoiseKind::salt_pepper: return {0.0, 0.02, 0.05, 0.1, 0.2, 0.3};
  }
  return {};
}

using NoisePlan = std::vector<std::pair<train::NoiseKind, std::vector<double>>>;

NoisePlan noise_plan(const std::vector<std::string>& specs, bool images,
                     const std::string& data_name) {
  NoisePlan plan;
  std::vector<std::string> kinds = specs;
  if (kinds.size() == 1 && kinds[0] == "none") return plan;
  if (kinds.empty()) {
    // Event noise on static images acts on the encoded input; the pixel kinds are the natural
    // ones there.
    if (images) {
      kinds = {"gaussian", "salt_pepper"};
    } else {
      kinds = {"deletion", "jitter", "spurious"};
    }
  }
  for (const std::string& spec : kinds) {
    const std::string name = spec.substr(0, spec.find('='));
    const auto* k = train::noise_kinds().find(name);
    if (!k) throw ConfigError(fmt::format("--noise: {}", train::noise_kinds().unknown(name)));
    std::vector<double> levels = spec.find('=') == std::string::npos
                                     ? default_levels(k->value)
                                     : numbers(spec.substr(spec.find('=') + 1),
                                               "--noise " + name, false);
    if (train::is_pixel_noise(k->value) && !images)
      throw ConfigError(fmt::format("--noise {}: pixel noise needs static images; {} are events",
                                    name, data_name));
    plan.emplace_back(k->value, levels);
  }
  return plan;
}

nlohmann::json run_noise(Restored& m, const NoisePlan& plan, std::uint64_t seed) {
  train::Trainer trainer(*m.net, m.cfg.loss, m.cfg.optimizer, m.cfg.training);
  const double dt = m.net->config().dt;
  const auto* images = dynamic_cast<const data::ImageSource*>(m.data.test.get());
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& [kind, levels] : plan) {
    const std::string_view name = train::noise_kinds().name_of(kind);
    std::vector<double> acc;
    fmt::print("  noise {:<11}", name);
    for (double level : levels) {
      const train::NoiseSpec spec{kind, level, seed};
      if (train::is_pixel_noise(kind)) {
        acc.push_back(trainer.evaluate(*train::noisy_images(*images, spec)).accuracy);
      } else {
        acc.push_back(trainer.evaluate(train::NoisyEvents(*m.data.test, spec, dt)).accuracy);
      }
      fmt::print(" {:g}: {:.4f}", level, acc.back());
    }
    fmt::print("\n");
    runs.push_back({{"noise", name},
                    {"unit", kind == train::NoiseKind::jitter     ? "s"
                             : kind == train::NoiseKind::spurious ? "Hz"
                                                                   : "1"},
                    {"levels", levels},
                    {"accuracy", acc}});
  }
  return runs;
}

// One attack's outcome on one network.
struct AttackRun {
  std::string name;  // fgsm, pgd, square, pgd_slope_x0.25, transfer_pgd
  train::AttackNorm norm;
  double eps;
  train::AttackResult result;
  nlohmann::json extra;  // steps, queries, slope, source
};

struct Model {
  std::string role, checkpoint;
  Restored r;
  std::unique_ptr<train::PixelInput> input;
  std::unique_ptr<train::AttackTarget> target;        // static images
  std::unique_ptr<train::EventAttackTarget> events;   // event data
  std::vector<AttackRun> runs;
  nlohmann::json json;
  bool spiking() const { return !r.net->is_ann(); }
};

// The --against checkpoint must be the same task: data, inputs, classes, samples and layer sizes.
void check_against(const Model& m, const Model& a) {
  const auto& dm = m.r.data.test;
  const auto& da = a.r.data.test;
  const std::string what = fmt::format("--against {}", a.checkpoint);
  if (m.r.cfg.data.kind != a.r.cfg.data.kind || dm->n_inputs() != da->n_inputs() ||
      dm->n_classes() != da->n_classes() || dm->size() != da->size())
    throw ConfigError(fmt::format(
        "{}: a checkpoint of another task ({}: {} inputs, {} classes, {} test samples; {}: {} "
        "inputs, {} classes, {} test samples)",
        what, a.checkpoint, da->n_inputs(), da->n_classes(), da->size(), m.checkpoint,
        dm->n_inputs(), dm->n_classes(), dm->size()));
  for (std::size_t i = 0; i < dm->size(); i += std::max<std::size_t>(1, dm->size() / 97))
    if (dm->label(i) != da->label(i))
      throw ConfigError(fmt::format("{}: test sample {} has label {} there and {} here: other "
                                    "data",
                                    what, i, da->label(i), dm->label(i)));
  const auto& lm = m.r.net->config().layers;
  const auto& la = a.r.net->config().layers;
  if (lm.size() != la.size())
    throw ConfigError(fmt::format("{}: {} layers, but the network has {}: not its twin", what,
                                  la.size(), lm.size()));
  for (std::size_t l = 0; l < lm.size(); ++l)
    if (lm[l].size != la[l].size || lm[l].recurrent != la[l].recurrent)
      throw ConfigError(fmt::format("{}: layer {} has {} units{}, the network's has {}{}: not its "
                                    "twin",
                                    what, l, la[l].size, la[l].recurrent ? " (recurrent)" : "",
                                    lm[l].size, lm[l].recurrent ? " (recurrent)" : ""));
}

std::string eps_label(train::AttackNorm norm, double eps) {
  return norm == train::AttackNorm::linf ? fmt::format("{:g}/255", eps * 255.0)
                                         : fmt::format("{:g}", eps);
}

void print_run(const Model& m, const AttackRun& run) {
  fmt::print("  {:<7} {:<18} {:<5} eps {:<8} accuracy {:.4f} (clean {:.4f}) on {} samples, {:.0f} "
             "queries per sample, {:.1f} s\n",
             m.role, run.name, train::attack_norms().name_of(run.norm), eps_label(run.norm, run.eps),
             run.result.accuracy, run.result.clean_accuracy, run.result.samples,
             run.result.mean_queries, run.result.seconds);
}

nlohmann::json run_json(const AttackRun& run) {
  nlohmann::json j = {{"attack", run.name},
                      {"norm", train::attack_norms().name_of(run.norm)},
                      {"eps", run.eps},
                      {"samples", run.result.samples},
                      {"accuracy", run.result.accuracy},
                      {"clean_accuracy", run.result.clean_accuracy},
                      {"mean_queries", run.result.mean_queries},
                      {"mean_linf", run.result.mean_linf},
                      {"mean_l2", run.result.mean_l2},
                      {"seconds", run.result.seconds}};
  if (run.norm == train::AttackNorm::linf) j["eps_255"] = run.eps * 255.0;
  for (const auto& [k, v] : run.extra.items()) j[k] = v;
  return j;
}

// Per sample the minimum over every attack at (norm, eps): the robust accuracy, on the samples
// every attack ran on, and the single attack that did most damage there.
nlohmann::json robust_summary(const Model& m, train::AttackNorm norm, double eps) {
  std::vector<const AttackRun*> runs;
  std::size_t n = 0;
  for (const AttackRun& r : m.runs)
    if (r.norm == norm && r.eps == eps) {
      runs.push_back(&r);
      n = runs.size() == 1 ? r.result.samples : std::min(n, r.result.samples);
    }
  if (runs.empty() || n == 0) return nullptr;
  std::size_t robust = 0;
  for (std::size_t i = 0; i < n; ++i) {
    bool ok = true;
    for (const AttackRun* r : runs) ok = ok && r->result.correct[i] != 0;
    robust += ok;
  }
  const AttackRun* worst = nullptr;
  double worst_acc = 2.0;
  std::vector<std::string> names;
  for (const AttackRun* r : runs) {
    std::size_t c = 0;
    for (std::size_t i = 0; i < n; ++i) c += r->result.correct[i];
    const double acc = static_cast<double>(c) / static_cast<double>(n);
    names.push_back(r->name);
    if (acc < worst_acc) {
      worst_acc = acc;
      worst = r;
    }
  }
  const double acc = static_cast<double>(robust) / static_cast<double>(n);
  fmt::print("  {:<7} robust {:<5} eps {:<8} accuracy {:.4f} over {} samples (every attack); "
             "worst single attack {} {:.4f}\n",
             m.role, train::attack_norms().name_of(norm), eps_label(norm, eps), acc, n,
             worst->name, worst_acc);
  nlohmann::json j = {{"norm", train::attack_norms().name_of(norm)},
                      {"eps", eps},
                      {"samples", n},
                      {"accuracy", acc},
                      {"attacks", names},
                      {"worst_attack", worst->name},
                      {"worst_attack_accuracy", worst_acc}};
  if (norm == train::AttackNorm::linf) j["eps_255"] = eps * 255.0;
  return j;
}

int run_robustness(const RobustnessArgs& a) {
  return run_command("robustness", [&] {
    std::vector<std::unique_ptr<Model>> models;
    auto load = [&](const std::string& role, const std::string& path) {
      auto m = std::make_unique<Model>();
      m->role = role;
      m->checkpoint = path;
      m->r = restore_checkpoint(path, a.data, a.threads, a.test_limit, false);
      models.push_back(std::move(m));
    };
    load("model", a.checkpoint);
    if (!a.against.empty()) {
      load("against", a.against);
      check_against(*models[0], *models[1]);
    }
    const Model& first = *models[0];
    const auto* images = dynamic_cast<const data::ImageSource*>(first.r.data.test.get());
    const NoisePlan plan = noise_plan(a.noise, images != nullptr, first.r.data.test->description());

    // The attack plan (static images only).
    std::vector<train::AttackKind> kinds;
    for (const std::string& k : a.attacks) {
      if (k == "none") {
        kinds.clear();
        break;
      }
      const auto* e = train::attack_kinds().find(k);
      if (!e) throw ConfigError(fmt::format("--attack: {}", train::attack_kinds().unknown(k)));
      kinds.push_back(e->value);
    }
    if (a.attacks.empty())
      kinds = {train::AttackKind::fgsm, train::AttackKind::pgd, train::AttackKind::square};
    const std::vector<double> eps_linf = numbers(a.eps, "--eps", true);
    const std::vector<double> eps_l2 = numbers(a.eps_l2, "--eps-l2", true);
    const std::vector<double> slopes = numbers(a.slopes, "--slopes", true);
    for (double s : slopes)
      if (!(s > 0.0)) throw ConfigError(fmt::format("--slopes: {} must be > 0", s));
    if (a.pgd_steps < 1) throw ConfigError("--pgd-steps: must be >= 1");

    fmt::print("volley robustness: {} on {} ({} samples){}\n", a.checkpoint,
               first.r.data.test->description(), first.r.data.test->size(),
               a.against.empty() ? "" : fmt::format(", against {}", a.against));
    for (auto& mp : models) {
      Model& m = *mp;
      const int threads = std::max(1, m.r.cfg.training.threads);
      train::DecisionOptions dopt;
      dopt.threads = threads;
      const train::DecisionStats full =
          train::evaluate_decisions(*m.r.net, m.r.cfg.loss, *m.r.data.test, dopt);
      fmt::print("  {:<7} {} ({}): clean accuracy {:.4f}\n", m.role, m.checkpoint,
                 m.spiking() ? "spiking" : "ANN twin", full.accuracy);
      m.json = {{"role", m.role},
                {"checkpoint", m.checkpoint},
                {"network", m.spiking() ? "snn" : "ann"},
                {"clean_accuracy", full.accuracy},
                {"energy", energy_report(*m.r.net, full, images != nullptr, false)},
                {"noise", run_noise(m.r, plan, static_cast<std::uint64_t>(a.seed))}};
      if (!kinds.empty() && images) {
        const auto* src = dynamic_cast<const data::ImageSource*>(m.r.data.test.get());
        m.input = std::make_unique<train::PixelInput>(*src);
        m.target = std::make_unique<train::AttackTarget>(*m.r.net, m.r.cfg.loss, *m.input);
      } else if (!kinds.empty()) {
        m.events = std::make_unique<train::EventAttackTarget>(*m.r.net, m.r.cfg.loss, *m.r.data.test);
      }
    }

    // Attacks, ε by ε; PGD's adversarial examples are kept for the transfer attacks.
    const auto seed = static_cast<std::uint64_t>(a.seed);
    // Adversarial examples kept for the transfer attacks: pixels or event samples.
    struct Adversarial {
      std::vector<float> pixels;
      std::vector<data::SampleEvents> events;
      bool empty() const { return pixels.empty() && events.empty(); }
    };
    auto run_one = [&](Model& m, const train::Net& net, const train::AttackConfig& c, std::size_t n,
                       Adversarial* keep) {
      const int threads = std::max(1, m.r.cfg.training.threads);
      if (m.events) {
        const train::EventAttackTarget t(net, m.r.cfg.loss, *m.r.data.test);
        return train::run_event_attack(t, c, n, threads, keep ? &keep->events : nullptr);
      }
      const train::AttackTarget t(net, m.r.cfg.loss, *m.input);
      return train::run_attack(t, c, n, threads, keep ? &keep->pixels : nullptr);
    };
    auto attack = [&](Model& m, train::AttackKind kind, train::AttackNorm norm, double eps,
                      Adversarial* keep) {
      train::AttackConfig c;
      c.kind = kind;
      c.norm = norm;
      c.eps = eps;
      c.steps = a.pgd_steps;
      c.queries = a.queries;
      c.seed = seed;
      const std::size_t n = kind == train::AttackKind::square && a.square_limit > 0
                                ? static_cast<std::size_t>(a.square_limit)
                                : 0;
      AttackRun run{std::string(train::attack_kinds().name_of(kind)), norm, eps,
                    run_one(m, *m.r.net, c, n, keep), nlohmann::json::object()};
      if (kind == train::AttackKind::pgd) run.extra = {{"steps", c.steps}};
      if (kind == train::AttackKind::square) run.extra = {{"query_budget", c.queries}};
      if (m.events) run.extra["budget"] = "L0: at most ceil(eps * events) events added or removed";
      print_run(m, run);
      m.runs.push_back(std::move(run));
    };
    struct Budget {
      train::AttackNorm norm;
      std::vector<double> eps;
    };
    std::vector<double> linf;
    for (double e : eps_linf) linf.push_back(e / 255.0);
    std::vector<Budget> budgets = {{train::AttackNorm::linf, linf}};
    if (images) budgets.push_back({train::AttackNorm::l2, eps_l2});  // events: L0 only
    // Transfer needs the same input space: pixels, or events binned to the same steps.
    const bool transferable = models.size() == 2 && (images || models[0]->r.data.test->n_steps() ==
                                                                   models[1]->r.data.test->n_steps());
    for (const Budget& b0 : budgets) {
      for (double eps : kinds.empty() ? std::vector<double>{} : b0.eps) {
        std::vector<Adversarial> adv(models.size());
        for (std::size_t k = 0; k < models.size(); ++k) {
          Model& m = *models[k];
          for (train::AttackKind kind : kinds) {
            if (kind == train::AttackKind::square && b0.norm != train::AttackNorm::linf) continue;
            attack(m, kind, b0.norm, eps, kind == train::AttackKind::pgd ? &adv[k] : nullptr);
          }
          // Masking check (c): PGD with other surrogate slopes (spiking networks only).
          const bool pgd = std::find(kinds.begin(), kinds.end(), train::AttackKind::pgd) != kinds.end();
          if (pgd && m.spiking() && m.r.net->config().forward == train::ForwardMode::heaviside) {
            for (double f : slopes) {
              const double scale = m.r.net->config().surrogate.scale * f;
              const train::Net other = train::with_surrogate_scale(*m.r.net, scale);
              train::AttackConfig c;
              c.norm = b0.norm;
              c.eps = eps;
              c.steps = a.pgd_steps;
              c.seed = seed;
              AttackRun run{fmt::format("pgd_slope_x{:g}", f), b0.norm, eps,
                            run_one(m, other, c, 0, nullptr),
                            {{"steps", c.steps}, {"surrogate_scale", scale}}};
              print_run(m, run);
              m.runs.push_back(std::move(run));
            }
          }
        }
        // Masking check (a): PGD examples crafted on the other network.
        if (transferable && !adv[0].empty() && !adv[1].empty()) {
          for (std::size_t k = 0; k < 2; ++k) {
            Model& m = *models[k];
            const Model& other = *models[1 - k];
            const int threads = std::max(1, m.r.cfg.training.threads);
            AttackRun run{"transfer_pgd", b0.norm, eps,
                          m.events ? train::evaluate_events(*m.events, adv[1 - k].events, threads)
                                   : train::evaluate_inputs(*m.target, adv[1 - k].pixels, threads),
                          {{"source", other.checkpoint}}};
            print_run(m, run);
            m.runs.push_back(std::move(run));
          }
        }
        for (auto& mp : models)
          if (auto s = robust_summary(*mp, b0.norm, eps); !s.is_null()) mp->json["robust"].push_back(s);
      }
    }
    nlohmann::json jm = nlohmann::json::array();
    for (auto& mp : models) {
      nlohmann::json runs = nlohmann::json::array();
      for (const AttackRun& r : mp->runs) runs.push_back(run_json(r));
      mp->json["attacks"] = runs;
      if (!images)
        mp->json["attacks_note"] =
            "event data: eps is an L0 budget, the fraction of the sample's events that may be "
            "added or removed (docs/robustness.md)";
      jm.push_back(mp->json);
    }
    std::filesystem::create_directories(a.out);
    const nlohmann::json j = {{"checkpoint", a.checkpoint},
                              {"data", first.r.data.test->description()},
                              {"samples", first.r.data.test->size()},
                              {"seed", a.seed},
                              {"noise", models[0]->json["noise"]},
                              {"models", jm}};
    const std::string path = (std::filesystem::path(a.out) / "robustness.json").string();
    std::ofstream out(path);
    out << j.dump(2) << "\n";
    if (!out) throw IoError(fmt::format("cannot write {}", path));
    fmt::print("volley robustness: results in {}\n", path);
    return kSuccess;
  });
}

}  // namespace

void add_robustness_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<RobustnessArgs>();
  CLI::App* c = app.add_subcommand(
      "robustness",
      "What spikes buy: accuracy of a trained network under input noise and adversarial attacks "
      "(FGSM, PGD, Square Attack, transfer from --against, PGD with other surrogate slopes), the "
      "robust accuracy (per sample the minimum over every attack) and the energy per sample; "
      "with --against the same on its ANN twin. Seeded and thread-independent; writes "
      "OUT/robustness.json (docs/robustness.md).");
  c->add_option("checkpoint", args->checkpoint, "checkpoint.bin written by volley train")
      ->required();
  c->add_option("-o,--out", args->out, "output directory")->required();
  c->add_option("--against", args->against,
                "a checkpoint of the same task (normally the ANN twin, volley train --twin ann): "
                "the same suite on it, and transfer attacks both ways");
  c->add_option("--noise", args->noise,
                "KIND or KIND=L1,L2,... (deletion: probabilities, jitter: seconds, spurious: Hz; "
                "static images also gaussian: σ of full scale, salt_pepper: probabilities), or "
                "none; default: gaussian and salt_pepper for images, the event kinds for events")
      ->take_all();
  c->add_option("--attack", args->attacks,
                "fgsm, pgd, square (or none); default: all three. On event data ε is an L0 "
                "budget: the fraction of a sample's events that may be added or removed")
      ->take_all();
  c->add_option("--eps", args->eps,
                "L∞ radii in units of 1/255 (comma-separated); on event data the L0 budget, as "
                "fractions of the events in units of 1/255")
      ->capture_default_str();
  c->add_option("--eps-l2", args->eps_l2, "L2 radii in units of full scale (or none)")
      ->capture_default_str();
  c->add_option("--slopes", args->slopes,
                "PGD again with the surrogate's scale times these (spiking networks; or none)")
      ->capture_default_str();
  c->add_option("--pgd-steps", args->pgd_steps, "PGD steps")->check(kCount)->capture_default_str();
  c->add_option("--queries", args->queries, "Square Attack: forward passes per sample")
      ->check(kCount)
      ->capture_default_str();
  c->add_option("--square-limit", args->square_limit,
                "Square Attack on the first N test samples (it needs many forward passes)")
      ->check(kCount)
      ->capture_default_str();
  c->add_option("--data", args->data, "test data (as for volley eval)");
  c->add_option("-t,--threads", args->threads, "worker threads")->check(kCount);
  c->add_option("--test-limit", args->test_limit, "use the first N test samples")->check(kCount);
  c->add_option("-s,--seed", args->seed, "seed of the noise and the attacks' random draws")
      ->check(CLI::NonNegativeNumber);
  c->callback([args, &exit_code] { exit_code = run_robustness(*args); });
}

}  // namespace volley::cli

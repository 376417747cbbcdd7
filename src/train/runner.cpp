// The training runners (see runner.hpp): the epoch loop with resume and NaN stop, and the
// generation loop of evolution strategies. Everything they produce goes to a writer.
#include "volley/train/runner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>

#include "volley/error.hpp"
#include "volley/rng.hpp"

namespace volley::train {
namespace {

// Stream of the evolution minibatches (kept from the CLI driver it came from: same batches).
constexpr std::uint32_t kEvolveBatchStream = 0xE5100000u;

// The optimiser is not const only because its state accessors are not.
Checkpoint make_checkpoint(const RunIdentity& id, const Net& net, Optimizer* opt,
                           std::uint32_t epochs_done) {
  Checkpoint ck;
  ck.config_name = id.config_name;
  ck.config_text = id.config_text;
  ck.options = id.options;
  ck.epochs_done = epochs_done;
  if (opt) ck.optimizer_steps = opt->steps();
  for (std::size_t k = 0; k < net.params().size(); ++k) {
    const auto& p = net.params()[k];
    ck.params.emplace_back(p.name, p.value);
    if (opt) {
      ck.opt_m.emplace_back(p.name, opt->m()[k]);
      ck.opt_v.emplace_back(p.name, opt->v()[k]);
    }
  }
  for (std::size_t l = 0; l < net.config().layers.size(); ++l)
    for (const WeightLayout* W : {&net.input_weights(l), &net.recurrent_weights(l)})
      if (!W->dense && W->n_pre > 0)
        ck.patterns.push_back({net.params()[W->param].name, W->row_ptr, W->cols});
  return ck;
}

void check_data(const Net& net, const data::EventSource& d, std::string_view role) {
  const NetConfig& c = net.config();
  if (d.n_inputs() != c.n_inputs || d.n_steps() != c.n_steps || d.n_classes() != net.n_outputs())
    throw ParameterError(fmt::format(
        "{} data {} has {} inputs, {} steps and {} classes; the network has {} inputs, {} steps "
        "and {} outputs",
        role, d.description(), d.n_inputs(), d.n_steps(), d.n_classes(), c.n_inputs, c.n_steps,
        net.n_outputs()));
}

}  // namespace

void restore(const Checkpoint& ck, Net& net, Optimizer* opt, const std::string& source) {
  auto& params = net.params();
  auto check = [&](const auto& list, std::string_view what) {
    if (list.size() != params.size())
      throw IoError(fmt::format("{}: checkpoint has {} {} arrays, the network has {}", source,
                                list.size(), what, params.size()));
    for (std::size_t k = 0; k < params.size(); ++k) {
      if (list[k].first != params[k].name)
        throw IoError(fmt::format("{}: checkpoint {} '{}' where the network has '{}'", source,
                                  what, list[k].first, params[k].name));
    }
  };
  check(ck.params, "parameter");

  // Sparsity patterns (rewired runs may have changed their synapse counts): the sizes the
  // parameters will have.
  struct Target {
    std::size_t layer;
    bool recurrent;
    std::size_t param;
    const Checkpoint::Pattern* pattern;
  };
  std::vector<Target> patterns;
  std::vector<std::size_t> size(params.size());
  for (std::size_t k = 0; k < params.size(); ++k) size[k] = params[k].value.size();
  for (const auto& p : ck.patterns) {
    std::optional<Target> found;
    for (std::size_t l = 0; l < net.config().layers.size() && !found; ++l)
      for (const bool rec : {false, true}) {
        const WeightLayout& W = rec ? net.recurrent_weights(l) : net.input_weights(l);
        if (!W.dense && W.n_pre > 0 && params[W.param].name == p.name)
          found = Target{l, rec, W.param, &p};
      }
    if (!found)
      throw IoError(fmt::format("{}: checkpoint has a sparsity pattern for '{}', which is not a "
                                "sparse matrix of the network",
                                source, p.name));
    size[found->param] = p.cols.size();
    patterns.push_back(*found);
  }
  for (std::size_t k = 0; k < params.size(); ++k) {
    if (ck.params[k].second.size() != size[k])
      throw IoError(fmt::format("{}: parameter '{}' has {} values, {} expected", source,
                                params[k].name, ck.params[k].second.size(), size[k]));
  }
  if (opt) {
    check(ck.opt_m, "optimiser state");
    check(ck.opt_v, "optimiser state");
    for (std::size_t k = 0; k < params.size(); ++k) {
      const std::size_t m = opt->m()[k].empty() ? 0 : size[k];
      const std::size_t v = opt->v()[k].empty() ? 0 : size[k];
      if (ck.opt_m[k].second.size() != m || ck.opt_v[k].second.size() != v)
        throw IoError(fmt::format("{}: optimiser state of '{}' has the wrong size", source,
                                  params[k].name));
    }
  }
  // Everything checked: nothing is half-restored when a check fails (a pattern's own content is
  // checked as it is set; a file that passed its CRC holds what volley wrote).
  for (const auto& t : patterns) {
    try {
      net.set_pattern(t.layer, t.recurrent, t.pattern->row_ptr, t.pattern->cols,
                      ck.params[t.param].second);
    } catch (const ParameterError& e) {
      throw IoError(fmt::format("{}: {}", source, e.what()));
    }
  }
  for (std::size_t k = 0; k < params.size(); ++k) params[k].value = ck.params[k].second;
  net.update_delays();
  if (!opt) return;
  for (std::size_t k = 0; k < params.size(); ++k) {
    opt->m()[k] = ck.opt_m[k].second;
    opt->v()[k] = ck.opt_v[k].second;
  }
  opt->set_steps(ck.optimizer_steps);
}

FitResult fit(Trainer& trainer, const data::EventSource& train_data,
              const data::EventSource& test_data, const RunIdentity& identity, FitWriter& writer) {
  Net& net = trainer.net();
  check_data(net, train_data, "training");
  check_data(net, test_data, "test");

  int start = 0;
  if (std::optional<ResumePoint> from = writer.resume()) {
    restore(from->checkpoint, net, &trainer.optimizer(), from->source);
    start = static_cast<int>(from->checkpoint.epochs_done);
  }
  const int epochs = trainer.settings().epochs;
  writer.start({train_data.size(), test_data.size(), net.n_synapses(), start, epochs,
                net.config().n_inputs});

  FitResult result;
  result.epochs_done = start;
  EvalStats last_eval;
  double train_seconds = 0.0;
  for (int epoch = start; epoch < epochs; ++epoch) {
    // The delays' σ of this epoch (delays.hpp); nothing changes for a network without delays.
    net.set_training_progress(static_cast<double>(epoch) / static_cast<double>(epochs));
    const auto t0 = std::chrono::steady_clock::now();
    const EpochStats st = trainer.train_epoch(train_data, epoch, [&](const BatchProgress& p) {
      writer.batch(epoch, epochs, p,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    });
    writer.trained(epoch, st);
    if (!st.finite) {
      result.stopped = true;
      result.message = fmt::format(
          "epoch {}: the loss, a gradient or a parameter became NaN or Inf (loss {}); training "
          "stopped.",
          epoch + 1, st.loss);
      return result;
    }
    train_seconds += st.seconds;
    last_eval = trainer.evaluate(test_data);
    writer.epoch({epoch + 1, epochs, st, last_eval,
                  trainer.optimizer_config().lr_at(epoch, epochs)});
    writer.checkpoint(make_checkpoint(identity, net, &trainer.optimizer(),
                                      static_cast<std::uint32_t>(epoch + 1)));
    result.epochs_done = epoch + 1;
    result.test_accuracy = last_eval.accuracy;
  }
  if (start >= epochs) {  // a resumed run that was already complete: evaluate it once
    last_eval = trainer.evaluate(test_data);
    result.test_accuracy = last_eval.accuracy;
  }
  if (last_eval.samples > 0) {
    FitEnd end;
    end.epochs_done = result.epochs_done;
    end.test = last_eval;
    end.n_classes = net.n_outputs();
    end.train_samples = train_data.size();
    end.synapses = net.n_synapses();
    end.trainable = net.n_trainable();
    end.train_seconds = train_seconds;
    writer.finish(end);
  }
  return result;
}

EvolveEnd evolve(Evolution& evolution, Trainer& tester, const data::EventSource& train_data,
                 const data::EventSource& test_data, const RunIdentity& identity,
                 EvolveWriter& writer, const EvolveOptions& options) {
  if (options.test_every < 1) throw ParameterError("evolve: test_every must be >= 1");
  Net& net = tester.net();
  check_data(net, train_data, "training");
  check_data(net, test_data, "test");
  const EvolutionConfig& ev = evolution.config();
  const std::size_t n = train_data.size();
  std::vector<std::size_t> batch(std::min(ev.batch_size, n));
  writer.start({evolution.dimension(), ev, batch.size()});

  EvolveEnd end;
  end.parameters = evolution.dimension();
  end.generations = ev.generations;
  end.batch_size = batch.size();
  for (std::size_t g = 0; g < ev.generations; ++g) {
    for (std::size_t k = 0; k < batch.size(); ++k) {
      CounterRng rng(ev.seed, kEvolveBatchStream, static_cast<std::uint32_t>(k), g);
      batch[k] = static_cast<std::size_t>(rng.uniform() * static_cast<double>(n));
    }
    GenerationRecord r;
    r.generation = g + 1;
    r.generations = ev.generations;
    r.batch_size = batch.size();
    r.stats = evolution.step(train_data, batch);
    end.seconds += r.stats.seconds;
    end.evaluations += r.stats.evaluations;
    if (g + 1 == ev.generations || (g + 1) % options.test_every == 0) {
      end.test = tester.evaluate(test_data);
      r.test = end.test;
    }
    r.evaluations = end.evaluations;
    r.seconds = end.seconds;
    writer.generation(r);
  }
  writer.checkpoint(
      make_checkpoint(identity, net, nullptr, static_cast<std::uint32_t>(ev.generations)));
  writer.finish(end);
  return end;
}

}  // namespace volley::train

// Training files: TOML -> TrainConfig. Every choice is read through its registry and every
// number through its Param declaration (next to the config structs), so the reader, the error
// messages and training_reference_markdown() (docs/reference.md) cannot disagree.
#include "volley/io/train_config.hpp"

#include <cmath>
#include <filesystem>
#include <limits>

#include "toml_table.hpp"
#include "volley/error.hpp"
#include "volley/train/eprop.hpp"
#include "volley/train/idx.hpp"
#ifdef VOLLEY_HAVE_HDF5
#include "volley/io/shd.hpp"
#endif

namespace volley::io {

const Registry<Choice<DataConfig::Kind>>& datasets() {
  static const Registry<Choice<DataConfig::Kind>> r(
      "dataset",
      {{"fashion-mnist", DataConfig::Kind::fashion_mnist,
        "Fashion-MNIST images (IDX files) encoded into spikes on the fly (`encoding`)"},
       {"shd", DataConfig::Kind::shd,
        "Spiking Heidelberg Digits (HDF5 files in the SHD layout), binned to steps of "
        "network.dt"},
       {"ipd", DataConfig::Kind::ipd,
        "the sound-localisation tutorial's interaural-phase-difference task, generated "
        "(include/volley/ear/ipd_task.hpp)"},
       {"arrays", DataConfig::Kind::arrays,
        "samples handed over by the program that runs the file (Python: "
        "`volley.train(..., data=(train, test))` with `volley.Dataset`s); `inputs` and "
        "`classes` as for shd (the data's own counts are checked against the network)"}});
  return r;
}

const Registry<Choice<train::EncoderConfig::Kind>>& encodings() {
  using Kind = train::EncoderConfig::Kind;
  static const Registry<Choice<Kind>> r(
      "encoding",
      {{"latency", Kind::latency,
        "a pixel x ≥ threshold spikes once, at step ⌊tau_eff·ln(x/(x − threshold))/dt⌋ "
        "(SpyTorch)"},
       {"poisson", Kind::poisson,
        "every pixel spikes at every step with probability max_rate·x·dt"},
       {"analog", Kind::analog,
        "not spikes: every pixel is an input of value x at step 0 (the ANN twin's input)"}});
  return r;
}

namespace {

using namespace detail;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr Range kPositive{0.0, kInf, true, true};      // > 0, finite
constexpr Range kNonNegative{0.0, kInf, false, true};  // >= 0, finite
constexpr double kMaxSeed = std::numeric_limits<std::uint32_t>::max();

// ---------------------------------------------------------------------------------------------
// The keys of the training file that are not the engine's own parameters.

std::span<const Param<DataConfig>> data_params() {
  static const Param<DataConfig> p[] = {
      {"train_limit", &DataConfig::train_limit, Dimension::none(), Range::non_negative(),
       "use the first N training samples (0 = all; --train-limit sets it)"},
      {"test_limit", &DataConfig::test_limit, Dimension::none(), Range::non_negative(),
       "use the first N test samples (0 = all; --test-limit sets it)"},
  };
  return p;
}

std::span<const Param<DataConfig>> shd_params() {
  static const Param<DataConfig> p[] = {
      {"inputs", &DataConfig::n_inputs, Dimension::none(), Range::at_least(1),
       "input channels"},
      {"classes", &DataConfig::n_classes, Dimension::none(), Range::at_least(1), "classes"},
  };
  return p;
}

// Stored converted (tau_eff in steps, max_rate per step), so declared as ParamInfo in the
// file's units: the defaults are those of EncoderConfig at dt = 1 ms.
const ParamInfo kTauEff{"tau_eff", Dimension::seconds(), kPositive, 20e-3, false,
                        "latency code: time constant"};
const ParamInfo kMaxRate{"max_rate", Dimension::hertz(), kPositive, 200.0, false,
                         "poisson code: rate at pixel value 1 (at most one spike per step)"};

std::span<const Param<train::EncoderConfig>> encoder_params() {
  static const Param<train::EncoderConfig> p[] = {
      {"threshold", &train::EncoderConfig::threshold, Dimension::none(), Range{0.0, 1.0, true, true},
       "latency code: pixels below this fraction of 255 stay silent"},
  };
  return p;
}

std::span<const Param<ear::IpdTaskConfig>> ipd_params() {
  using C = ear::IpdTaskConfig;
  static const Param<C> p[] = {
      {"fibres", &C::fibres, Dimension::none(), Range::at_least(1), "Poisson fibres per ear"},
      {"rate_max", &C::rate_max, Dimension::hertz(), kPositive,
       "peak firing rate (at most one spike per step)"},
      {"frequency", &C::frequency, Dimension::hertz(), kPositive, "tone frequency"},
      {"power", &C::power, Dimension::none(), kPositive, "exponent k of the fibres' tuning"},
      {"classes", &C::classes, Dimension::none(), Range::at_least(2),
       "IPD bins over (−90°, 90°)"},
      {"train_samples", &C::samples, Dimension::none(), Range::at_least(1),
       "training samples"},
  };
  return p;
}

std::span<const Param<DataConfig>> ipd_test_params() {
  static const Param<DataConfig> p[] = {
      {"test_samples", &DataConfig::ipd_test_samples, Dimension::none(), Range::at_least(1),
       "test samples (a disjoint seed)"},
  };
  return p;
}

std::span<const Param<train::TrainSettings>> training_params() {
  using S = train::TrainSettings;
  static const Param<S> p[] = {
      {"epochs", &S::epochs, Dimension::none(), Range::non_negative(),
       "passes over the training set (--epochs sets it)"},
      {"batch_size", &S::batch_size, Dimension::none(), Range::at_least(1),
       "samples per gradient step; the last incomplete batch of an epoch is dropped"},
      {"threads", &S::threads, Dimension::none(), Range::at_least(1),
       "worker threads; results do not depend on it (--threads sets it)"},
      {"seed", &S::seed, Dimension::none(), Range::closed(0, kMaxSeed),
       "shuffling and stochastic encoders (--seed sets it and network.seed)"},
  };
  return p;
}

std::span<const Param<train::TwinConfig>> twin_params() {
  static const Param<train::TwinConfig> p[] = {
      {"bins", &train::TwinConfig::bins, Dimension::none(), Range::non_negative(),
       "event data: time bins of the twin's input (counts per bin); 0 = network.steps"},
  };
  return p;
}

std::span<const Param<train::ReservoirConfig>> reservoir_params() {
  using R = train::ReservoirConfig;
  static const Param<R> p[] = {
      {"ridge", &R::ridge, Dimension::none(), kNonNegative, "α in W = (XᵀX + αI)⁻¹XᵀY"},
      {"time_bins", &R::time_bins, Dimension::none(), Range::at_least(1),
       "feature bins per sample"},
  };
  return p;
}

// ---------------------------------------------------------------------------------------------
// Reading

bool flag(Table& t, std::string_view key, bool fallback) {
  if (auto f = t.get(key)) return f->boolean();
  return fallback;
}

// A value declared as a ParamInfo (checked against its dimension and range), when present. Not
// a whole number: ParamInfo is used here only for quantities stored converted.
std::optional<std::pair<Field, double>> read_value(Table& t, const ParamInfo& p) {
  auto f = t.get(p.key);
  if (!f) return std::nullopt;
  const double x = f->quantity(p.dim);
  if (!p.range.contains(x)) f->fail(fmt::format("must be {}, got {}", p.range.describe(), x));
  return std::pair(*f, x);
}

void read_data(Table t, DataConfig& d, double dt) {
  d.kind = choose(t.need("dataset"), datasets());
  read_params(t, data_params(), d);
  if (d.kind == DataConfig::Kind::fashion_mnist) {
    d.path = train::kFashionMnistDir;
    if (auto f = t.get("path")) d.path = f->path();
    if (auto f = t.get("encoding")) d.encoder.kind = choose(*f, encodings());
    if (auto v = read_value(t, kTauEff)) d.encoder.tau_eff = v->second / dt;
    read_params(t, encoder_params(), d.encoder);
    if (auto v = read_value(t, kMaxRate)) {
      const double p = v->second * dt;
      if (p > 1.0)
        v->first.fail(fmt::format("is {} spikes per step at dt; must be at most 1 per step", p));
      d.encoder.max_rate = p;
    }
  } else if (d.kind == DataConfig::Kind::ipd) {
    read_params(t, ipd_params(), d.ipd);
    if (auto f = t.get("rate_max"); f && d.ipd.rate_max * dt > 1.0)
      f->fail("is more than one spike per step of dt");
    read_params(t, ipd_test_params(), d);
    d.ipd.dt = dt;
  } else if (d.kind == DataConfig::Kind::arrays) {
    read_params(t, shd_params(), d);
  } else {
    d.train_file = t.need("train").path();
    d.test_file = t.need("test").path();
    read_params(t, shd_params(), d);
  }
  t.finish();
}

train::LayerConfig read_layer(Table t, bool last, const train::NetConfig& net) {
  train::LayerConfig c;
  c.kind = choose(t.need("type"), train::layer_kinds());
  if (c.kind == train::LayerKind::readout && !last)
    t.fail("a readout layer must be the last layer");
  if (!t.get("size")) t.missing("size");
  read_params(t, train::layer_params(), c);
  c.learn_tau = flag(t, "learn_tau", false);
  c.learn_threshold = flag(t, "learn_threshold", false);
  c.learn_adapt = flag(t, "learn_adapt", false);
  c.learn_delay = flag(t, "learn_delay", false);
  if (c.learn_delay && !(c.max_delay > 0.0))
    t.fail("learn_delay needs max_delay > 0 (the window the delays are learned in)");
  if (c.max_delay > 0.0) {
    const double steps = std::round(c.max_delay / net.dt);
    if (auto f = t.get("max_delay"); f && (steps < 1.0 || steps >= static_cast<double>(net.n_steps)))
      f->fail(fmt::format("is {} steps of dt = {} s; must be at least 1 and below the {} steps "
                          "of a sample",
                          steps, net.dt, net.n_steps));
    if (c.learn_delay && c.delay_sigma / net.dt < train::kHardDelaySigma) {
      const std::string why = fmt::format(
          "must be at least a quarter of a step ({} s) with learn_delay, else the delays get no "
          "gradient",
          train::kHardDelaySigma * net.dt);
      if (auto f = t.get("delay_sigma")) f->fail(why);
      t.fail("delay_sigma " + why + " (add delay_sigma, e.g. a quarter of max_delay)");
    }
  }
  if (auto f = t.get("tau_init")) c.tau_init = choose(*f, train::tau_inits());
  if (c.tau_init == train::TauInit::constant && c.tau_cv > 0.0)
    t.fail("tau_cv needs tau_init = \"uniform\", \"gamma\" or \"lognormal\"");
  if (train::Net::is_spiking(c.kind)) {
    c.recurrent_scale = c.weight_scale;  // unless given
    read_params(t, train::spiking_layer_params(), c);
    if (auto f = t.get("reset")) c.reset = choose(*f, train::reset_modes());
    c.detach_reset = flag(t, "detach_reset", true);
    c.recurrent = flag(t, "recurrent", false);
  }
  if (c.kind == train::LayerKind::relu) {
    c.recurrent_scale = c.weight_scale;
    read_params(t, train::relu_layer_params(), c);
    c.recurrent = flag(t, "recurrent", false);
    c.leaky = flag(t, "leaky", false);
    if (c.learn_tau && !c.leaky) t.fail("learn_tau on a relu layer needs leaky = true");
  }
  if (c.kind == train::LayerKind::alif || c.kind == train::LayerKind::adlif)
    read_params(t, train::alif_params(), c);
  if (c.kind == train::LayerKind::adlif) read_params(t, train::adlif_params(), c);
  if (c.learn_threshold && !train::Net::is_spiking(c.kind))
    t.fail("learn_threshold needs a spiking layer (lif, alif or adlif)");
  if (c.learn_adapt && c.kind != train::LayerKind::adlif)
    t.fail("learn_adapt needs type = \"adlif\"");
  // The ranges learning keeps the values in (Net::constrain) must hold at the start.
  auto at_most = [&](const char* key, double value, float limit, bool on, const char* why) {
    if (on && value > limit)
      if (auto f = t.get(key)) f->fail(fmt::format("must be at most {} with {}, got {}", limit, why, value));
  };
  at_most("adapt_coupling", c.adapt_coupling, train::kMaxCoupling, c.learn_adapt, "learn_adapt");
  at_most("adapt_strength", c.adapt_strength, train::kMaxJump, c.learn_adapt, "learn_adapt");
  if (c.learn_threshold && c.threshold < train::kMinThreshold)
    if (auto f = t.get("threshold"))
      f->fail(fmt::format("must be at least {} with learn_threshold, got {}", train::kMinThreshold,
                          c.threshold));
  t.finish();
  return c;
}

void read_surrogate(Table t, train::NetConfig& net) {
  if (auto f = t.get("kind")) {
    const train::SurrogateInfo& s = lookup(*f, train::surrogates());
    net.surrogate = {s.value, s.default_scale};
  }
  read_params(t, train::surrogate_params(), net.surrogate);
  if (auto f = t.get("forward")) net.forward = choose(*f, train::forward_modes());
  read_params(t, train::smooth_forward_params(), net);
  t.finish();
}

TrainConfig load(const std::string& text, Source src, const TrainOptions& opt) {
  toml::table root = parse_document(text, src, opt.overrides);
  TrainConfig cfg;
  cfg.path = src.name;
  cfg.text = text;
  Table top(src, root, "");
  const auto data = top.get("data");
  const auto network = top.get("network");
  const auto layers = top.get("layers");
  const auto surrogate = top.get("surrogate");
  const auto backward = top.get("backward");
  const auto loss = top.get("loss");
  const auto optimizer = top.get("optimizer");
  const auto training = top.get("training");
  const auto evolution = top.get("evolution");
  const auto reservoir = top.get("reservoir");
  const auto twin = top.get("twin");
  const auto rewiring = top.get("rewiring");
  top.finish();
  if (!data) top.missing("data", "add a [data] table, e.g. dataset = \"fashion-mnist\"");
  if (!layers) top.missing("layers", "add [[layers]] tables, the last of type \"readout\"");

  train::NetConfig& net = cfg.net;
  if (network) {
    Table t = network->table();
    read_params(t, train::network_params(), net);
    t.finish();
  }
  read_data(data->table(), cfg.data, net.dt);
  cfg.data.encoder.n_steps = net.n_steps;

  const auto elements = layers->elements();
  if (elements.empty()) layers->fail("needs at least one layer");
  for (std::size_t i = 0; i < elements.size(); ++i)
    net.layers.push_back(read_layer(elements[i].table(), i + 1 == elements.size(), net));

  if (surrogate) read_surrogate(surrogate->table(), net);
  if (backward) {
    Table t = backward->table();
    if (auto f = t.get("mode")) net.backward = choose(*f, train::backward_modes());
    read_params(t, train::backward_params(), net);
    t.finish();
  }
  if (loss) {
    Table t = loss->table();
    if (auto f = t.get("kind")) cfg.loss.kind = lookup(*f, train::losses()).value;
    read_params(t, train::loss_params(), cfg.loss);
    t.finish();
  }
  const bool count_loss = train::is_count_loss(cfg.loss.kind);
  const bool readout_last = net.layers.back().kind == train::LayerKind::readout;
  if (count_loss == readout_last) {
    const Field last = elements.back();
    last.fail(count_loss ? "the count losses need a spiking last layer (type \"lif\")"
                         : "the last layer must be a readout (type \"readout\") for this loss; "
                           "use loss.kind = \"count_ce\" or \"count_mse\" for a spiking output");
  }
  train::OptimizerConfig& o = cfg.optimizer;
  if (optimizer) {
    Table t = optimizer->table();
    if (auto f = t.get("kind")) o.kind = choose(*f, train::optimizers());
    read_params(t, train::optimizer_params(), o);
    if (auto f = t.get("schedule")) o.schedule = choose(*f, train::schedules());
    if (auto f = t.get("lr_min"); f && o.lr_min > o.lr)
      f->fail(fmt::format("must be in [0, lr], got {} (lr = {})", o.lr_min, o.lr));
    t.finish();
  }
  train::TrainSettings& s = cfg.training;
  std::optional<Field> gradient_field;
  if (training) {
    Table t = training->table();
    read_params(t, training_params(), s);
    if (auto f = t.get("gradient")) {
      s.gradient = choose(*f, train::gradient_methods());
      gradient_field = *f;
    }
    if (auto f = t.get("feedback")) {
      s.feedback = choose(*f, train::feedback_kinds());
      if (s.gradient != train::GradientKind::eprop)
        f->fail("is used only with gradient = \"eprop\"");
    }
    t.finish();
  }
  if (s.gradient == train::GradientKind::eprop) {
    try {
      train::Eprop::check(net, cfg.loss);
    } catch (const ParameterError& e) {
      gradient_field->fail(e.what());
    }
  }
  train::EvolutionConfig& ev = cfg.evolution;
  if (evolution) {
    Table t = evolution->table();
    if (auto f = t.get("kind")) ev.kind = choose(*f, train::evolution_kinds());
    read_params(t, train::evolution_params(), ev);
    if (auto f = t.get("population");
        f && ev.kind == train::EvolutionKind::openai_es && ev.population % 2 != 0)
      f->fail("must be even for antithetic sampling (openai_es)");
    t.finish();
  }
  if (reservoir) {
    Table t = reservoir->table();
    read_params(t, reservoir_params(), cfg.reservoir);
    cfg.memory_capacity = flag(t, "memory_capacity", cfg.memory_capacity);
    t.finish();
  }
  std::optional<Field> bins_field;
  if (twin) {
    Table t = twin->table();
    if (auto f = t.get("kind")) cfg.twin.kind = choose(*f, train::twin_kinds());
    read_params(t, twin_params(), cfg.twin);
    bins_field = t.get("bins");
    cfg.twin.leaky = flag(t, "leaky", false);
    t.finish();
  }
  if (rewiring) {
    Table t = rewiring->table();
    if (auto f = t.get("kind")) cfg.rewiring.kind = choose(*f, train::rewiring_kinds());
    if (auto f = t.get("l1_mode")) cfg.rewiring.l1_mode = choose(*f, train::l1_modes());
    read_params(t, train::rewiring_params(), cfg.rewiring);
    if (auto f = t.get("budget")) {
      const std::string b = f->string();
      if (b != "global" && b != "per_matrix")
        f->fail(fmt::format("unknown budget '{}' (expected one of global, per_matrix)", b));
      cfg.rewiring.global_budget = b == "global";
    }
    t.finish();
  }
  if (opt.twin) cfg.twin.kind = *opt.twin;
  if (opt.seed) s.seed = net.seed = *opt.seed;
  if (opt.threads) s.threads = *opt.threads;
  if (opt.epochs) s.epochs = *opt.epochs;
  if (opt.train_limit) cfg.data.train_limit = *opt.train_limit;
  if (opt.test_limit) cfg.data.test_limit = *opt.test_limit;
  cfg.data.encoder.seed = s.seed;
  ev.seed = s.seed;
  ev.threads = s.threads;
  cfg.reservoir.threads = s.threads;
  if (cfg.twin.kind == train::TwinKind::ann) {
    const auto fail = [&](const std::string& what) {
      if (bins_field) bins_field->fail(what);
      throw ConfigError(fmt::format("{}: twin: {}", src.name, what));
    };
    std::size_t steps = net.n_steps;
    double dt = net.dt;
    if (cfg.data.kind == DataConfig::Kind::fashion_mnist) {
      if (cfg.twin.bins > 1) fail("static images have one step in the ANN twin; remove bins");
      cfg.data.encoder.kind = train::EncoderConfig::Kind::analog;
      steps = cfg.data.encoder.n_steps = 1;
    } else if (cfg.twin.bins > 0 && cfg.twin.bins != net.n_steps) {
      if (cfg.data.kind == DataConfig::Kind::ipd)
        fail("the ipd task is generated at network.dt; the twin keeps its steps (remove bins)");
      dt = net.dt * static_cast<double>(net.n_steps) / static_cast<double>(cfg.twin.bins);
      steps = cfg.twin.bins;
    }
    try {
      net = train::ann_twin(net, steps, dt, cfg.twin.leaky);
    } catch (const ParameterError& e) {
      throw ConfigError(fmt::format("{}: {}", src.name, e.what()));
    }
    cfg.loss = train::ann_twin_loss(cfg.loss);
    if (s.gradient != train::GradientKind::bptt)
      throw ConfigError(fmt::format("{}: the ANN twin is trained by BPTT (training.gradient)",
                                    src.name));
  }
  try {
    if (s.threads < 1) throw ParameterError("training: threads must be >= 1");
    if (s.epochs < 0) throw ParameterError("training: epochs must be >= 0");
    net.n_inputs = (cfg.data.kind == DataConfig::Kind::shd ||
                    cfg.data.kind == DataConfig::Kind::arrays) ? cfg.data.n_inputs
                   : cfg.data.kind == DataConfig::Kind::ipd ? 2 * cfg.data.ipd.fibres
                                                            : 784;
    net.validate();
    o.validate();
  } catch (const ParameterError& e) {
    throw ConfigError(fmt::format("{}: {}", src.name, e.what()));
  }
  return cfg;
}

// ---------------------------------------------------------------------------------------------
// The reference (docs/reference.md)

// A key that is not a number: a choice, a flag, a path.
struct Row {
  std::string_view key, default_value;
  std::string allowed;
  std::string_view meaning;
};

template <class Entry>
std::string one_of(const Registry<Entry>& r) {
  std::string out;
  for (const auto& e : r) out += fmt::format("{}`\"{}\"`", out.empty() ? "" : ", ", e.name);
  return "one of " + out;
}

// One Markdown table: the rows, then the numeric parameters.
std::string keys_table(std::initializer_list<Row> rows,
                       std::initializer_list<std::vector<ParamInfo>> params = {}) {
  std::string out = "| key | default | allowed | meaning |\n|---|---|---|---|\n";
  for (const Row& r : rows)
    out += fmt::format("| `{}` | {} | {} | {} |\n", r.key, r.default_value, r.allowed, r.meaning);
  for (const auto& list : params) {
    const std::string md = markdown_params(list);
    out += md.substr(md.find('\n', md.find('\n') + 1) + 1);  // without the header
  }
  return out;
}

template <class P>
std::vector<ParamInfo> infos(std::span<const Param<P>> params, const P& defaults = P{}) {
  return param_infos(params, defaults);
}

const std::string kFlag = "true or false";

std::vector<ParamInfo> without(std::string_view key, std::vector<ParamInfo> params) {
  std::erase_if(params, [&](const ParamInfo& p) { return p.key == key; });
  return params;
}

}  // namespace

std::string training_reference_markdown() {
  std::string md;
  auto section = [&](std::string_view title, std::string_view intro, const std::string& body) {
    md += fmt::format("## {}\n\n", title);
    if (!intro.empty()) md += fmt::format("{}\n\n", intro);
    md += body + "\n";
  };
  auto names = [&](std::string_view title, const std::string& body) {
    md += fmt::format("{}:\n\n{}\n", title, body);
  };

  md += "# Training-file reference\n\n"
        "Generated from the registries and parameter declarations of the training code "
        "(`volley::io::training_reference_markdown()`); docs/training-format.md explains the "
        "format. Quantities carry units (`\"10 ms\"`); the defaults are those used when a key "
        "is absent.\n\n";

  const DataConfig data_defaults;
  section("`[data]`", "Keys for every dataset:",
          keys_table({{"dataset", "(required)", one_of(datasets()), "the data (below)"}},
                     {infos(data_params(), data_defaults)}));
  names("Datasets", markdown_names(datasets()));
  md += "`dataset = \"fashion-mnist\"`:\n\n" +
        keys_table({{"path", "`/usr/share/datasets/fashion-mnist`", "a directory",
                     "the IDX files (`train-images-idx3-ubyte[.gz]`, ...; Debian package "
                     "`dataset-fashion-mnist`)"},
                    {"encoding", "`\"latency\"`", one_of(encodings()), "the spike code (below)"}},
                   {{kTauEff}, infos(encoder_params()), {kMaxRate}}) +
        "\n";
  names("Encodings", markdown_names(encodings()));
  const ear::IpdTaskConfig ipd_defaults;
  md += "`dataset = \"ipd\"`:\n\n" +
        keys_table({}, {infos(ipd_params(), ipd_defaults), infos(ipd_test_params(), data_defaults)}) +
        "\n";
  md += "`dataset = \"shd\"`:\n\n" +
        keys_table({{"train", "(required)", "a path", "the training file (HDF5, SHD layout)"},
                    {"test", "(required)", "a path", "the test file"}},
                   {infos(shd_params(), data_defaults)}) +
        "\n";

  section("`[network]`", "", keys_table({}, {infos(train::network_params())}));

  const train::LayerConfig layer;
  section("`[[layers]]`",
          "One table per layer, input side first; the last is the output. Keys for every layer "
          "type:",
          keys_table({{"type", "(required)", one_of(train::layer_kinds()), "the layer (below)"},
                      {"size", "(required)", ">= 1, whole number", "neurons"},
                      {"learn_tau", "false", kFlag,
                       "train per-neuron α and β (clamped to [0, 0.9999])"},
                      {"learn_delay", "false", kFlag,
                       "train the input weights' delays (Gaussian taps of width delay_sigma that "
                       "shrink to whole steps, DCLS; needs max_delay)"},
                      {"tau_init", "`\"constant\"`", one_of(train::tau_inits()),
                       "per-neuron τ_mem and τ_syn at the start (below)"}},
                     {without("size", infos(train::layer_params(), layer))}));
  md += "`lif`, `alif` and `adlif` only:\n\n" +
        keys_table({{"reset", "`\"multiply\"`", one_of(train::reset_modes()), "after a spike"},
                    {"detach_reset", "true", kFlag, "the reset is not differentiated (SpyTorch)"},
                    {"recurrent", "false", kFlag, "recurrent weights V within the layer"},
                    {"learn_threshold", "false", kFlag,
                     "train a per-neuron threshold θ (kept ≥ 0.01)"}},
                   {infos(train::spiking_layer_params(), layer)}) +
        "\n`alif` and `adlif`:\n\n" + keys_table({}, {infos(train::alif_params(), layer)}) +
        "\n`adlif` only (learn_tau also trains its ρ = exp(−dt/tau_adapt)):\n\n" +
        keys_table({{"learn_adapt", "false", kFlag,
                     "train per-neuron a (kept in [0, 120]) and b (kept in [0, 2]), SE-adLIF's "
                     "ranges"}},
                   {infos(train::adlif_params(), layer)}) +
        "\n`relu` only (tau_syn is not used):\n\n" +
        keys_table({{"leaky", "false", kFlag,
                     "h_t = β·h_{t−1} + I_t with β = exp(−dt/tau_mem) (else h_t = I_t)"},
                    {"recurrent", "false", kFlag, "recurrent weights V within the layer"}},
                   {infos(train::relu_layer_params(), layer)}) +
        "\n";
  names("Layer types", markdown_names(train::layer_kinds()));
  names("Initial time constants (tau_init)", markdown_names(train::tau_inits()));
  names("Reset modes", markdown_names(train::reset_modes()));

  const train::NetConfig net;
  section("`[surrogate]`", "",
          keys_table({{"kind", "`\"fast_sigmoid\"`", one_of(train::surrogates()),
                       "the derivative used for dH/du in the backward pass (below)"},
                      {"forward", "`\"heaviside\"`", one_of(train::forward_modes()),
                       "the forward pass's spike (below)"}},
                     {infos(train::surrogate_params()),
                      infos(train::smooth_forward_params(), net)}));
  std::string sg = "| name | default scale | derivative |\n|---|---|---|\n";
  for (const auto& e : train::surrogates())
    sg += fmt::format("| `{}` | {:.6g} | {} |\n", e.name, e.default_scale, e.meaning);
  names("Surrogates (u = V − θ)", sg);
  names("Forward modes", markdown_names(train::forward_modes()));

  section("`[backward]`", "",
          keys_table({{"mode", "`\"sparse\"`", one_of(train::backward_modes()), "below"}},
                     {infos(train::backward_params(), net)}));
  names("Backward modes", markdown_names(train::backward_modes()));

  std::string losses = "| name | output | meaning |\n|---|---|---|\n";
  for (const auto& e : train::losses())
    losses += fmt::format("| `{}` | {} | {} |\n", e.name,
                          e.counts ? "spiking last layer" : "readout", e.meaning);
  section("`[loss]`", "",
          keys_table({{"kind", "`\"max_ce\"`", one_of(train::losses()), "below"}},
                     {infos(train::loss_params())}));
  names("Losses", losses);

  section("`[optimizer]`", "",
          keys_table({{"kind", "`\"adam\"`", one_of(train::optimizers()), "below"},
                      {"schedule", "`\"none\"`", one_of(train::schedules()),
                       "learning rate per epoch (below)"}},
                     {infos(train::optimizer_params())}));
  names("Optimizers", markdown_names(train::optimizers()));
  names("Schedules", markdown_names(train::schedules()));

  section("`[training]`", "",
          keys_table({{"gradient", "`\"bptt\"`", one_of(train::gradient_methods()), "below"},
                      {"feedback", "`\"symmetric\"`", one_of(train::feedback_kinds()),
                       "e-prop only (an error with `\"bptt\"`)"}},
                     {infos(training_params())}));
  names("Gradient methods", markdown_names(train::gradient_methods()));
  names("Feedback", markdown_names(train::feedback_kinds()));

  section("`[evolution]`", "Used by `volley evolve`.",
          keys_table({{"kind", "`\"openai_es\"`", one_of(train::evolution_kinds()), "below"}},
                     {infos(train::evolution_params())}));
  names("Evolution strategies", markdown_names(train::evolution_kinds()));

  section("`[reservoir]`", "Used by `volley reservoir`.",
          keys_table({{"memory_capacity", "false", kFlag,
                       "also measure Jaeger's memory capacity of the reservoir"}},
                     {infos(reservoir_params())}));

  section("`[twin]`",
          "The non-spiking twin (include/volley/train/twin.hpp): the same network with relu units "
          "in place of the spiking layers, trained by the same engine (`volley train --twin ann` "
          "sets kind).",
          keys_table({{"kind", "`\"snn\"`", one_of(train::twin_kinds()), "below"},
                      {"leaky", "false", kFlag,
                       "the relu units integrate with the spiking layer's tau_mem"}},
                     {infos(twin_params())}));
  names("Twins", markdown_names(train::twin_kinds()));

  section("`[rewiring]`",
          "Rewiring while training (include/volley/train/rewiring.hpp): Deep R on every sparse "
          "weight matrix (a layer's `density` or `recurrent_density` below 1 sets its budget).",
          keys_table({{"kind", "`\"none\"`", one_of(train::rewiring_kinds()), "below"},
                      {"budget", "`\"global\"`", "`\"global\"` or `\"per_matrix\"`",
                       "activated synapses go anywhere (the budget flows between matrices) or "
                       "back into the matrix that lost them"},
                      {"l1_mode", "`\"gradient\"`", one_of(train::l1_modes()), "below"}},
                     {infos(train::rewiring_params())}));
  names("Rewiring", markdown_names(train::rewiring_kinds()));
  names("L1 modes", markdown_names(train::l1_modes()));
  return md;
}

TrainConfig load_train_config(const std::string& path, const TrainOptions& options) {
  const std::string text = read_text(path, "training file");
  return load(text, Source{path, fs::path(path).parent_path(), nullptr}, options);
}

TrainConfig load_train_string(const std::string& text, const std::string& display_name,
                              const TrainOptions& options) {
  const std::string name = display_name.empty() ? "<string>" : display_name;
  return load(text, Source{name, fs::path(name).parent_path(), nullptr}, options);
}

std::vector<std::string> class_names(const DataConfig& data) {
  if (data.kind == DataConfig::Kind::fashion_mnist)
    return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return {};
}

DataSets load_data(const TrainConfig& cfg) {
  DataSets out;
  const DataConfig& d = cfg.data;
  if (d.kind == DataConfig::Kind::fashion_mnist) {
    auto make = [&](bool train_split, std::size_t limit) {
      train::ImageSet set = train::load_fashion_mnist(d.path, train_split, limit);
      return std::make_unique<train::ImageSource>(
          std::move(set), d.encoder,
          fmt::format("fashion-mnist {} ({})", train_split ? "train" : "test", d.path));
    };
    out.train = make(true, d.train_limit);
    out.test = make(false, d.test_limit);
    return out;
  }
  if (d.kind == DataConfig::Kind::arrays)
    throw ConfigError(fmt::format(
        "{}: data.dataset = \"arrays\": the samples come from the program that runs this file "
        "(volley.train(..., data=...) in Python); they cannot be loaded from the file",
        cfg.path));
  if (d.kind == DataConfig::Kind::ipd) {
    ear::IpdTaskConfig c = d.ipd;
    c.steps = cfg.net.n_steps;
    c.seed = cfg.training.seed;
    c.samples = d.train_limit ? std::min(d.train_limit, c.samples) : c.samples;
    out.train = std::make_unique<ear::IpdSource>(c, "ipd task (train)");
    c.seed = cfg.training.seed + 0x9E3779B97F4A7C15ull;  // a disjoint test set
    c.samples = d.test_limit ? std::min(d.test_limit, d.ipd_test_samples) : d.ipd_test_samples;
    out.test = std::make_unique<ear::IpdSource>(c, "ipd task (test)");
    return out;
  }
#ifdef VOLLEY_HAVE_HDF5
  ShdOptions so;
  so.dt = cfg.net.dt;
  so.n_steps = cfg.net.n_steps;
  so.n_inputs = d.n_inputs;
  so.n_classes = d.n_classes;
  so.limit = d.train_limit;
  out.train = read_shd(d.train_file, so);
  so.limit = d.test_limit;
  out.test = read_shd(d.test_file, so);
  return out;
#else
  throw ConfigError(fmt::format("{}: data.dataset = \"shd\" needs HDF5; rebuild with VOLLEY_HDF5=ON",
                                cfg.path));
#endif
}

}  // namespace volley::io

// Training files: TOML -> TrainConfig. See docs/training-format.md for the schema.
#include "volley/io/train_config.hpp"

#include <cmath>
#include <filesystem>

#include "toml_table.hpp"
#include "volley/error.hpp"
#include "volley/train/eprop.hpp"
#include "volley/train/idx.hpp"
#ifdef VOLLEY_HAVE_HDF5
#include "volley/io/shd.hpp"
#endif

namespace volley::io {
namespace {

using namespace detail;

constexpr std::int64_t kMaxSize = std::numeric_limits<std::uint32_t>::max();

template <class E>
E choice(const Field& f, std::initializer_list<std::pair<std::string_view, E>> options) {
  const std::string s = f.string();
  std::string names;
  for (const auto& [name, value] : options) {
    if (s == name) return value;
    names += fmt::format("{}'{}'", names.empty() ? "" : ", ", name);
  }
  f.fail(fmt::format("unknown value '{}' (expected one of {})", s, names));
}

std::size_t count(Table& t, std::string_view key, std::size_t fallback, std::int64_t min = 0) {
  if (auto f = t.get(key)) return static_cast<std::size_t>(f->integer(min, kMaxSize));
  return fallback;
}

double number(Table& t, std::string_view key, double fallback, double lo, double hi,
              std::string_view rule) {
  if (auto f = t.get(key)) {
    const double x = f->number();
    if (!(x >= lo && x <= hi) || !std::isfinite(x)) f->fail(fmt::format("must be {}, got {}", rule, x));
    return x;
  }
  return fallback;
}

bool flag(Table& t, std::string_view key, bool fallback) {
  if (auto f = t.get(key)) return f->boolean();
  return fallback;
}

void read_data(Table t, DataConfig& d, double dt) {
  d.kind = choice<DataConfig::Kind>(t.need("dataset"), {{"fashion-mnist", DataConfig::Kind::fashion_mnist},
                                                        {"shd", DataConfig::Kind::shd},
                                                        {"ipd", DataConfig::Kind::ipd}});
  d.train_limit = count(t, "train_limit", 0);
  d.test_limit = count(t, "test_limit", 0);
  if (d.kind == DataConfig::Kind::fashion_mnist) {
    d.path = train::kFashionMnistDir;
    if (auto f = t.get("path")) d.path = f->path();
    const auto enc = t.get("encoding");
    d.encoder.kind = enc ? choice<train::EncoderConfig::Kind>(
                               *enc, {{"latency", train::EncoderConfig::Kind::latency},
                                      {"poisson", train::EncoderConfig::Kind::poisson}})
                         : train::EncoderConfig::Kind::latency;
    if (auto f = t.get("tau_eff")) d.encoder.tau_eff = f->quantity(Dimension::seconds(), Bound::kPositive) / dt;
    d.encoder.threshold = number(t, "threshold", 0.2, 1e-9, 1.0 - 1e-9, "in (0, 1)");
    if (auto f = t.get("max_rate")) {
      const double p = f->quantity(Dimension::hertz(), Bound::kPositive) * dt;
      if (p > 1.0) f->fail(fmt::format("is {} spikes per step at dt; must be at most 1 per step", p));
      d.encoder.max_rate = p;
    }
  } else if (d.kind == DataConfig::Kind::ipd) {
    ear::IpdTaskConfig& c = d.ipd;
    c.fibres = count(t, "fibres", c.fibres, 1);
    if (auto f = t.get("rate_max")) {
      c.rate_max = f->quantity(Dimension::hertz(), Bound::kPositive);
      if (c.rate_max * dt > 1.0) f->fail("is more than one spike per step of dt");
    }
    if (auto f = t.get("frequency")) c.frequency = f->quantity(Dimension::hertz(), Bound::kPositive);
    c.power = number(t, "power", c.power, 1e-12, 1e12, "> 0");
    c.classes = count(t, "classes", c.classes, 2);
    c.samples = count(t, "train_samples", c.samples, 1);
    d.ipd_test_samples = count(t, "test_samples", d.ipd_test_samples, 1);
    c.dt = dt;
  } else {
    d.train_file = t.need("train").path();
    d.test_file = t.need("test").path();
    d.n_inputs = count(t, "inputs", 700, 1);
    d.n_classes = count(t, "classes", 20, 1);
  }
  t.finish();
}

train::LayerConfig read_layer(Table t, bool last) {
  train::LayerConfig c;
  c.kind = choice<train::LayerKind>(t.need("type"), {{"lif", train::LayerKind::lif},
                                                     {"alif", train::LayerKind::alif},
                                                     {"readout", train::LayerKind::readout}});
  if (c.kind == train::LayerKind::readout && !last)
    t.fail("a readout layer must be the last layer");
  c.size = static_cast<std::size_t>(t.need("size").integer(1, kMaxSize));
  t.read("tau_mem", c.tau_mem, Dimension::seconds(), Bound::kPositive);
  t.read("tau_syn", c.tau_syn, Dimension::seconds(), Bound::kNonNegative);
  c.learn_tau = flag(t, "learn_tau", false);
  c.density = number(t, "density", 1.0, 1e-12, 1.0, "in (0, 1]");
  c.weight_scale = number(t, "weight_scale", 7.0, 0.0, 1e12, ">= 0");
  if (c.kind != train::LayerKind::readout) {
    c.threshold = number(t, "threshold", 1.0, 1e-12, 1e12, "> 0");
    if (auto f = t.get("reset"))
      c.reset = choice<train::ResetMode>(*f, {{"multiply", train::ResetMode::multiply},
                                              {"subtract", train::ResetMode::subtract},
                                              {"none", train::ResetMode::none}});
    c.detach_reset = flag(t, "detach_reset", true);
    c.recurrent = flag(t, "recurrent", false);
    c.recurrent_density = number(t, "recurrent_density", 1.0, 1e-12, 1.0, "in (0, 1]");
    c.recurrent_scale = number(t, "recurrent_scale", c.weight_scale, 0.0, 1e12, ">= 0");
  }
  if (c.kind == train::LayerKind::alif) {
    t.read("tau_adapt", c.tau_adapt, Dimension::seconds(), Bound::kPositive);
    c.adapt_strength = number(t, "adapt_strength", 1.8, 0.0, 1e12, ">= 0");
  }
  t.finish();
  return c;
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
  top.finish();
  if (!data) top.missing("data", "add a [data] table, e.g. dataset = \"fashion-mnist\"");
  if (!layers) top.missing("layers", "add [[layers]] tables, the last of type \"readout\"");

  train::NetConfig& net = cfg.net;
  if (network) {
    Table t = network->table();
    t.read("dt", net.dt, Dimension::seconds(), Bound::kPositive);
    net.n_steps = count(t, "steps", 100, 1);
    net.seed = count(t, "seed", 1);
    t.finish();
  } else {
    net.n_steps = 100;
  }
  read_data(data->table(), cfg.data, net.dt);
  cfg.data.encoder.n_steps = net.n_steps;

  const auto elements = layers->elements();
  if (elements.empty()) layers->fail("needs at least one layer");
  for (std::size_t i = 0; i < elements.size(); ++i)
    net.layers.push_back(read_layer(elements[i].table(), i + 1 == elements.size()));

  if (surrogate) {
    Table t = surrogate->table();
    if (auto f = t.get("kind"))
      net.surrogate.kind = choice<train::SurrogateKind>(
          *f, {{"fast_sigmoid", train::SurrogateKind::fast_sigmoid},
               {"sigmoid", train::SurrogateKind::sigmoid},
               {"arctan", train::SurrogateKind::arctan},
               {"triangle", train::SurrogateKind::triangle}});
    net.surrogate.scale = static_cast<float>(number(t, "scale", 100.0, 1e-12, 1e12, "> 0"));
    if (auto f = t.get("forward"))
      net.forward = choice<train::ForwardMode>(*f, {{"heaviside", train::ForwardMode::heaviside},
                                                    {"smooth", train::ForwardMode::smooth}});
    net.smooth_scale = number(t, "smooth_scale", 10.0, 1e-12, 1e12, "> 0");
    t.finish();
  }
  if (backward) {
    Table t = backward->table();
    if (auto f = t.get("mode"))
      net.backward = choice<train::BackwardMode>(*f, {{"dense", train::BackwardMode::dense},
                                                      {"sparse", train::BackwardMode::sparse}});
    net.window = number(t, "window", net.window, 0.0, 1e30, ">= 0 (0 = unbounded)");
    t.finish();
  }
  if (loss) {
    Table t = loss->table();
    if (auto f = t.get("kind"))
      cfg.loss.kind = choice<train::LossKind>(*f, {{"max_ce", train::LossKind::max_ce},
                                                   {"mean_ce", train::LossKind::mean_ce},
                                                   {"last_ce", train::LossKind::last_ce},
                                                   {"count_ce", train::LossKind::count_ce},
                                                   {"count_mse", train::LossKind::count_mse}});
    cfg.loss.r_correct = number(t, "r_correct", 0.8, 0.0, 1.0, "in [0, 1]");
    cfg.loss.r_incorrect = number(t, "r_incorrect", 0.2, 0.0, 1.0, "in [0, 1]");
    cfg.loss.reg_l1 = number(t, "reg_l1", 0.0, 0.0, 1e30, ">= 0");
    cfg.loss.reg_l2 = number(t, "reg_l2", 0.0, 0.0, 1e30, ">= 0");
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
    if (auto f = t.get("kind"))
      o.kind = choice<train::OptimizerKind>(*f, {{"adam", train::OptimizerKind::adam},
                                                 {"adamax", train::OptimizerKind::adamax},
                                                 {"sgd", train::OptimizerKind::sgd}});
    o.lr = number(t, "lr", o.lr, 1e-30, 1e30, "> 0");
    o.beta1 = number(t, "beta1", o.beta1, 0.0, 1.0 - 1e-12, "in [0, 1)");
    o.beta2 = number(t, "beta2", o.beta2, 0.0, 1.0 - 1e-12, "in [0, 1)");
    o.eps = number(t, "eps", o.eps, 1e-300, 1.0, "in (0, 1]");
    o.momentum = number(t, "momentum", o.momentum, 0.0, 1.0 - 1e-12, "in [0, 1)");
    o.weight_decay = number(t, "weight_decay", 0.0, 0.0, 1e30, ">= 0");
    if (auto f = t.get("schedule"))
      o.schedule = choice<train::Schedule>(*f, {{"none", train::Schedule::none},
                                                {"step", train::Schedule::step},
                                                {"cosine", train::Schedule::cosine}});
    o.step_size = static_cast<int>(count(t, "step_size", 10, 1));
    o.gamma = number(t, "gamma", 0.1, 1e-30, 1e30, "> 0");
    o.lr_min = number(t, "lr_min", 0.0, 0.0, o.lr, "in [0, lr]");
    t.finish();
  }
  train::TrainSettings& s = cfg.training;
  std::optional<Field> gradient_field;
  if (training) {
    Table t = training->table();
    s.epochs = static_cast<int>(count(t, "epochs", 30, 0));
    s.batch_size = count(t, "batch_size", 256, 1);
    s.threads = static_cast<int>(count(t, "threads", 1, 1));
    s.seed = count(t, "seed", 1);
    if (auto f = t.get("gradient")) {
      s.gradient = choice<train::GradientKind>(*f, {{"bptt", train::GradientKind::bptt},
                                                    {"eprop", train::GradientKind::eprop}});
      gradient_field = *f;
    }
    if (auto f = t.get("feedback")) {
      s.feedback = choice<train::FeedbackKind>(*f, {{"symmetric", train::FeedbackKind::symmetric},
                                                    {"random", train::FeedbackKind::random}});
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
    if (auto f = t.get("kind"))
      ev.kind = choice<train::EvolutionKind>(*f, {{"openai_es", train::EvolutionKind::openai_es},
                                                  {"sep_cmaes", train::EvolutionKind::sep_cmaes}});
    if (auto f = t.get("population")) {
      ev.population = static_cast<std::size_t>(f->integer(4, 100000));
      if (ev.kind == train::EvolutionKind::openai_es && ev.population % 2 != 0)
        f->fail("must be even for antithetic sampling (openai_es)");
    }
    ev.sigma = number(t, "sigma", ev.sigma, 1e-12, 1e6, "> 0");
    ev.batch_size = count(t, "batch_size", ev.batch_size, 1);
    ev.generations = count(t, "generations", ev.generations, 1);
    t.finish();
  }
  if (reservoir) {
    Table t = reservoir->table();
    cfg.reservoir.ridge = number(t, "ridge", cfg.reservoir.ridge, 0.0, 1e30, ">= 0");
    cfg.reservoir.time_bins = count(t, "time_bins", cfg.reservoir.time_bins, 1);
    cfg.memory_capacity = flag(t, "memory_capacity", cfg.memory_capacity);
    t.finish();
  }
  if (opt.seed) s.seed = net.seed = *opt.seed;
  if (opt.threads) s.threads = *opt.threads;
  if (opt.epochs) s.epochs = *opt.epochs;
  if (opt.train_limit) cfg.data.train_limit = *opt.train_limit;
  if (opt.test_limit) cfg.data.test_limit = *opt.test_limit;
  cfg.data.encoder.seed = s.seed;
  ev.seed = s.seed;
  ev.threads = s.threads;
  cfg.reservoir.threads = s.threads;
  try {
    if (s.threads < 1) throw ParameterError("training: threads must be >= 1");
    if (s.epochs < 0) throw ParameterError("training: epochs must be >= 0");
    net.n_inputs = cfg.data.kind == DataConfig::Kind::shd   ? cfg.data.n_inputs
                   : cfg.data.kind == DataConfig::Kind::ipd ? 2 * cfg.data.ipd.fibres
                                                            : 784;
    net.validate();
    o.validate();
  } catch (const ParameterError& e) {
    throw ConfigError(fmt::format("{}: {}", src.name, e.what()));
  }
  return cfg;
}

}  // namespace

TrainConfig load_train_config(const std::string& path, const TrainOptions& options) {
  const std::string text = read_text(path, "training file");
  return load(text, Source{path, fs::path(path).parent_path(), nullptr}, options);
}

TrainConfig load_train_string(const std::string& text, const std::string& display_name,
                              const TrainOptions& options) {
  const std::string name = display_name.empty() ? "<string>" : display_name;
  return load(text, Source{name, fs::path(name).parent_path(), nullptr}, options);
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

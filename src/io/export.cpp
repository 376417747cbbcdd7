#include "volley/io/export.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/atomic_file.hpp"
#include "hdf5_util.hpp"
#include "volley/error.hpp"
#include "volley/io/model_file.hpp"
#include "volley/io/synapse_file.hpp"
#include "volley/monitors.hpp"
#include "volley/network.hpp"

namespace volley::io {
namespace {

// A time in seconds as the shortest text that reads back as the same double.
std::string seconds(double s) { return fmt::format("\"{} s\"", s); }

std::string layer_name(std::size_t l) { return fmt::format("layer{}", l); }

// The synapses of a weight matrix; with `copies` > 1, presynaptic neuron i·copies + c − 1 carries
// c·w (c = 1 .. copies), the product the trainer forms for an input of value c.
SynapseTable synapses_of(const train::WeightLayout& W, const std::vector<float>& value,
                         std::uint32_t copies) {
  SynapseTable t;
  t.pre.reserve(W.size() * copies);
  t.post.reserve(W.size() * copies);
  t.weight.reserve(W.size() * copies);
  for (std::size_t i = 0; i < W.n_pre; ++i) {
    const std::size_t b = W.dense ? i * W.n_post : W.row_ptr[i];
    const std::size_t e = W.dense ? (i + 1) * W.n_post : W.row_ptr[i + 1];
    for (std::uint32_t c = 1; c <= copies; ++c)
      for (std::size_t k = b; k < e; ++k) {
        t.pre.push_back(static_cast<std::uint32_t>(i * copies + c - 1));
        t.post.push_back(static_cast<std::uint32_t>(W.dense ? k - b : W.cols[k]));
        t.weight.push_back(static_cast<float>(c) * value[k]);
      }
  }
  return t;
}

// The time constants that give a layer's decay factors: empty when every neuron has the one the
// layer's configured τ gives, else one τ per neuron (learn_tau), chosen so that the simulator's
// float(exp(−dt/τ)) is the trained factor to the bit. Throws ConfigError when no τ gives it.
std::vector<double> per_neuron_tau(const train::Net& net, std::size_t l, std::size_t param,
                                   double tau, const char* what) {
  const double dt = net.config().dt;
  const auto& values = net.params()[param].value;
  const float expected = decay_factor(dt, tau);
  if (std::all_of(values.begin(), values.end(), [&](float x) { return x == expected; })) return {};
  std::vector<double> taus(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const float x = values[i];
    taus[i] = x > 0.0f && x < 1.0f ? -dt / std::log(static_cast<double>(x)) : 0.0;
    if (!(taus[i] > 0.0) || decay_factor(dt, taus[i]) != x)
      throw ConfigError(fmt::format(
          "layer {}: neuron {} has the learned {} factor {}, which no time constant reproduces "
          "in the simulator; it cannot be exported",
          l, i, what, x));
  }
  return taus;
}

// The input spikes in the spikes.h5 layout (/input/times in s, /input/units, attribute size).
void write_input_spikes(const std::string& path, const std::vector<double>& times,
                        const std::vector<std::uint32_t>& units, std::size_t size, double duration,
                        double dt) {
  hdf5::quiet();
  detail::replace_file_atomically(path, [&](const std::string& tmp) {
    hdf5::Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose,
                      fmt::format("cannot create '{}'", path));
    hdf5::scalar_attribute(file, "duration", H5T_NATIVE_DOUBLE, duration);
    hdf5::scalar_attribute(file, "dt", H5T_NATIVE_DOUBLE, dt);
    hdf5::Handle g = hdf5::group(file, "input");
    hdf5::scalar_attribute(g, "size", H5T_NATIVE_UINT64, static_cast<std::uint64_t>(size));
    hdf5::write_dataset(g, "times", H5T_NATIVE_DOUBLE, times, {}, "s");
    hdf5::write_dataset(g, "units", H5T_NATIVE_UINT32, units, {});
  });
}

void sample_range(const data::EventSource& data, const ExportOptions& o, std::size_t& first,
                  std::size_t& count) {
  first = o.first;
  if (first >= data.size())
    throw ParameterError(fmt::format("sample {} is outside the data ({} samples in {})", first,
                                     data.size(), data.description()));
  count = o.count == 0 ? data.size() - first : o.count;
  if (count > data.size() - first)
    throw ParameterError(fmt::format("samples {}..{} exceed the data ({} samples in {})", first,
                                     first + count - 1, data.size(), data.description()));
}

}  // namespace

ExportLayout export_network(const train::Net& net, const data::EventSource& data,
                            const ExportOptions& options, const std::string& dir) {
  const train::NetConfig& c = net.config();
  if (c.forward == train::ForwardMode::smooth)
    throw ConfigError(
        "the network was trained with the smooth forward mode (sigmoid outputs instead of "
        "spikes); only spiking networks (forward = \"heaviside\") can be exported");
  if (net.is_ann())
    throw ConfigError(
        "the checkpoint is an ANN twin (relu units, trained with --twin ann); only spiking "
        "networks can be exported");
  if (data.n_inputs() != c.n_inputs)
    throw ConfigError(fmt::format("the data have {} inputs but the network {}", data.n_inputs(),
                                  c.n_inputs));
  if (data.n_steps() != c.n_steps)
    throw ConfigError(fmt::format("the data have {} steps per sample but the network {}",
                                  data.n_steps(), c.n_steps));
  const std::size_t L = c.layers.size();
  // Synaptic delays: whole steps only (the simulator's delay queue); extra steps between samples
  // so that events delayed past a sample's end arrive before the next sample's reset.
  std::size_t delay_slack = 0;
  for (std::size_t l = 0; l < L; ++l) {
    const train::DelayTaps* D = net.delay_taps(l);
    if (!D) continue;
    if (D->width > 1)
      throw ConfigError(fmt::format(
          "layer {}: the delays are still spread over {} steps (σ = {} steps): the simulator "
          "delivers each spike after one whole delay; train until delay_anneal has passed (σ "
          "reaches 0, the delays are rounded) before exporting",
          l, D->width, D->sigma));
    delay_slack += D->window - 1;
  }
  // Learned per-neuron values (time constants, thresholds, adaptation), by dataset name.
  std::vector<std::pair<std::string, NeuronValues>> taus;
  std::vector<std::vector<std::string>> per_neuron_keys(L);
  for (std::size_t l = 0; l < L; ++l) {
    const train::LayerConfig& lc = c.layers[l];
    auto add = [&](const char* key, std::vector<double> v, const char* unit) {
      if (v.empty()) return;
      per_neuron_keys[l].push_back(key);
      taus.emplace_back(fmt::format("neurons/{}.{}", layer_name(l), key),
                        NeuronValues{std::move(v), unit});
    };
    // The values of a parameter, or none when every neuron has the configured one.
    auto values = [&](std::size_t param, double configured) {
      const auto& x = net.params()[param].value;
      const float expected = static_cast<float>(configured);
      if (std::all_of(x.begin(), x.end(), [&](float v) { return v == expected; }))
        return std::vector<double>{};
      return std::vector<double>(x.begin(), x.end());
    };
    add("tau_mem", per_neuron_tau(net, l, net.beta_param(l), lc.tau_mem, "membrane (β)"), "s");
    if (lc.tau_syn > 0.0)
      add("tau_syn", per_neuron_tau(net, l, net.alpha_param(l), lc.tau_syn, "synaptic (α)"), "s");
    if (net.threshold_param(l) != train::Net::kNone)
      add("threshold", values(net.threshold_param(l), lc.threshold), "1");
    if (lc.kind == train::LayerKind::adlif) {
      add("tau_adapt",
          per_neuron_tau(net, l, net.adlif_rho_param(l), lc.tau_adapt, "adaptation (ρ)"), "s");
      add("adapt_coupling", values(net.adlif_a_param(l), lc.adapt_coupling), "1");
      add("adapt_strength", values(net.adlif_b_param(l), lc.adapt_strength), "1");
    }
  }
  std::size_t first = 0, count = 0;
  sample_range(data, options, first, count);

  ExportLayout layout;
  std::vector<double> in_times;
  std::vector<std::uint32_t> in_units;
  layout.dt = c.dt;
  layout.steps = c.n_steps;
  layout.layers = L;
  layout.window = c.n_steps + L + 1 + delay_slack;

  // Input spikes, sample after sample. An input event of value c (a count of spikes in the
  // step, as binned spike data have) becomes a spike of input neuron u·K + c − 1, K the largest
  // count, whose synapses carry c·w: the layer then adds c·w once, as the trainer does.
  data::SampleEvents ev;
  std::vector<std::uint32_t> seen(c.n_inputs, 0);
  std::uint32_t copies = 1;
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t k = 0; k < count; ++k) {
      const std::size_t s = first + k;
      data.fill(s, 0, ev);
      for (std::size_t t = 0; t < ev.n_steps(); ++t) {
        const auto stamp = static_cast<std::uint32_t>((pass * count + k) * c.n_steps + t + 1);
        for (std::uint32_t e = ev.offsets[t]; e < ev.offsets[t + 1]; ++e) {
          const std::uint32_t u = ev.units[e];
          const float v = ev.values[e];
          if (!(v >= 1.0f && v <= 255.0f && v == std::floor(v)) || seen[u] == stamp)
            throw ConfigError(fmt::format(
                "sample {} has input {} at step {} with value {}{}; the simulator's spike "
                "generator emits spikes, so only inputs that are whole spike counts (1 to 255, "
                "one event per unit and step) can be exported",
                s, u, t, v, seen[u] == stamp ? " more than once" : ""));
          seen[u] = stamp;
          const auto n = static_cast<std::uint32_t>(v);
          if (pass == 0) {
            copies = std::max(copies, n);
          } else {
            in_times.push_back(static_cast<double>(k * layout.window + t) * c.dt);
            in_units.push_back(u * copies + n - 1);
          }
        }
      }
      if (pass == 1) {
        layout.samples.push_back(s);
        layout.labels.push_back(data.label(s));
      }
    }
  }
  layout.input_copies = copies;

  // Weights.
  std::vector<std::pair<std::string, SynapseTable>> groups;
  for (std::size_t l = 0; l < L; ++l) {
    const auto& W = net.input_weights(l);
    SynapseTable st = synapses_of(W, net.params()[W.param].value, l == 0 ? copies : 1);
    if (const train::DelayTaps* D = net.delay_taps(l)) {
      // The trainer's delay of d steps is the simulator's 1 + d (one step is the layer's own).
      const std::uint32_t cp = l == 0 ? copies : 1;
      st.delay.reserve(st.pre.size());
      for (std::size_t i = 0; i < W.n_pre; ++i) {
        const std::size_t b = W.dense ? i * W.n_post : W.row_ptr[i];
        const std::size_t e = W.dense ? (i + 1) * W.n_post : W.row_ptr[i + 1];
        for (std::uint32_t cc = 0; cc < cp; ++cc)
          for (std::size_t k = b; k < e; ++k)
            st.delay.push_back(static_cast<double>(1 + D->start[k]) * c.dt);
      }
    }
    groups.emplace_back(layer_name(l) + ".w", std::move(st));
    if (c.layers[l].recurrent) {
      const auto& V = net.recurrent_weights(l);
      groups.emplace_back(layer_name(l) + ".v", synapses_of(V, net.params()[V.param].value, 1));
    }
  }

  // The model file.
  std::string m = fmt::format(
      "# A trained network exported by `volley export`{}.\n"
      "# {} sample(s) of {}, one every {} steps; see export.json and docs/export.md.\n"
      "# Layer l does the trainer's step t of sample k at simulation step k*{} + t + l + 1.\n\n"
      "[simulation]\ndt = {}\nduration = {}\n\n",
      options.source.empty() ? "" : " from " + options.source, count, data.description(),
      layout.window, layout.window, seconds(c.dt), seconds(layout.duration()));
  m += fmt::format("[populations.input]\nmodel = \"spike_generator\"\nfile = \"input.h5\"\n"
                   "population = \"input\"\nsize = {}\n{}\n",
                   c.n_inputs * copies,
                   copies == 1 ? std::string()
                               : fmt::format("# neuron u*{0} + c - 1 is input u with c spikes in the "
                                             "step; its synapses carry c*w\n",
                                             copies));
  for (std::size_t l = 0; l < L; ++l) {
    const train::LayerConfig& lc = c.layers[l];
    m += fmt::format("[populations.{}]\nmodel = \"discrete_lif\"\ntype = \"{}\"\nsize = {}\n",
                     layer_name(l), train::layer_kinds().name_of(lc.kind), lc.size);
    // `key = value`, or the per-neuron dataset when the value was learned.
    auto key_line = [&](const char* key, const std::string& value) {
      const auto& keys = per_neuron_keys[l];
      if (std::find(keys.begin(), keys.end(), key) == keys.end())
        m += fmt::format("{} = {}\n", key, value);
      else
        m += fmt::format("{0} = {{ file = \"synapses.h5\", dataset = \"neurons/{1}.{0}\" }}\n",
                         key, layer_name(l));
    };
    key_line("tau_mem", seconds(lc.tau_mem));
    key_line("tau_syn", seconds(lc.tau_syn));
    if (lc.kind != train::LayerKind::readout) {
      m += fmt::format("reset = \"{}\"\n", train::reset_modes().name_of(lc.reset));
      key_line("threshold", fmt::format("{}", lc.threshold));
    }
    if (lc.kind == train::LayerKind::alif || lc.kind == train::LayerKind::adlif) {
      key_line("tau_adapt", seconds(lc.tau_adapt));
      key_line("adapt_strength", fmt::format("{}", lc.adapt_strength));
    }
    if (lc.kind == train::LayerKind::adlif)
      key_line("adapt_coupling", fmt::format("{}", lc.adapt_coupling));
    m += fmt::format("reset_every = {}\n\n", seconds(c.dt * static_cast<double>(layout.window)));
  }
  for (std::size_t l = 0; l < L; ++l) {
    const std::string src = l == 0 ? "input" : layer_name(l - 1);
    m += fmt::format(
        "[projections.{0}_w]\nsource = \"{1}\"\ntarget = \"{0}\"\nchannel = \"in\"\n"
        "synapses = {{ file = \"synapses.h5\", group = \"{0}.w\" }}\n{2}\n",
        layer_name(l), src,
        net.delay_taps(l) ? "# each synapse's delay is in the file (learned delays + one step)\n"
                          : "delay = " + seconds(c.dt) + "\n");
    if (c.layers[l].recurrent)
      m += fmt::format(
          "[projections.{0}_v]\nsource = \"{0}\"\ntarget = \"{0}\"\nchannel = \"in\"\n"
          "synapses = {{ file = \"synapses.h5\", group = \"{0}.v\" }}\ndelay = {1}\n\n",
          layer_name(l), seconds(c.dt));
  }
  for (std::size_t l = 0; l < L; ++l) {
    if (c.layers[l].kind == train::LayerKind::readout) {
      std::string idx;
      for (std::size_t j = 0; j < c.layers[l].size; ++j) idx += fmt::format("{}{}", j ? ", " : "", j);
      m += fmt::format(
          "[monitors.{0}_v]\ntype = \"state\"\npopulation = \"{0}\"\nvariables = [\"v\"]\n"
          "indices = [{1}]\n\n",
          layer_name(l), idx);
    } else {
      m += fmt::format("[monitors.{0}_spikes]\ntype = \"spikes\"\npopulation = \"{0}\"\n\n",
                       layer_name(l));
    }
  }

  nlohmann::json j = {{"source", options.source},
                      {"data", data.description()},
                      {"dt", c.dt},
                      {"steps_per_sample", layout.steps},
                      {"layers", layout.layers},
                      {"window_steps", layout.window},
                      {"input_copies", copies},
                      {"samples", layout.samples},
                      {"labels", layout.labels},
                      {"timing",
                       "sample k starts at step k*window_steps; layer l does its step t at "
                       "k*window_steps + t + l + 1; a readout's y_t is its v recorded at "
                       "k*window_steps + t + layers + 1"}};

  std::filesystem::create_directories(dir);
  const std::filesystem::path d(dir);
  write_synapses((d / "synapses.h5").string(), groups, taus);
  write_input_spikes((d / "input.h5").string(), in_times, in_units, c.n_inputs * copies,
                     layout.duration(), c.dt);
  detail::write_file_atomically((d / "export.json").string(), j.dump(2) + "\n");
  detail::write_file_atomically((d / "model.toml").string(), m);
  return layout;
}

ExportCheck check_export(const train::Net& net, const train::LossConfig& loss,
                         const data::EventSource& data, const ExportLayout& layout,
                         const std::string& dir, int threads,
                         const std::vector<std::string>& overrides) {
  const train::NetConfig& c = net.config();
  const std::size_t L = c.layers.size(), T = c.n_steps, W = layout.window;
  LoadOptions lo;
  lo.threads = threads;
  lo.overrides = overrides;
  LoadedModel model = load_model_file((std::filesystem::path(dir) / "model.toml").string(), lo);
  Network& sim = *model.network;
  ExportCheck out;
  out.samples = layout.samples.size();
  auto t0 = std::chrono::steady_clock::now();
  sim.run(model.duration, RunOptions{threads});
  out.simulate_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // The simulator's spikes per layer as (step, neuron), in time order.
  std::vector<std::vector<std::pair<std::uint64_t, std::uint32_t>>> sim_spikes(L);
  const StateMonitor* readout = nullptr;
  for (std::size_t l = 0; l < L; ++l) {
    const std::string name = layer_name(l);
    if (c.layers[l].kind == train::LayerKind::readout) {
      for (const auto& sm : sim.state_monitors())
        if (sm->name() == name + "_v") readout = sm.get();
      continue;
    }
    for (const auto& sm : sim.spike_monitors())
      if (sm->name() == name + "_spikes")
        for (std::size_t k = 0; k < sm->times.size(); ++k)
          sim_spikes[l].emplace_back(
              static_cast<std::uint64_t>(std::llround(sm->times[k] / c.dt)), sm->units[k]);
  }
  std::vector<std::size_t> cursor(L, 0);

  train::Workspace ws;
  train::SampleRecord rec, simrec;
  simrec.layers.resize(L);
  data::SampleEvents ev;
  double trainer_seconds = 0.0;
  for (std::size_t k = 0; k < layout.samples.size(); ++k) {
    const std::size_t s = layout.samples[k];
    data.fill(s, 0, ev);
    t0 = std::chrono::steady_clock::now();
    net.forward(ev, rec, ws, false);
    trainer_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::uint64_t base = k * W;
    bool identical = true;
    for (std::size_t l = 0; l < L; ++l) {
      if (c.layers[l].kind == train::LayerKind::readout) continue;
      const train::LayerRecord& r = rec.layers[l];
      train::LayerRecord& sr = simrec.layers[l];
      sr.off.assign(T + 1, 0);
      sr.idx.clear();
      sr.val.clear();
      // The simulator's spikes of this sample's window: steps l+1 .. T+l are the trainer's
      // 0 .. T−1; earlier ones would be errors, later ones lie beyond the trainer's last step.
      std::vector<std::pair<std::size_t, std::uint32_t>> mine;
      auto& list = sim_spikes[l];
      std::size_t& i = cursor[l];
      for (; i < list.size() && list[i].first < base + W; ++i) {
        const std::uint64_t rel = list[i].first - base;
        if (rel < l + 1) {
          mine.emplace_back(T + 1, list[i].second);  // a spike before the first step: a mismatch
        } else if (rel <= T + l) {
          mine.emplace_back(rel - l - 1, list[i].second);
        }
      }
      std::vector<std::pair<std::size_t, std::uint32_t>> theirs;
      for (std::size_t t = 0; t < T; ++t)
        for (std::uint32_t e = r.off[t]; e < r.off[t + 1]; ++e) theirs.emplace_back(t, r.idx[e]);
      std::sort(mine.begin(), mine.end());
      out.trainer_spikes += theirs.size();
      out.simulator_spikes += mine.size();
      std::vector<std::pair<std::size_t, std::uint32_t>> diff;
      std::set_symmetric_difference(mine.begin(), mine.end(), theirs.begin(), theirs.end(),
                                    std::back_inserter(diff));
      out.spike_mismatches += diff.size();
      identical = identical && diff.empty();
      for (const auto& [t, j] : mine)
        if (t < T) {
          sr.idx.push_back(j);
          sr.val.push_back(1.0f);
          ++sr.off[t + 1];
        }
      for (std::size_t t = 0; t < T; ++t) sr.off[t + 1] += sr.off[t];
    }
    double sample_difference = 0.0;
    if (readout) {
      const std::size_t C = net.n_outputs();
      train::LayerRecord& sr = simrec.layers[L - 1];
      sr.y.assign(T * C, 0.0f);
      for (std::size_t t = 0; t < T; ++t) {
        const std::size_t row = base + t + L + 1;
        for (std::size_t j = 0; j < C; ++j) {
          const float y = readout->values[0][row * C + j];
          sr.y[t * C + j] = y;
          sample_difference = std::max(
              sample_difference, static_cast<double>(std::abs(y - rec.layers[L - 1].y[t * C + j])));
        }
      }
    }
    const int label = layout.labels[k];
    const int p_trainer = train::sample_loss(loss, net, rec, label, 1.0f, nullptr).predicted;
    const int p_sim = train::sample_loss(loss, net, simrec, label, 1.0f, nullptr).predicted;
    out.trainer_predicted.push_back(p_trainer);
    out.simulator_predicted.push_back(p_sim);
    out.prediction_agreements += p_trainer == p_sim;
    out.trainer_correct += p_trainer == label;
    out.simulator_correct += p_sim == label;
    out.max_output_difference = std::max(out.max_output_difference, sample_difference);
    out.samples_identical += identical && sample_difference == 0.0;
  }
  out.trainer_seconds = trainer_seconds;
  return out;
}

}  // namespace volley::io

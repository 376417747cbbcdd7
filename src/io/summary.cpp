// summary.json: run facts and per-population statistics.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "volley/error.hpp"
#include "volley/io/outputs.hpp"

namespace volley::io {

double mean_cv_isi(const std::vector<double>& times, const std::vector<std::uint32_t>& units) {
  // Spikes arrive sorted by time; per neuron, accumulate its intervals.
  struct Acc {
    double last = -1.0, sum = 0.0, sum2 = 0.0;
    std::size_t n = 0;
  };
  std::vector<Acc> acc;
  for (std::size_t k = 0; k < times.size(); ++k) {
    const std::uint32_t u = units[k];
    if (u >= acc.size()) acc.resize(u + 1);
    Acc& a = acc[u];
    if (a.last >= 0.0) {
      const double isi = times[k] - a.last;
      a.sum += isi;
      a.sum2 += isi * isi;
      ++a.n;
    }
    a.last = times[k];
  }
  double total = 0.0;
  std::size_t neurons = 0;
  for (const Acc& a : acc) {
    if (a.n < 2) continue;
    const double mean = a.sum / static_cast<double>(a.n);
    const double var = std::max(0.0, a.sum2 / static_cast<double>(a.n) - mean * mean);
    total += std::sqrt(var) / mean;
    ++neurons;
  }
  return neurons ? total / static_cast<double>(neurons) : std::numeric_limits<double>::quiet_NaN();
}

void write_summary(const std::string& path, const Network& net, const RunInfo& info) {
  nlohmann::ordered_json j;
  j["wall_seconds"] = info.wall_seconds;
  j["build_seconds"] = info.build_seconds;
  j["dt"] = net.dt();
  j["duration"] = info.duration;
  j["threads"] = info.threads;
  j["seed"] = net.seed();
  j["model"] = info.model_path;
  if (info.peak_rss_bytes) j["peak_rss_bytes"] = info.peak_rss_bytes;
  nlohmann::ordered_json pops = nlohmann::ordered_json::object();
  for (const auto& p : net.populations()) {
    nlohmann::ordered_json e;
    const auto spikes = net.spike_count(p->name());
    e["model"] = std::string(p->model());
    e["size"] = p->size();
    e["spikes"] = spikes;
    e["rate_hz"] = p->size() && info.duration > 0
                       ? static_cast<double>(spikes) / static_cast<double>(p->size()) / info.duration
                       : 0.0;
    e["cv_isi"] = nullptr;
    for (const auto& m : net.spike_monitors())
      if (&m->population() == p.get()) {
        const double cv = mean_cv_isi(m->times, m->units);
        if (std::isfinite(cv)) e["cv_isi"] = cv;
        break;
      }
    pops[p->name()] = std::move(e);
  }
  j["populations"] = std::move(pops);
  nlohmann::ordered_json projs = nlohmann::ordered_json::object();
  for (const auto& p : net.projections()) {
    projs[p->name()] = {{"synapses", p->synapse_count()},
                        {"bytes_per_synapse", p->bytes_per_synapse()},
                        {"memory_bytes", p->memory_bytes()}};
  }
  j["projections"] = std::move(projs);
  if (!net.modulators().empty()) {
    nlohmann::ordered_json mods = nlohmann::ordered_json::object();
    for (const auto& m : net.modulators())
      mods[m->name()] = {{"releases", m->releases()},
                         {"pending", m->pending()},
                         {"level_hz", m->level()},
                         {"release_times_s", m->release_times()}};
    j["modulators"] = std::move(mods);
  }
  if (!net.rewards().empty()) {
    nlohmann::ordered_json rewards = nlohmann::ordered_json::object();
    for (const auto& r : net.rewards()) {
      const auto& pr = r->projection();
      rewards[r->name()] = {
          {"projection", pr.name()},
          {"pre", r->pre_neuron()},
          {"post", r->post_neuron()},
          {"pairings", r->pairings()},
          {"weight", r->weight()},
          {"others_mean", r->others_mean()},
          {"w_max", pr.stdp() ? nlohmann::ordered_json(pr.stdp()->w_max) : nlohmann::ordered_json()},
          {"unit", pr.weight_dim() == Dimension::volts()     ? "V"
                   : pr.weight_dim() == Dimension::siemens() ? "S"
                   : pr.weight_dim() == Dimension::amperes() ? "A"
                                                             : "1"},
          {"record", {{"t", r->times()}, {"weight", r->weights()}, {"others_mean", r->others()}}}};
    }
    j["rewards"] = std::move(rewards);
  }
  const std::string tmp = path + ".partial";
  {
    std::ofstream out(tmp);
    if (!out) throw IoError(fmt::format("cannot write '{}'", tmp));
    out << j.dump(2) << '\n';
    if (!out) throw IoError(fmt::format("cannot write '{}'", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw IoError(fmt::format("cannot move '{}' to '{}': {}", tmp, path, ec.message()));
}

}  // namespace volley::io

#include "volley/analysis/fi_curve.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "volley/error.hpp"
#include "volley/io/model_file.hpp"
#include "volley/units.hpp"

namespace volley::analysis {
namespace {

// A quantity option, with the option's name in the error.
Quantity option_quantity(const std::string& text, const char* option) {
  try {
    return parse_quantity(text);
  } catch (const UnitError& e) {
    throw ParameterError(fmt::format("{}: {}", option, e.what()));
  }
}

// Steady rate of one neuron held at a constant current for `step` seconds: spikes in the
// second half of the window.
double probe_rate(const FiOptions& o, double current, const char* unit, double step) {
  std::string text = fmt::format("[simulation]\ndt = \"{}\"\nduration = \"{} s\"\n", o.dt, step);
  text += fmt::format("[populations.n]\nmodel = \"{}\"\nsize = 1\n", o.model);
  if (!o.preset.empty()) text += fmt::format("preset = \"{}\"\n", o.preset);
  text += fmt::format("[inputs.I]\ntype = \"current\"\ntarget = \"n\"\namplitude = \"{:.12g} {}\"\n",
                      current, unit);
  text += "[monitors.s]\ntype = \"spikes\"\npopulation = \"n\"\n";
  io::LoadedModel m = io::load_model_string(text, fmt::format("<volley fi --model {}>", o.model));
  m.network->run(m.duration);
  const auto& times = m.network->spike_monitors().at(0)->times;
  const auto n = std::count_if(times.begin(), times.end(), [&](double t) { return t >= 0.5 * step; });
  return static_cast<double>(n) / (0.5 * step);
}

}  // namespace

FiResult measure_fi(const FiOptions& o) {
  const Quantity lo = option_quantity(o.i_min, "--i-min"), hi = option_quantity(o.i_max, "--i-max");
  if (!(lo.dim == hi.dim))
    throw ParameterError(fmt::format("--i-min ({}) and --i-max ({}) have different units",
                                     o.i_min, o.i_max));
  if (!(lo.dim == Dimension::amperes() || lo.dim == Dimension::volts()))
    throw ParameterError(fmt::format("--i-min/--i-max must be currents (or voltages for "
                                     "voltage-driven models), got '{}'", o.i_min));
  if (!(hi.value > lo.value))
    throw ParameterError(fmt::format("--i-min ({}) must be below --i-max ({})", o.i_min, o.i_max));
  if (o.points < 2) throw ParameterError(fmt::format("--points must be >= 2, got {}", o.points));
  const double step = option_quantity(o.step_duration, "--duration").value;
  if (!(step > 0.0)) throw ParameterError("--duration must be > 0");
  const char* unit = lo.dim == Dimension::amperes() ? "A" : "V";

  std::vector<double> currents(static_cast<std::size_t>(o.points));
  for (int k = 0; k < o.points; ++k)
    currents[static_cast<std::size_t>(k)] = lo.value + (hi.value - lo.value) * k / (o.points - 1);

  // The staircases as current inputs with steps; the model as a population of one neuron each.
  auto list = [&](bool down) {
    std::string times, values;
    for (int k = 0; k < o.points; ++k) {
      const double c = currents[static_cast<std::size_t>(down ? o.points - 1 - k : k)];
      times += fmt::format("{}\"{} s\"", k ? ", " : "", k * step);
      values += fmt::format("{}\"{:.12g} {}\"", k ? ", " : "", c, unit);
    }
    return fmt::format("times = [{}]\nvalues = [{}]\n", times, values);
  };
  std::string text = fmt::format("[simulation]\ndt = \"{}\"\nduration = \"{} s\"\n", o.dt,
                                 step * o.points);
  for (const char* name : {"up", "down"}) {
    text += fmt::format("[populations.{}]\nmodel = \"{}\"\nsize = 1\n", name, o.model);
    if (!o.preset.empty()) text += fmt::format("preset = \"{}\"\n", o.preset);
    text += fmt::format("[inputs.I_{0}]\ntype = \"current\"\ntarget = \"{0}\"\n{1}", name,
                        list(std::string(name) == "down"));
    text += fmt::format("[monitors.s_{0}]\ntype = \"spikes\"\npopulation = \"{0}\"\n", name);
  }
  io::LoadedModel m = io::load_model_string(text, fmt::format("<volley fi --model {}>", o.model));
  m.network->run(m.duration);

  // Steady rate per step: spikes in the second half of each step.
  auto rates = [&](const std::string& monitor, bool down) {
    std::vector<double> r(static_cast<std::size_t>(o.points), 0.0);
    for (const auto& mon : m.network->spike_monitors()) {
      if (mon->name() != monitor) continue;
      for (double t : mon->times) {
        const auto k = static_cast<int>(std::floor(t / step));
        if (k < 0 || k >= o.points || t - k * step < 0.5 * step) continue;
        r[static_cast<std::size_t>(down ? o.points - 1 - k : k)] += 1.0 / (0.5 * step);
      }
    }
    return r;
  };
  const auto up = rates("s_up", false), down = rates("s_down", true);

  FiResult res;
  res.model = o.model;
  res.preset = o.preset;
  // A rate from a single spike in the window is noise at the edge of a step: need two.
  const double min_rate = 2.0 / (0.5 * step);
  for (int k = 0; k < o.points; ++k) {
    const auto i = static_cast<std::size_t>(k);
    res.points.push_back({currents[i], up[i] >= min_rate ? up[i] : 0.0,
                          down[i] >= min_rate ? down[i] : 0.0});
  }
  for (const auto& p : res.points) res.max_rate_hz = std::max({res.max_rate_hz, p.rate_up, p.rate_down});
  std::size_t first = res.points.size();
  for (std::size_t k = 0; k < res.points.size(); ++k) {
    const auto& p = res.points[k];
    if (first == res.points.size() && p.rate_up > 0) first = k;
    const bool one_silent = (p.rate_up == 0) != (p.rate_down == 0);
    if (one_silent && std::abs(p.rate_up - p.rate_down) > std::max(2.0, 0.1 * res.max_rate_hz))
      res.hysteresis = true;
  }
  if (first < res.points.size()) {
    // Refine the rheobase by bisection between the last silent and the first firing current of
    // the upward sweep, each probe starting from rest. A class I neuron's rate passes
    // continuously through the detection floor there; a class II neuron's jumps above it.
    double silent = first > 0 ? res.points[first - 1].current : res.points[first].current;
    double firing = res.points[first].current, rate = res.points[first].rate_up;
    for (int it = 0; it < 10 && first > 0; ++it) {
      const double mid = 0.5 * (silent + firing);
      const double r = probe_rate(o, mid, unit, step);
      if (r >= min_rate) {
        firing = mid;
        rate = r;
      } else {
        silent = mid;
      }
    }
    res.rheobase = firing;
    res.onset_rate_hz = rate;
  }
  if (res.max_rate_hz == 0.0)
    res.excitability_class = "none";
  else
    res.excitability_class = res.onset_rate_hz >= 3.0 * min_rate || res.hysteresis ? "II" : "I";
  return res;
}

}  // namespace volley::analysis

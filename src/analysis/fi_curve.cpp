#include "volley/analysis/fi_curve.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <optional>
#include <tuple>

#include "volley/error.hpp"
#include "volley/inputs.hpp"
#include "volley/models/registry.hpp"
#include "volley/network.hpp"
#include "volley/units.hpp"

namespace volley::analysis {
namespace {

constexpr double kScanRatio =
    1.4142135623730951;       // sqrt 2: every firing range wider than that is hit
constexpr int kSections = 8;  // refinement: 7 interior probes per round
constexpr double kRelTolerance = 1e-4;
constexpr double kFirstWindow = 1.0, kLongestWindow = 16.0;  // s
constexpr double kClassIRatio = 1.3, kClassIIRatio = 3.0, kLastResortRatio = 2.0;
// Onset sweep above the rheobase and bistability probes below it, as fractions of it.
constexpr double kAbove[] = {1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.2, 0.3};
constexpr double kFitHi = 0.1;
// Period growth ratio (see period_growth): a rate going to zero at the rheobase keeps its period
// growing at least as fast near it (1 for f ~ 1/log, 3.2 for f ~ sqrt); a jump levels off (0.1 for
// a smooth period).
constexpr double kDivergingGrowth = 0.7, kSaturatingGrowth = 0.3;
constexpr double kBelow[] = {0.01, 0.03, 0.1, 0.2, 0.3, 0.5};

Quantity option_quantity(const std::string& text, const char* option) {
  try {
    return parse_quantity(text);
  } catch (const UnitError& e) {
    throw ParameterError(fmt::format("{}: {}", option, e.what()));
  }
}

// The neuron under study and how it is driven.
struct Subject {
  std::string model, preset;
  double dt = 1e-4;
  int threads = 1;
  Dimension drive = Dimension::amperes();
};

// The one place this analysis builds neurons: a network holding `drives.size()` neurons of the
// subject's model with its preset (population "n", from the neuron-model registry, as model files
// and C++ code build them), neuron k driven by its own current drives[k] (SI units of
// subject.drive), every spike recorded.
std::unique_ptr<Network> driven_neurons(const Subject& s, const std::vector<TimeSeries>& drives) {
  auto net = std::make_unique<Network>(s.dt);
  PopulationSpec spec;
  spec.preset = s.preset;
  add_population(*net, s.model, "n", drives.size(), spec);
  for (std::size_t k = 0; k < drives.size(); ++k) {
    net->add_input(CurrentInputSpec{.name = fmt::format("drive_{}", k),
                                    .target = "n",
                                    .slice = {k, 1},
                                    .series = drives[k],
                                    .dim = s.drive});
  }
  net->record_spikes("spikes", "n");
  return net;
}

// A neuron's drive: `start` while it settles, a linear ramp to `current`, then `current` held.
struct Probe {
  double start = 0.0, current = 0.0;
};

TimeSeries probe_drive(const Probe& p, const FiProtocol& proto, double dt) {
  TimeSeries ts;
  ts.kind = TimeSeries::Kind::kArray;
  ts.array_dt = std::max(dt, proto.ramp / 250.0);
  const auto settle = static_cast<std::size_t>(std::llround(proto.settle / ts.array_dt));
  const auto ramp = static_cast<std::size_t>(std::llround(proto.ramp / ts.array_dt));
  ts.values.assign(std::max<std::size_t>(settle, 1), p.start);
  for (std::size_t k = 1; k <= ramp; ++k)
    ts.values.push_back(p.start +
                        (p.current - p.start) * static_cast<double>(k) / static_cast<double>(ramp));
  ts.values.push_back(p.current);  // the last value holds
  return ts;
}

// Steady rate from the spikes of one neuron in [t0, t1): the mean inter-spike rate, or 0 unless
// the neuron fires steadily at 3 / (t1 - t0) or faster (3 spikes or more, the last at most 1.5
// longest intervals before t1). A fixed floor, not a spike count, so whether a rate counts does
// not depend on the phase of the spikes in the window.
double sustained_rate(const std::vector<double>& times, double t0, double t1, double dt) {
  auto lo = std::lower_bound(times.begin(), times.end(), t0 - 0.5 * dt);
  auto hi = std::lower_bound(times.begin(), times.end(), t1 - 0.5 * dt);
  const auto n = hi - lo;
  if (n < 3) return 0.0;
  double longest = 0.0;
  for (auto it = lo + 1; it != hi; ++it) longest = std::max(longest, *it - *(it - 1));
  if (t1 - *(hi - 1) > 1.5 * longest + dt) return 0.0;
  const double rate = static_cast<double>(n - 1) / (*(hi - 1) - *lo);
  return rate >= 3.0 / (t1 - t0) ? rate : 0.0;
}

// Runs batches of probes, each a network of independent neurons.
class Bench {
 public:
  explicit Bench(Subject s) : s_(std::move(s)) {}
  const Subject& subject() const { return s_; }
  double neuron_seconds() const { return neuron_seconds_; }

  std::vector<double> rates(const std::vector<Probe>& probes, const FiProtocol& proto) {
    if (probes.empty()) return {};
    std::vector<TimeSeries> drives;
    for (const auto& p : probes) drives.push_back(probe_drive(p, proto, s_.dt));
    auto net = driven_neurons(s_, drives);
    net->run(proto.total(), {.threads = s_.threads});
    neuron_seconds_ += proto.total() * static_cast<double>(probes.size());
    std::vector<std::vector<double>> spikes(probes.size());
    const auto& mon = *net->spike_monitors().front();
    for (std::size_t k = 0; k < mon.times.size(); ++k) spikes[mon.units[k]].push_back(mon.times[k]);
    const double t0 = proto.settle + proto.ramp + proto.transient, t1 = proto.total();
    std::vector<double> r;
    for (auto& t : spikes) {
      std::sort(t.begin(), t.end());
      r.push_back(sustained_rate(t, t0, t1, s_.dt));
    }
    return r;
  }

  // Rates from rest (the resting current `rest` while settling, then a ramp).
  std::vector<double> from_rest(const std::vector<double>& currents, double rest,
                                const FiProtocol& proto) {
    std::vector<Probe> p;
    for (double c : currents) p.push_back({std::min(rest, c), c});
    return rates(p, proto);
  }

 private:
  Subject s_;
  double neuron_seconds_ = 0.0;
};

// Whether the model can be driven in `d` (amperes, or volts for models without a resistance).
bool accepts(Subject s, Dimension d) {
  s.drive = d;
  try {
    driven_neurons(s, {TimeSeries{}});
    return true;
  } catch (const ParameterError&) {
    return false;
  }
}

struct Bracket {
  double silent = 0.0, firing = 0.0, firing_rate = 0.0;
};

// Narrows [silent, firing] from rest to `tol`. With `verify` the ends are measured first under
// this protocol (a longer window resolves slower rates, so the silent end may now fire): an end
// that disagrees moves outwards by twice the bracket's width.
Bracket refine(Bench& bench, Bracket b, double rest, double tol, const FiProtocol& proto,
               bool verify, int& rounds) {
  for (int guard = 0; guard < 60; ++guard) {
    const double width = b.firing - b.silent;
    if (verify) {
      const auto r = bench.from_rest({b.silent, b.firing}, rest, proto);
      ++rounds;
      if (r[0] > 0.0) {
        b = {b.silent - 2.0 * width, b.silent, r[0]};
        continue;
      }
      if (r[1] == 0.0) {
        b = {b.firing, b.firing + 2.0 * width, 0.0};
        continue;
      }
      b.firing_rate = r[1];
      verify = false;
    }
    if (width <= tol) return b;
    std::vector<double> c;
    for (int k = 1; k < kSections; ++k) c.push_back(b.silent + width * k / kSections);
    const auto r = bench.from_rest(c, rest, proto);
    ++rounds;
    // The lowest firing probe and the probe below it.
    std::size_t k = 0;
    while (k < c.size() && r[k] == 0.0) ++k;
    if (k < c.size())
      b = {k ? c[k - 1] : b.silent, c[k], r[k]};
    else
      b.silent = c.back();
  }
  return b;
}

FiProtocol classification_protocol(double window) {
  return {.settle = 0.2, .ramp = 0.5, .transient = std::max(0.3, 0.3 * window), .window = window};
}

// (T(1e-3) - T(1e-2)) / (T(1e-2) - T(1e-1)): how much the period T = 1/f grows over the decade of
// currents nearest the rheobase (offsets relative to `scale`) against the decade above it; NaN
// when one of the three does not fire or the period does not grow towards the rheobase.
double period_growth(const std::vector<RatePoint>& onset, double rheobase, double scale) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  auto period = [&](double e) {
    for (const auto& p : onset)
      if (std::abs(p.current - (rheobase + e * scale)) <= 1e-9 * scale)
        return p.rate > 0 ? 1.0 / p.rate : kNaN;
    return kNaN;
  };
  const double t3 = period(1e-3), t2 = period(1e-2), t1 = period(1e-1);
  if (!(t2 - t1 > 0.0)) return NAN;
  return (t3 - t2) / (t2 - t1);
}

}  // namespace

OnsetFit fit_onset(std::span<const RatePoint> rates, double exponent) {
  std::vector<RatePoint> pts;
  for (const auto& p : rates)
    if (p.rate > 0.0 && std::isfinite(p.rate) && std::isfinite(p.current)) pts.push_back(p);
  OnsetFit fit;
  fit.exponent = exponent;
  fit.points = static_cast<int>(pts.size());
  if (pts.size() < 3) return fit;
  std::sort(pts.begin(), pts.end(), [](auto& a, auto& b) { return a.current < b.current; });
  fit.current_lo = pts.front().current;
  fit.current_hi = pts.back().current;
  const double span = fit.current_hi - fit.current_lo;
  if (!(span > 0.0)) return fit;
  // Least squares y = a + b x; returns {a, b, residual sum, total sum}.
  struct Line {
    double a, b, sse, sst;
  };
  auto line = [](const std::vector<double>& x, const std::vector<double>& y) {
    const double n = static_cast<double>(x.size());
    const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
    const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
    double sxx = 0, sxy = 0, syy = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      sxx += (x[i] - mx) * (x[i] - mx);
      sxy += (x[i] - mx) * (y[i] - my);
      syy += (y[i] - my) * (y[i] - my);
    }
    const double b = sxx > 0 ? sxy / sxx : 0.0;
    const double a = my - b * mx;
    double sse = 0;
    for (std::size_t i = 0; i < x.size(); ++i) sse += (y[i] - a - b * x[i]) * (y[i] - a - b * x[i]);
    return Line{a, b, sse, syy};
  };
  if (exponent == 0.5) {
    // f² = c² (I - I0): a straight line in f².
    std::vector<double> x, y;
    for (const auto& p : pts) {
      x.push_back(p.current);
      y.push_back(p.rate * p.rate);
    }
    const Line l = line(x, y);
    if (!(l.b > 0.0)) return fit;
    fit.rheobase = -l.a / l.b;
    fit.coefficient = std::sqrt(l.b);
    fit.r2 = l.sst > 0 ? 1.0 - l.sse / l.sst : 1.0;
    fit.valid = true;
    return fit;
  }
  // log f = log c + b log(I - I0); I0 = lowest current - d, d searched on a log scale.
  std::vector<double> y;
  for (const auto& p : pts) y.push_back(std::log(p.rate));
  auto at = [&](double log_d) {
    const double i0 = fit.current_lo - std::exp(log_d);
    std::vector<double> x;
    for (const auto& p : pts) x.push_back(std::log(p.current - i0));
    return line(x, y);
  };
  const double u_lo = std::log(span * 1e-7), u_hi = std::log(span * 1e3);
  constexpr int kGrid = 400;
  int best = 0;
  double best_sse = INFINITY;
  for (int k = 0; k <= kGrid; ++k) {
    const double sse = at(u_lo + (u_hi - u_lo) * k / kGrid).sse;
    if (sse < best_sse) {
      best_sse = sse;
      best = k;
    }
  }
  // Golden-section search around the best grid point.
  double a = u_lo + (u_hi - u_lo) * std::max(0, best - 1) / kGrid;
  double b = u_lo + (u_hi - u_lo) * std::min(kGrid, best + 1) / kGrid;
  const double g = 0.5 * (std::sqrt(5.0) - 1.0);
  for (int it = 0; it < 80; ++it) {
    const double c = b - g * (b - a), d = a + g * (b - a);
    if (at(c).sse < at(d).sse)
      b = d;
    else
      a = c;
  }
  const double u = 0.5 * (a + b);
  const Line l = at(u);
  // A best I0 at the edge of the search is no power law (a rate that levels off, class II).
  if (!(l.b > 0.0) || best == 0 || best == kGrid) return fit;
  fit.rheobase = fit.current_lo - std::exp(u);
  fit.exponent = l.b;
  fit.coefficient = std::exp(l.a);
  fit.r2 = l.sst > 0 ? 1.0 - l.sse / l.sst : 1.0;
  fit.valid = true;
  return fit;
}

FiResult measure_fi(const FiOptions& o) {
  {
    const NeuronModel* m = neuron_models().find(o.model);
    if (!m) throw ParameterError(fmt::format("--model: {}", neuron_models().unknown(o.model)));
    if (!o.preset.empty() && !m->presets.find(o.preset))
      throw ParameterError(
          m->presets.size() == 0
              ? fmt::format("--preset: model '{}' has no presets, got '{}'", o.model, o.preset)
              : fmt::format("--preset: model '{}' has no preset '{}' (expected one of {})", o.model,
                            o.preset, m->presets.names()));
  }
  if (o.points < 2) throw ParameterError(fmt::format("--points must be >= 2, got {}", o.points));
  if (o.threads < 1) throw ParameterError(fmt::format("--threads must be >= 1, got {}", o.threads));
  Subject s{o.model, o.preset};
  s.threads = o.threads;
  {
    const Quantity dt = option_quantity(o.dt, "--dt");
    if (!(dt.dim == Dimension::seconds()) || !(dt.value > 0.0) || !std::isfinite(dt.value))
      throw ParameterError(fmt::format("--dt must be a time > 0, got '{}'", o.dt));
    s.dt = dt.value;
  }
  const Quantity step = option_quantity(o.step_duration, "--duration");
  if (!(step.dim == Dimension::seconds()) || !(step.value > 0.0) || !std::isfinite(step.value))
    throw ParameterError(fmt::format("--duration must be a time > 0, got '{}'", o.step_duration));
  if (step.value < 4 * s.dt)
    throw ParameterError(fmt::format("--duration ({}) must be at least 4 time steps (--dt {})",
                                     o.step_duration, o.dt));

  // The plotted range: optional, in amperes or volts, and the unit of the drive.
  std::optional<Quantity> lo, hi;
  if (!o.i_min.empty()) lo = option_quantity(o.i_min, "--i-min");
  if (!o.i_max.empty()) hi = option_quantity(o.i_max, "--i-max");
  for (const auto& [q, name, text] :
       {std::tuple{lo, "--i-min", o.i_min}, std::tuple{hi, "--i-max", o.i_max}})
    if (q && !(q->dim == Dimension::amperes() || q->dim == Dimension::volts()))
      throw ParameterError(fmt::format(
          "{} must be a current (or a voltage for voltage-driven models), got '{}'", name, text));
  if (lo && hi && !(lo->dim == hi->dim))
    throw ParameterError(
        fmt::format("--i-min ({}) and --i-max ({}) have different units", o.i_min, o.i_max));
  if (lo && hi && !(hi->value > lo->value))
    throw ParameterError(fmt::format("--i-min ({}) must be below --i-max ({})", o.i_min, o.i_max));
  // The drive: the range's unit, or a current when the model takes one, else a voltage.
  const bool takes_current = accepts(s, Dimension::amperes());
  const bool takes_voltage = !takes_current && accepts(s, Dimension::volts());
  if (!takes_current && !takes_voltage)
    throw ParameterError(fmt::format("--model: model '{}' takes no injected current", o.model));
  s.drive = takes_current ? Dimension::amperes() : Dimension::volts();
  if (lo || hi) {
    const Dimension given = (lo ? lo : hi)->dim;
    if (!(given == s.drive) && !accepts(s, given))
      throw ParameterError(
          fmt::format("--i-min/--i-max: model '{}' is driven by a {} (e.g. \"{}\"), got '{}'",
                      o.model, takes_current ? "current" : "voltage",
                      takes_current ? "10 uA" : "10 mV", lo ? o.i_min : o.i_max));
    s.drive = given;
  }

  FiResult res;
  res.model = o.model;
  res.preset = o.preset;
  res.unit = unit_symbol(s.drive);
  res.dt = s.dt;
  res.criterion = fmt::format(
      "rheobase: the lowest current firing steadily from rest (a geometric scan, ratio {:.3g}, "
      "then "
      "bisection to {:g} of it); class I if the rate there is <= {:g}x the slowest rate resolved "
      "(3 / counting window), or if the period T = 1/f grows over the decade of currents nearest "
      "the "
      "rheobase at least {:g}x as much as over the next (f -> 0 slower than the floor shows); "
      "class II "
      "if the rate there is >= {:g}x that floor and that growth ratio is <= {:g} (a jump); "
      "otherwise the "
      "window is made 4x longer and all of it measured again (up to {:g} s; at that limit class II "
      "from "
      "{:g}x the floor); hysteresis if a current below the rheobase keeps firing when started from "
      "the "
      "firing state but not from rest",
      kScanRatio, kRelTolerance, kClassIRatio, kDivergingGrowth, kClassIIRatio, kSaturatingGrowth,
      kLongestWindow, kLastResortRatio);
  Bench bench(s);
  auto& search = res.search;

  // 1. Scan from rest, geometrically; from the model's initial state at 0, or at each negative
  // current itself when the neuron fires without input.
  const bool volts = s.drive == Dimension::volts();
  search.scan_ratio = kScanRatio;
  search.scan = {.settle = 0.1, .ramp = 0.3, .transient = 0.1, .window = 0.5};
  std::vector<double> mags;
  for (double m = volts ? 1e-6 : 1e-12; m <= (volts ? 10.0 : 1e-2) * 1.0000001; m *= kScanRatio)
    mags.push_back(m);
  double rest = 0.0;
  std::vector<double> grid{0.0};
  grid.insert(grid.end(), mags.begin(), mags.end());
  std::vector<double> scan = bench.from_rest(grid, rest, search.scan);
  if (scan[0] > 0.0) {  // fires at 0: look for the rheobase below 0
    grid.clear();
    for (auto it = mags.rbegin(); it != mags.rend(); ++it) grid.push_back(-*it);
    std::vector<Probe> p;
    for (double c : grid) p.push_back({c, c});
    scan = bench.rates(p, search.scan);
    grid.push_back(0.0);
    scan.push_back(1.0);
  }
  search.scan_lo = grid.front();
  search.scan_hi = grid.back();
  search.scan_points = static_cast<int>(grid.size());
  std::size_t first = 0;
  while (first < grid.size() && scan[first] == 0.0) ++first;
  const auto scale_of = [&](double i) { return i != 0.0 ? std::abs(i) : mags.front(); };

  if (first == grid.size() || first == 0) {
    res.excitability_class = "none";
    res.decision = first == 0 ? fmt::format("fires at every current scanned from rest ({} to 0 {})",
                                            grid.front(), res.unit)
                              : fmt::format(
                                    "no sustained firing from rest at any current scanned ({} to "
                                    "{} {}), so no rheobase",
                                    grid.front(), grid.back(), res.unit);
    // The plotted curve: the user's range from rest, or else the scan itself.
    if (lo && hi) {
      res.curve_protocol = {
          .settle = 0.2, .ramp = 0.3, .transient = 0.5 * step.value, .window = 0.5 * step.value};
      std::vector<double> currents;
      for (int k = 0; k < o.points; ++k)
        currents.push_back(lo->value + (hi->value - lo->value) * k / (o.points - 1));
      const auto r = bench.from_rest(currents, 0.0, res.curve_protocol);
      for (std::size_t k = 0; k < currents.size(); ++k)
        res.curve.push_back({currents[k], r[k], 0.0});
    } else {
      for (std::size_t k = 0; k < grid.size(); ++k) res.curve.push_back({grid[k], scan[k], 0.0});
      res.curve_protocol = search.scan;
    }
  } else {
    if (grid[first - 1] < 0.0) rest = grid[first - 1];
    search.coarse_silent = grid[first - 1];
    search.coarse_firing = grid[first];
    search.tolerance = kRelTolerance * scale_of(grid[first]);

    // 2. Refine the rheobase and measure the rates just above it; lengthen the window while the
    // onset is ambiguous.
    Bracket b{grid[first - 1], grid[first], scan[first]};
    double window = kFirstWindow;
    double scale = 0.0;
    enum class Verdict { kUnclear, kFloor, kDiverging, kJump } verdict = Verdict::kUnclear;
    for (;;) {
      const FiProtocol proto = classification_protocol(window);
      search.windows.push_back(window);
      b = refine(bench, b, rest, search.tolerance, proto, true, search.rounds);
      res.protocol = proto;
      res.rheobase = b.firing;
      res.min_rate_hz = proto.min_rate_hz();
      res.onset_rate_hz = b.firing_rate;
      res.jump_ratio = b.firing_rate / res.min_rate_hz;
      scale = scale_of(res.rheobase);
      std::vector<double> above;
      for (double e : kAbove) above.push_back(res.rheobase + e * scale);
      const auto ra = bench.from_rest(above, rest, proto);
      res.onset = {{res.rheobase, res.onset_rate_hz}};
      for (std::size_t k = 0; k < above.size(); ++k) res.onset.push_back({above[k], ra[k]});
      res.period_growth = period_growth(res.onset, res.rheobase, scale);
      const bool last = window >= kLongestWindow;
      if (res.jump_ratio <= kClassIRatio)
        verdict = Verdict::kFloor;
      else if (res.period_growth >= kDivergingGrowth)
        verdict = Verdict::kDiverging;
      else if (res.jump_ratio >= kClassIIRatio && !(res.period_growth > kSaturatingGrowth))
        verdict = Verdict::kJump;
      else if (last)
        verdict = res.jump_ratio >= kLastResortRatio ? Verdict::kJump : Verdict::kFloor;
      if (verdict != Verdict::kUnclear) break;
      window *= 4.0;
    }
    search.silent = b.silent;
    search.firing = b.firing;

    // 3. The fits, over the rates up to 10% above the rheobase.
    std::vector<RatePoint> near;
    for (const auto& p : res.onset)
      if (p.current <= res.rheobase + kFitHi * scale * (1 + 1e-9)) near.push_back(p);
    res.sqrt_fit = fit_onset(near, 0.5);
    res.power_fit = fit_onset(near, std::numeric_limits<double>::quiet_NaN());

    // 4. Bistability below the rheobase: from rest against from firing (at the onset sweep's
    // fastest current, reached long enough before the ramp for a few cycles).
    const auto ref = std::max_element(res.onset.begin(), res.onset.end(),
                                      [](auto& x, auto& y) { return x.rate < y.rate; });
    res.reference_current = ref->current;
    res.reference_rate_hz = ref->rate;
    FiProtocol bp = res.protocol;
    bp.settle = std::max(bp.settle, 3.0 / ref->rate);
    std::vector<Probe> probes;
    for (double d : kBelow) {
      const double c = res.rheobase - d * scale;
      probes.push_back({std::min(rest, c), c});
      probes.push_back({res.reference_current, c});
    }
    const auto rb = bench.rates(probes, bp);
    for (std::size_t k = 0; k < probes.size(); k += 2) {
      res.bistability.push_back({probes[k].current, rb[k], rb[k + 1]});
      if (rb[k] == 0.0 && rb[k + 1] > 0.0) res.hysteresis = true;
    }

    // 5. The class.
    const bool jump = verdict == Verdict::kJump;
    res.excitability_class = jump ? "II" : "I";
    const std::string why =
        verdict == Verdict::kFloor
            ? "the rate there is at the floor, so it rises continuously from zero"
        : verdict == Verdict::kDiverging
            ? fmt::format(
                  "the period still grows {:.2g}x as much over the decade nearest the rheobase as "
                  "over "
                  "the next, so the rate goes to zero there (slower than the floor shows)",
                  res.period_growth)
        : search.windows.size() > 1
            ? fmt::format(
                  "a jump to a minimum frequency: the rate there stays while the floor is lowered "
                  "(windows {} s)",
                  fmt::join(search.windows, ", "))
            : fmt::format(
                  "a jump to a minimum frequency (the period levels off towards the rheobase: "
                  "growth "
                  "ratio {:.2g})",
                  res.period_growth);
    res.decision = fmt::format(
        "class {}: the rate at the rheobase ({:.5g} {}) is {:.3g} Hz, {:.2g}x the slowest rate "
        "resolved "
        "({:.3g} Hz in a {:g} s window); {}; {}",
        res.excitability_class, res.rheobase, res.unit, res.onset_rate_hz, res.jump_ratio,
        res.min_rate_hz, res.protocol.window, why,
        res.hysteresis
            ? "bistable below the rheobase (keeps firing from the firing state where it is "
              "silent from rest)"
            : "no bistability below the rheobase");

    // 6. The plotted curve, from rest and from firing at each current.
    FiProtocol cp{.settle = bp.settle,
                  .ramp = 0.3,
                  .transient = 0.5 * step.value,
                  .window = 0.5 * step.value};
    res.curve_protocol = cp;
    double c_lo = lo ? lo->value : 0.0, c_hi = hi ? hi->value : 0.0;
    if (!lo && !hi) {
      c_lo = res.rheobase > 0 ? 0.0 : res.rheobase - scale;
      c_hi = res.rheobase > 0 ? 3.0 * res.rheobase : res.rheobase + 2.0 * scale;
    } else if (!hi) {
      c_hi = std::max(3.0 * res.rheobase, c_lo + 2.0 * scale);
    } else if (!lo) {
      c_lo = std::min(0.0, c_hi - 2.0 * scale);
    }
    std::vector<double> currents;
    for (int k = 0; k < o.points; ++k)
      currents.push_back(c_lo + (c_hi - c_lo) * k / (o.points - 1));
    std::vector<Probe> cur;
    for (double c : currents) {
      cur.push_back({std::min(rest, c), c});
      cur.push_back({res.reference_current, c});
    }
    const auto rc = bench.rates(cur, cp);
    for (std::size_t k = 0; k < currents.size(); ++k)
      res.curve.push_back({currents[k], rc[2 * k], rc[2 * k + 1]});
  }
  for (const auto& p : res.curve)
    res.max_rate_hz = std::max({res.max_rate_hz, p.rate_from_rest, p.rate_from_firing});
  for (const auto& p : res.onset) res.max_rate_hz = std::max(res.max_rate_hz, p.rate);
  res.neuron_seconds = bench.neuron_seconds();
  return res;
}

}  // namespace volley::analysis

// Spike-train statistics (see spike_stats.hpp for the definitions and conventions).
#include "volley/analysis/spike_stats.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string_view>
#include <unordered_set>

#include "core/fft.hpp"
#include "volley/error.hpp"
#include "volley/rng.hpp"

namespace volley::analysis {
namespace {

using cd = std::complex<double>;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

[[noreturn]] void fail(std::string_view where, std::string_view field, const std::string& what) {
  throw ParameterError(fmt::format("{}: {}: {}", where, field, what));
}

void require_positive(std::string_view where, std::string_view field, double value) {
  if (!(value > 0.0) || !std::isfinite(value))
    fail(where, field, fmt::format("must be a finite number > 0 (got {})", value));
}

// Whole bins of `width` in `span`. The tolerance (far above double rounding, far below a bin)
// keeps a span of 1 s at 1000 bins of 1 ms although 1.0 / 0.001 rounds to 999.9999999999999.
std::size_t whole_bins(double span, double width) {
  const double ratio = span / width;
  const double q = std::floor(ratio + 1e-9 + 1e-12 * ratio);
  return q > 0.0 ? static_cast<std::size_t>(q) : 0;
}

// Index of the bin of width `width` starting at `origin` that holds t (t >= origin).
std::size_t bin_index(double t, double origin, double width) {
  return static_cast<std::size_t>(std::floor((t - origin) / width));
}

// K = whole windows in the recording; throws unless there are at least two.
std::size_t count_windows(std::string_view where, std::string_view field, const SpikeTrains& s,
                          double window) {
  require_positive(where, field, window);
  const std::size_t k = whole_bins(s.duration(), window);
  if (k < 2)
    fail(where, field,
         fmt::format("{} s fits {} time(s) in t_stop - t_start = {} s; at least 2 windows are "
                     "needed",
                     window, k, s.duration()));
  return k;
}

// Each neuron's non-zero spike counts in the first K windows, in window order (a sparse row of
// the [neurons x windows] count matrix). Zero counts are implicit, so building it and every sum
// over it cost O(spikes), not O(neurons x windows).
struct WindowCounts {
  std::vector<std::size_t> offsets;  // per neuron into window/count
  std::vector<std::uint32_t> window;
  std::vector<std::uint32_t> count;
  std::size_t n_windows = 0;
};

WindowCounts window_counts(const SpikeTrains& s, double width, std::size_t n_windows) {
  const SpikesByNeuron by = group_by_neuron(s);
  WindowCounts wc;
  wc.n_windows = n_windows;
  wc.offsets.assign(s.n_neurons + 1, 0);
  for (std::size_t i = 0; i < s.n_neurons; ++i) {
    for (double t : by.of(i)) {  // sorted, so equal windows are adjacent
      const std::size_t w = bin_index(t, s.t_start, width);
      if (w >= n_windows) break;
      if (wc.window.size() > wc.offsets[i] && wc.window.back() == w) {
        ++wc.count.back();
      } else {
        wc.window.push_back(static_cast<std::uint32_t>(w));
        wc.count.push_back(1);
      }
    }
    wc.offsets[i + 1] = wc.window.size();
  }
  return wc;
}

// Sum and sum of squares of one neuron's counts over all windows (zeros add nothing).
struct CountSums {
  double sum = 0.0, sum_sq = 0.0;  // exact integers (below 2^53)
};
CountSums count_sums(const WindowCounts& wc, std::size_t neuron) {
  CountSums c;
  for (std::size_t e = wc.offsets[neuron]; e < wc.offsets[neuron + 1]; ++e) {
    const double n = wc.count[e];
    c.sum += n;
    c.sum_sq += n * n;
  }
  return c;
}

// Sum over windows of n_i n_j, by merging the two sparse rows.
double cross_sum(const WindowCounts& wc, std::size_t i, std::size_t j) {
  std::size_t a = wc.offsets[i], b = wc.offsets[j];
  const std::size_t a_end = wc.offsets[i + 1], b_end = wc.offsets[j + 1];
  double s = 0.0;
  while (a < a_end && b < b_end) {
    if (wc.window[a] < wc.window[b]) {
      ++a;
    } else if (wc.window[b] < wc.window[a]) {
      ++b;
    } else {
      s += static_cast<double>(wc.count[a++]) * static_cast<double>(wc.count[b++]);
    }
  }
  return s;
}

// Mean of the finite entries and how many there were (NaN if none).
std::pair<double, std::size_t> finite_mean(const std::vector<double>& v) {
  double sum = 0.0;
  std::size_t n = 0;
  for (double x : v)
    if (std::isfinite(x)) {
      sum += x;
      ++n;
    }
  return {n ? sum / static_cast<double>(n) : kNaN, n};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------------------------

void validate(const SpikeTrains& s) {
  constexpr std::string_view kWhere = "spike trains";
  if (s.times.size() != s.units.size())
    fail(kWhere, "times/units",
         fmt::format("lengths differ ({} times, {} units)", s.times.size(), s.units.size()));
  if (s.n_neurons == 0) fail(kWhere, "n_neurons", "must be > 0");
  if (!std::isfinite(s.t_start))
    fail(kWhere, "t_start", fmt::format("must be finite (got {})", s.t_start));
  if (!std::isfinite(s.t_stop))
    fail(kWhere, "t_stop", fmt::format("must be finite (got {})", s.t_stop));
  if (!(s.t_stop > s.t_start))
    fail(kWhere, "t_stop",
         fmt::format("must be > t_start (got t_start = {} s, t_stop = {} s)", s.t_start, s.t_stop));
  for (std::size_t k = 0; k < s.times.size(); ++k) {
    const double t = s.times[k];
    if (std::isnan(t)) fail(kWhere, fmt::format("times[{}]", k), "is NaN");
    if (!(t >= s.t_start && t <= s.t_stop))
      fail(kWhere, fmt::format("times[{}]", k),
           fmt::format("{} s is outside [t_start, t_stop] = [{}, {}] s", t, s.t_start, s.t_stop));
    if (s.units[k] >= s.n_neurons)
      fail(kWhere, fmt::format("units[{}]", k),
           fmt::format("{} is out of range (n_neurons = {})", s.units[k], s.n_neurons));
  }
}

SpikeTrains time_window(const SpikeTrains& s, double t0, double t1) {
  validate(s);
  if (!(t0 >= s.t_start && t0 <= s.t_stop))
    fail("time_window", "t0", fmt::format("{} s is outside [t_start, t_stop]", t0));
  if (!(t1 > t0 && t1 <= s.t_stop))
    fail("time_window", "t1", fmt::format("{} s must be in (t0, t_stop]", t1));
  SpikeTrains out;
  out.n_neurons = s.n_neurons;
  out.t_start = t0;
  out.t_stop = t1;
  for (std::size_t k = 0; k < s.times.size(); ++k)
    if (s.times[k] >= t0 && s.times[k] <= t1) {
      out.times.push_back(s.times[k]);
      out.units.push_back(s.units[k]);
    }
  return out;
}

SpikesByNeuron group_by_neuron(const SpikeTrains& s) {
  validate(s);
  SpikesByNeuron by;
  // Counting sort by unit: count, prefix-sum into offsets, then scatter.
  by.offsets.assign(s.n_neurons + 1, 0);
  for (std::uint32_t u : s.units) ++by.offsets[u + 1];
  for (std::size_t i = 0; i < s.n_neurons; ++i) by.offsets[i + 1] += by.offsets[i];
  by.times.resize(s.times.size());
  std::vector<std::size_t> next(by.offsets.begin(), by.offsets.end() - 1);
  for (std::size_t k = 0; k < s.times.size(); ++k) by.times[next[s.units[k]]++] = s.times[k];
  for (std::size_t i = 0; i < s.n_neurons; ++i) {
    const auto first = by.times.begin() + static_cast<std::ptrdiff_t>(by.offsets[i]);
    const auto last = by.times.begin() + static_cast<std::ptrdiff_t>(by.offsets[i + 1]);
    if (!std::is_sorted(first, last)) std::sort(first, last);
  }
  return by;
}

// ---------------------------------------------------------------------------------------------
// Rates and inter-spike intervals
// ---------------------------------------------------------------------------------------------

std::vector<double> firing_rates(const SpikeTrains& s) {
  validate(s);
  std::vector<double> rate(s.n_neurons, 0.0);
  for (std::uint32_t u : s.units) rate[u] += 1.0;
  const double inv_t = 1.0 / s.duration();
  for (double& r : rate) r *= inv_t;
  return rate;
}

IsiHistogram isi_histogram(const SpikeTrains& s, double bin_width, double max_isi) {
  require_positive("isi_histogram", "bin_width", bin_width);
  require_positive("isi_histogram", "max_isi", max_isi);
  const std::size_t bins = whole_bins(max_isi, bin_width);
  if (bins == 0)
    fail("isi_histogram", "max_isi",
         fmt::format("{} s is shorter than one bin (bin_width = {} s)", max_isi, bin_width));
  const SpikesByNeuron by = group_by_neuron(s);
  IsiHistogram h;
  h.bin_width = bin_width;
  h.edges.resize(bins + 1);
  for (std::size_t k = 0; k <= bins; ++k) h.edges[k] = static_cast<double>(k) * bin_width;
  h.counts.assign(bins, 0);
  for (std::size_t i = 0; i < s.n_neurons; ++i) {
    const auto t = by.of(i);
    for (std::size_t k = 1; k < t.size(); ++k) {
      const std::size_t b = bin_index(t[k] - t[k - 1], 0.0, bin_width);
      if (b < bins)
        ++h.counts[b];
      else
        ++h.overflow;
      ++h.total;
    }
  }
  return h;
}

CvIsi cv_isi(const SpikeTrains& s) {
  const SpikesByNeuron by = group_by_neuron(s);
  CvIsi out;
  out.cv.assign(s.n_neurons, kNaN);
  for (std::size_t i = 0; i < s.n_neurons; ++i) {
    const auto t = by.of(i);
    if (t.size() < 3) continue;  // fewer than two intervals
    // Two passes (mean, then squared deviations) to avoid cancellation.
    const double n = static_cast<double>(t.size() - 1);
    const double mean = (t.back() - t.front()) / n;
    if (!(mean > 0.0)) continue;  // all spikes at one instant: CV undefined
    double ss = 0.0;
    for (std::size_t k = 1; k < t.size(); ++k) {
      const double d = (t[k] - t[k - 1]) - mean;
      ss += d * d;
    }
    out.cv[i] = std::sqrt(ss / n) / mean;
  }
  std::tie(out.mean, out.n_neurons_used) = finite_mean(out.cv);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Spike-count variability and correlations
// ---------------------------------------------------------------------------------------------

FanoFactor fano_factor(const SpikeTrains& s, double window) {
  validate(s);
  const std::size_t k = count_windows("fano_factor", "window", s, window);
  const WindowCounts wc = window_counts(s, window, k);
  const double kk = static_cast<double>(k);
  FanoFactor out;
  out.n_windows = k;
  out.fano.assign(s.n_neurons, kNaN);
  for (std::size_t i = 0; i < s.n_neurons; ++i) {
    const CountSums c = count_sums(wc, i);
    if (c.sum == 0.0) continue;
    // s^2 / m = [(S2 - S1^2/K) / (K - 1)] / (S1/K) = (K S2 - S1^2) / ((K - 1) S1).
    out.fano[i] = (kk * c.sum_sq - c.sum * c.sum) / ((kk - 1.0) * c.sum);
  }
  std::tie(out.mean, out.n_neurons_used) = finite_mean(out.fano);
  return out;
}

std::vector<NeuronPair> sample_pairs(std::size_t n_neurons, std::size_t max_pairs,
                                     std::uint64_t seed) {
  if (n_neurons < 2)
    fail("sample_pairs", "n_neurons", fmt::format("need at least 2 neurons (got {})", n_neurons));
  if (n_neurons > std::numeric_limits<std::uint32_t>::max())
    fail("sample_pairs", "n_neurons", "too many neurons for 32-bit indices");
  if (max_pairs == 0) fail("sample_pairs", "max_pairs", "must be >= 1");
  const std::uint64_t n = n_neurons;
  const std::uint64_t all = n * (n - 1) / 2;
  std::vector<NeuronPair> pairs;
  if (all <= max_pairs) {
    pairs.reserve(all);
    for (std::uint32_t i = 0; i < n; ++i)
      for (std::uint32_t j = i + 1; j < n; ++j) pairs.emplace_back(i, j);
    return pairs;
  }
  // Floyd's algorithm draws max_pairs distinct pair indices in [0, all) uniformly with exactly
  // max_pairs random numbers: for j = all - m .. all - 1, take t uniform in [0, j], or j itself
  // if t was already taken. One counter-based stream keyed by the seed.
  CounterRng rng(seed, stream_id(RngStream::kUser, 0x5A17u), 0, 0);
  std::unordered_set<std::uint64_t> taken;
  taken.reserve(2 * max_pairs);
  for (std::uint64_t j = all - max_pairs; j < all; ++j) {
    const auto t = static_cast<std::uint64_t>(rng.uniform() * static_cast<double>(j + 1));
    if (!taken.insert(std::min(t, j)).second) taken.insert(j);
  }
  std::vector<std::uint64_t> index(taken.begin(), taken.end());
  std::sort(index.begin(), index.end());
  // Pair index -> (i, j): row i holds the n - 1 - i pairs (i, i+1) .. (i, n-1), rows in order.
  pairs.reserve(max_pairs);
  std::uint64_t i = 0, row_start = 0, row_len = n - 1;
  for (std::uint64_t p : index) {
    while (p >= row_start + row_len) {
      row_start += row_len;
      --row_len;
      ++i;
    }
    pairs.emplace_back(static_cast<std::uint32_t>(i),
                       static_cast<std::uint32_t>(i + 1 + p - row_start));
  }
  return pairs;
}

CountCorrelations spike_count_correlations(const SpikeTrains& s, double window,
                                           std::span<const NeuronPair> pairs) {
  validate(s);
  const std::size_t k = count_windows("spike_count_correlations", "window", s, window);
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    const auto [i, j] = pairs[p];
    if (i >= s.n_neurons || j >= s.n_neurons)
      fail("spike_count_correlations", fmt::format("pairs[{}]", p),
           fmt::format("({}, {}) has a neuron out of range (n_neurons = {})", i, j, s.n_neurons));
    if (i == j)
      fail("spike_count_correlations", fmt::format("pairs[{}]", p),
           fmt::format("({}, {}) pairs a neuron with itself", i, j));
  }
  const WindowCounts wc = window_counts(s, window, k);
  const double kk = static_cast<double>(k);
  std::vector<CountSums> sums(s.n_neurons);
  for (std::size_t i = 0; i < s.n_neurons; ++i) sums[i] = count_sums(wc, i);

  CountCorrelations out;
  out.n_windows = k;
  out.pairs.assign(pairs.begin(), pairs.end());
  out.r.assign(pairs.size(), kNaN);
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    const auto [i, j] = pairs[p];
    const CountSums &a = sums[i], &b = sums[j];
    // K^2 cov and K^2 var from the exact integer sums: K Sxy - Sx Sy, K Sxx - Sx^2.
    const double var_a = kk * a.sum_sq - a.sum * a.sum;
    const double var_b = kk * b.sum_sq - b.sum * b.sum;
    if (var_a <= 0.0 || var_b <= 0.0) continue;
    const double cov = kk * cross_sum(wc, i, j) - a.sum * b.sum;
    out.r[p] = cov / std::sqrt(var_a * var_b);
  }
  std::tie(out.mean, out.n_pairs_used) = finite_mean(out.r);
  return out;
}

CountCorrelations spike_count_correlations(const SpikeTrains& s, double window,
                                           std::size_t max_pairs, std::uint64_t seed) {
  validate(s);
  const auto pairs = sample_pairs(s.n_neurons, max_pairs, seed);
  return spike_count_correlations(s, window, pairs);
}

// ---------------------------------------------------------------------------------------------
// Trigger-locked and population rates, spectrum
// ---------------------------------------------------------------------------------------------

Psth psth(const SpikeTrains& s, std::span<const double> triggers, double before, double after,
          double bin, std::span<const std::uint32_t> neurons) {
  validate(s);
  constexpr std::string_view kWhere = "psth";
  if (!(before >= 0.0) || !std::isfinite(before))
    fail(kWhere, "window_before", fmt::format("must be finite and >= 0 (got {})", before));
  if (!(after >= 0.0) || !std::isfinite(after))
    fail(kWhere, "window_after", fmt::format("must be finite and >= 0 (got {})", after));
  require_positive(kWhere, "bin", bin);
  const std::size_t bins = whole_bins(before + after, bin);
  if (bins == 0)
    fail(kWhere, "bin",
         fmt::format("{} s is longer than window_before + window_after = {} s", bin,
                     before + after));
  if (triggers.empty()) fail(kWhere, "trigger_times", "is empty");

  std::vector<char> use(s.n_neurons, neurons.empty() ? 1 : 0);
  for (std::size_t k = 0; k < neurons.size(); ++k) {
    if (neurons[k] >= s.n_neurons)
      fail(kWhere, fmt::format("neurons[{}]", k),
           fmt::format("{} is out of range (n_neurons = {})", neurons[k], s.n_neurons));
    if (use[neurons[k]])
      fail(kWhere, fmt::format("neurons[{}]", k), fmt::format("{} is repeated", neurons[k]));
    use[neurons[k]] = 1;
  }

  // The selected spikes in time order, so each trigger's window is found by binary search.
  std::vector<double> t;
  t.reserve(s.times.size());
  for (std::size_t k = 0; k < s.times.size(); ++k)
    if (use[s.units[k]]) t.push_back(s.times[k]);
  std::sort(t.begin(), t.end());

  Psth out;
  out.bin = bin;
  out.n_neurons_used = neurons.empty() ? s.n_neurons : neurons.size();
  std::vector<double> count(bins, 0.0);
  const double span = static_cast<double>(bins) * bin;
  for (std::size_t k = 0; k < triggers.size(); ++k) {
    const double tr = triggers[k];
    if (std::isnan(tr)) fail(kWhere, fmt::format("trigger_times[{}]", k), "is NaN");
    const double lo = tr - before;
    if (lo < s.t_start || lo + span > s.t_stop) continue;  // window not fully recorded
    ++out.n_triggers_used;
    for (auto it = std::lower_bound(t.begin(), t.end(), lo); it != t.end(); ++it) {
      const std::size_t b = bin_index(*it, lo, bin);
      if (b >= bins) break;
      count[b] += 1.0;
    }
  }
  if (out.n_triggers_used == 0)
    fail(kWhere, "trigger_times",
         fmt::format("no trigger has its window [-{}, +{}) s inside [t_start, t_stop] = [{}, {}] s",
                     before, after, s.t_start, s.t_stop));
  const double norm = 1.0 / (static_cast<double>(out.n_triggers_used) *
                             static_cast<double>(out.n_neurons_used) * bin);
  out.time.resize(bins);
  out.rate.resize(bins);
  for (std::size_t b = 0; b < bins; ++b) {
    out.time[b] = -before + (static_cast<double>(b) + 0.5) * bin;
    out.rate[b] = count[b] * norm;
  }
  return out;
}

PopulationRate population_rate(const SpikeTrains& s, double bin) {
  validate(s);
  require_positive("population_rate", "bin", bin);
  const std::size_t bins = whole_bins(s.duration(), bin);
  if (bins == 0)
    fail("population_rate", "bin",
         fmt::format("{} s is longer than t_stop - t_start = {} s", bin, s.duration()));
  PopulationRate out;
  out.bin = bin;
  out.rate.assign(bins, 0.0);
  for (double t : s.times) {
    const std::size_t b = bin_index(t, s.t_start, bin);
    if (b < bins) out.rate[b] += 1.0;
  }
  const double norm = 1.0 / (static_cast<double>(s.n_neurons) * bin);
  out.time.resize(bins);
  for (std::size_t b = 0; b < bins; ++b) {
    out.rate[b] *= norm;
    out.time[b] = s.t_start + (static_cast<double>(b) + 0.5) * bin;
  }
  return out;
}

std::vector<std::complex<double>> discrete_fourier_transform(
    std::span<const std::complex<double>> x) {
  if (x.empty()) fail("discrete_fourier_transform", "x", "is empty");
  return detail::fft(x);
}

Spectrum population_rate_spectrum(std::span<const double> rate, double bin) {
  require_positive("population_rate_spectrum", "bin", bin);
  const std::size_t n = rate.size();
  if (n < 2)
    fail("population_rate_spectrum", "rate", fmt::format("needs >= 2 samples (got {})", n));
  double mean = 0.0;
  for (std::size_t k = 0; k < n; ++k) {
    if (!std::isfinite(rate[k]))
      fail("population_rate_spectrum", fmt::format("rate[{}]", k), "is not finite");
    mean += rate[k];
  }
  mean /= static_cast<double>(n);
  std::vector<cd> x(n);
  for (std::size_t k = 0; k < n; ++k) x[k] = rate[k] - mean;
  const std::vector<cd> X = discrete_fourier_transform(x);

  const double nn = static_cast<double>(n);
  Spectrum out;
  out.df = 1.0 / (nn * bin);
  const std::size_t half = n / 2;
  out.frequency.resize(half + 1);
  out.psd.resize(half + 1);
  for (std::size_t k = 0; k <= half; ++k) {
    // Fold negative frequencies onto positive ones: |X_{N-k}| = |X_k| for real input. DC and
    // (for even N) Nyquist have no partner.
    const bool unpaired = k == 0 || (n % 2 == 0 && k == half);
    out.frequency[k] = static_cast<double>(k) * out.df;
    out.psd[k] = (unpaired ? 1.0 : 2.0) * bin * std::norm(X[k]) / nn;
  }
  return out;
}

double peak_frequency(const Spectrum& sp, double f_min) {
  std::size_t best = 0;
  for (std::size_t k = 1; k < sp.psd.size(); ++k)
    if (sp.frequency[k] > f_min && (best == 0 || sp.psd[k] > sp.psd[best])) best = k;
  if (best == 0 || !(sp.psd[best] > 0.0)) return kNaN;
  return sp.frequency[best];
}

// ---------------------------------------------------------------------------------------------
// Synchrony
// ---------------------------------------------------------------------------------------------

Synchrony golomb_synchrony(const SpikeTrains& s, double tau, double dt) {
  validate(s);
  constexpr std::string_view kWhere = "golomb_synchrony";
  if (!(tau >= 0.0) || !std::isfinite(tau))
    fail(kWhere, "tau", fmt::format("must be finite and >= 0 (got {})", tau));
  const std::size_t k_bins = count_windows(kWhere, "dt", s, dt);
  const SpikesByNeuron by = group_by_neuron(s);

  // V_k = V_{k-1} exp(-dt/tau) + sum over spikes s in bin k of exp(-(t_k - s)/tau), with
  // t_k = t_start + (k+1) dt the end of bin k. tau = 0 gives plain counts (no memory, weight 1).
  const double decay = tau > 0.0 ? std::exp(-dt / tau) : 0.0;
  std::vector<double> trace(k_bins), population(k_bins, 0.0);
  double sum_var = 0.0;  // sum over used neurons of Var_t V_i
  Synchrony out;
  out.n_samples = k_bins;
  const double kk = static_cast<double>(k_bins);
  for (std::size_t i = 0; i < s.n_neurons; ++i) {
    const auto t = by.of(i);
    if (t.empty() || bin_index(t.front(), s.t_start, dt) >= k_bins) continue;  // silent here
    ++out.n_neurons_used;
    std::size_t next = 0;
    double v = 0.0;
    for (std::size_t k = 0; k < k_bins; ++k) {
      v *= decay;
      for (; next < t.size() && bin_index(t[next], s.t_start, dt) == k; ++next) {
        const double lag = (static_cast<double>(k) + 1.0) * dt - (t[next] - s.t_start);
        v += tau > 0.0 ? std::exp(-std::max(lag, 0.0) / tau) : 1.0;
      }
      trace[k] = v;
    }
    double mean = 0.0;
    for (std::size_t k = 0; k < k_bins; ++k) {
      mean += trace[k];
      population[k] += trace[k];
    }
    mean /= kk;
    double ss = 0.0;
    for (double x : trace) ss += (x - mean) * (x - mean);
    sum_var += ss / kk;
  }
  if (out.n_neurons_used == 0 || !(sum_var > 0.0)) {
    out.chi = kNaN;
    return out;
  }
  // population holds N times the averaged signal, so Var(avg) = Var(population) / N^2 and
  // chi^2 = [Var(population) / N^2] / [sum_var / N] = Var(population) / (N sum_var).
  double mean = 0.0;
  for (double x : population) mean += x;
  mean /= kk;
  double ss = 0.0;
  for (double x : population) ss += (x - mean) * (x - mean);
  out.chi = std::sqrt((ss / kk) / (static_cast<double>(out.n_neurons_used) * sum_var));
  return out;
}

// ---------------------------------------------------------------------------------------------
// All simulation statistics at once
// ---------------------------------------------------------------------------------------------

void SimulationStatsOptions::validate() const {
  constexpr std::string_view kWhere = "simulation stats";
  require_positive(kWhere, "fano_window", fano_window);
  require_positive(kWhere, "correlation_window", correlation_window);
  if (max_pairs == 0) fail(kWhere, "max_pairs", "must be >= 1");
  if (!(synchrony_tau >= 0.0) || !std::isfinite(synchrony_tau))
    fail(kWhere, "synchrony_tau", fmt::format("must be finite and >= 0 (got {})", synchrony_tau));
  require_positive(kWhere, "synchrony_dt", synchrony_dt);
  require_positive(kWhere, "population_bin", population_bin);
}

SimulationStats simulation_stats(const SpikeTrains& s, const SimulationStatsOptions& o) {
  validate(s);
  o.validate();
  SimulationStats st;
  st.n_neurons = s.n_neurons;
  st.n_spikes = s.times.size();
  st.duration = s.duration();
  st.fano_window = o.fano_window;
  st.correlation_window = o.correlation_window;
  st.synchrony_tau = o.synchrony_tau;
  st.population_bin = o.population_bin;

  std::vector<double> rates = firing_rates(s);
  double sum = 0.0;
  std::size_t silent = 0;
  for (double r : rates) {
    sum += r;
    silent += r == 0.0;
  }
  st.rate_mean = sum / static_cast<double>(rates.size());
  st.rate_max = *std::max_element(rates.begin(), rates.end());
  st.fraction_silent = static_cast<double>(silent) / static_cast<double>(rates.size());
  const std::size_t mid = rates.size() / 2;
  std::nth_element(rates.begin(), rates.begin() + static_cast<std::ptrdiff_t>(mid), rates.end());
  st.rate_median = rates[mid];
  if (rates.size() % 2 == 0)  // the other middle value is the largest of the lower half
    st.rate_median =
        0.5 * (st.rate_median +
               *std::max_element(rates.begin(), rates.begin() + static_cast<std::ptrdiff_t>(mid)));

  const CvIsi cv = cv_isi(s);
  st.cv_isi_mean = cv.mean;
  st.cv_isi_neurons = cv.n_neurons_used;

  const bool fano_ok = whole_bins(s.duration(), o.fano_window) >= 2;
  st.fano_mean = fano_ok ? fano_factor(s, o.fano_window).mean : kNaN;

  st.correlation_mean = kNaN;
  if (s.n_neurons >= 2 && whole_bins(s.duration(), o.correlation_window) >= 2) {
    const CountCorrelations c =
        spike_count_correlations(s, o.correlation_window, o.max_pairs, o.seed);
    st.correlation_mean = c.mean;
    st.correlation_pairs = c.n_pairs_used;
  }

  st.synchrony_chi = whole_bins(s.duration(), o.synchrony_dt) >= 2
                         ? golomb_synchrony(s, o.synchrony_tau, o.synchrony_dt).chi
                         : kNaN;

  st.population_peak_hz = kNaN;
  if (whole_bins(s.duration(), o.population_bin) >= 2) {
    const PopulationRate pr = population_rate(s, o.population_bin);
    st.population_peak_hz = peak_frequency(population_rate_spectrum(pr.rate, pr.bin));
  }
  return st;
}

std::vector<StatEntry> stat_entries(const SimulationStats& st) {
  auto count = [](std::size_t n) { return static_cast<double>(n); };
  return {
      {"n_neurons", count(st.n_neurons), ""},
      {"n_spikes", count(st.n_spikes), ""},
      {"duration", st.duration, "s"},
      {"rate_mean", st.rate_mean, "Hz"},
      {"rate_median", st.rate_median, "Hz"},
      {"rate_max", st.rate_max, "Hz"},
      {"fraction_silent", st.fraction_silent, ""},
      {"cv_isi_mean", st.cv_isi_mean, ""},
      {"cv_isi_neurons", count(st.cv_isi_neurons), ""},
      {"fano_mean", st.fano_mean, ""},
      {"fano_window", st.fano_window, "s"},
      {"correlation_mean", st.correlation_mean, ""},
      {"correlation_pairs", count(st.correlation_pairs), ""},
      {"correlation_window", st.correlation_window, "s"},
      {"synchrony_chi", st.synchrony_chi, ""},
      {"synchrony_tau", st.synchrony_tau, "s"},
      {"population_peak_frequency", st.population_peak_hz, "Hz"},
      {"population_bin", st.population_bin, "s"},
  };
}

// ---------------------------------------------------------------------------------------------
// Trained networks
// ---------------------------------------------------------------------------------------------

namespace {

void validate_counts(std::string_view where, const SampleCounts& c, bool need_labels) {
  if (c.n_neurons == 0) fail(where, "n_neurons", "must be > 0");
  if (c.n_samples == 0) fail(where, "n_samples", "must be > 0");
  if (c.counts.size() != c.n_samples * c.n_neurons)
    fail(where, "counts",
         fmt::format("has {} entries, expected n_samples x n_neurons = {} x {}", c.counts.size(),
                     c.n_samples, c.n_neurons));
  if (need_labels && c.labels.size() != c.n_samples)
    fail(where, "labels",
         fmt::format("has {} entries, expected n_samples = {}", c.labels.size(), c.n_samples));
}

// Total spikes of each neuron over all samples.
std::vector<std::uint64_t> neuron_totals(const SampleCounts& c) {
  std::vector<std::uint64_t> total(c.n_neurons, 0);
  for (std::size_t s = 0; s < c.n_samples; ++s)
    for (std::size_t j = 0; j < c.n_neurons; ++j) total[j] += c.at(s, j);
  return total;
}

}  // namespace

TuningCurves tuning_curves(const SampleCounts& c, std::size_t n_classes) {
  constexpr std::string_view kWhere = "tuning_curves";
  validate_counts(kWhere, c, true);
  if (n_classes < 2) fail(kWhere, "n_classes", fmt::format("must be >= 2 (got {})", n_classes));
  TuningCurves tc;
  tc.n_classes = n_classes;
  tc.n_neurons = c.n_neurons;
  tc.mean.assign(n_classes * c.n_neurons, 0.0);
  tc.samples_per_class.assign(n_classes, 0);
  for (std::size_t s = 0; s < c.n_samples; ++s) {
    const int label = c.labels[s];
    if (label < 0 || static_cast<std::size_t>(label) >= n_classes)
      fail(kWhere, fmt::format("labels[{}]", s),
           fmt::format("{} is not in [0, n_classes) = [0, {})", label, n_classes));
    const auto cls = static_cast<std::size_t>(label);
    ++tc.samples_per_class[cls];
    for (std::size_t j = 0; j < c.n_neurons; ++j) tc.mean[cls * c.n_neurons + j] += c.at(s, j);
  }
  for (std::size_t cls = 0; cls < n_classes; ++cls) {
    const std::size_t m = tc.samples_per_class[cls];
    for (std::size_t j = 0; j < c.n_neurons; ++j) {
      double& v = tc.mean[cls * c.n_neurons + j];
      v = m ? v / static_cast<double>(m) : kNaN;
    }
  }
  return tc;
}

Selectivity selectivity(const TuningCurves& tc) {
  std::size_t present = 0;
  for (std::size_t m : tc.samples_per_class) present += m > 0;
  if (present < 2)
    fail("selectivity", "tuning",
         fmt::format("needs at least 2 classes with samples (got {})", present));
  if (tc.mean.size() != tc.n_classes * tc.n_neurons || tc.samples_per_class.size() != tc.n_classes)
    fail("selectivity", "tuning", "mean / samples_per_class do not match n_classes x n_neurons");
  Selectivity out;
  out.index.assign(tc.n_neurons, 0.0);
  out.preferred_class.assign(tc.n_neurons, -1);
  for (std::size_t j = 0; j < tc.n_neurons; ++j) {
    int best = -1;
    double sum = 0.0;
    for (std::size_t cls = 0; cls < tc.n_classes; ++cls) {
      if (tc.samples_per_class[cls] == 0) continue;
      const double r = tc.at(cls, j);
      sum += r;
      if (best < 0 || r > tc.at(static_cast<std::size_t>(best), j)) best = static_cast<int>(cls);
    }
    const double r_max = tc.at(static_cast<std::size_t>(best), j);
    if (!(r_max > 0.0)) continue;  // silent: selectivity 0, no preferred class
    const double r_other = (sum - r_max) / static_cast<double>(present - 1);
    out.index[j] = (r_max - r_other) / (r_max + r_other);
    out.preferred_class[j] = best;
  }
  return out;
}

double silent_fraction(const SampleCounts& c) {
  validate_counts("silent_fraction", c, false);
  std::size_t silent = 0;
  for (std::uint64_t t : neuron_totals(c)) silent += t == 0;
  return static_cast<double>(silent) / static_cast<double>(c.n_neurons);
}

double saturated_fraction(const SampleCounts& c, double saturation) {
  constexpr std::string_view kWhere = "saturated_fraction";
  validate_counts(kWhere, c, false);
  if (c.n_steps == 0) fail(kWhere, "n_steps", "must be > 0 to judge saturation");
  if (!(saturation > 0.0 && saturation <= 1.0))
    fail(kWhere, "saturation", fmt::format("must be in (0, 1] (got {})", saturation));
  // Mean count per sample > saturation x n_steps  <=>  total > saturation x n_steps x n_samples.
  const double limit =
      saturation * static_cast<double>(c.n_steps) * static_cast<double>(c.n_samples);
  std::size_t saturated = 0;
  for (std::uint64_t t : neuron_totals(c)) saturated += static_cast<double>(t) > limit;
  return static_cast<double>(saturated) / static_cast<double>(c.n_neurons);
}

OperationsSummary synaptic_operations(std::span<const LayerActivity> layers,
                                      std::size_t n_samples) {
  constexpr std::string_view kWhere = "synaptic_operations";
  if (n_samples == 0) fail(kWhere, "n_samples", "must be >= 1");
  OperationsSummary out;
  const double ns = static_cast<double>(n_samples);
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const LayerActivity& a = layers[l];
    const std::string field = fmt::format("layers[{}] ('{}')", l, a.name);
    if (a.spikes.empty()) fail(kWhere, field + ".spikes", "is empty");
    if (a.fan_out.empty()) fail(kWhere, field + ".fan_out", "is empty");
    if (a.fan_out.size() > 1 && a.fan_out.size() != a.spikes.size())
      fail(kWhere, field + ".fan_out",
           fmt::format("has {} per-neuron entries but spikes has {}; give spikes per neuron too",
                       a.fan_out.size(), a.spikes.size()));
    LayerOperations op;
    op.name = a.name;
    for (std::size_t i = 0; i < a.spikes.size(); ++i) {
      op.spikes += a.spikes[i];
      op.synops += a.spikes[i] * (a.fan_out.size() == 1 ? a.fan_out[0] : a.fan_out[i]);
    }
    op.spikes_per_sample = static_cast<double>(op.spikes) / ns;
    op.synops_per_sample = static_cast<double>(op.synops) / ns;
    out.total_spikes += op.spikes;
    out.total_synops += op.synops;
    out.layers.push_back(std::move(op));
  }
  out.spikes_per_sample = static_cast<double>(out.total_spikes) / ns;
  out.synops_per_sample = static_cast<double>(out.total_synops) / ns;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Run summaries
// ---------------------------------------------------------------------------------------------

double voltage_synchrony_chi(std::span<const float> samples, std::size_t n_neurons) {
  if (n_neurons < 2 || samples.size() < 2 * n_neurons) return std::numeric_limits<double>::quiet_NaN();
  const std::size_t n_t = samples.size() / n_neurons;
  std::vector<double> sum(n_neurons, 0.0), sum2(n_neurons, 0.0);
  double mean_sum = 0.0, mean_sum2 = 0.0;
  for (std::size_t k = 0; k < n_t; ++k) {
    double m = 0.0;
    for (std::size_t i = 0; i < n_neurons; ++i) {
      const double x = samples[k * n_neurons + i];
      sum[i] += x;
      sum2[i] += x * x;
      m += x;
    }
    m /= static_cast<double>(n_neurons);
    mean_sum += m;
    mean_sum2 += m * m;
  }
  const double nt = static_cast<double>(n_t);
  double individual = 0.0;
  for (std::size_t i = 0; i < n_neurons; ++i) {
    const double mu = sum[i] / nt;
    individual += std::max(0.0, sum2[i] / nt - mu * mu);
  }
  individual /= static_cast<double>(n_neurons);
  const double mu = mean_sum / nt;
  const double population = std::max(0.0, mean_sum2 / nt - mu * mu);
  if (!(individual > 0.0)) return std::numeric_limits<double>::quiet_NaN();
  return std::sqrt(population / individual);
}

void add_spike_statistics(io::SimSummary& summary, const Network& net) {
  for (auto& p : summary.populations) {
    for (const auto& m : net.state_monitors()) {
      if (m->population().name() != p.name || m->indices().size() < 2) continue;
      const auto& vars = m->variables();
      const auto it = std::find(vars.begin(), vars.end(), "v");
      if (it == vars.end()) continue;
      const auto& v = m->values[static_cast<std::size_t>(it - vars.begin())];
      const double chi = voltage_synchrony_chi(v, m->indices().size());
      if (std::isfinite(chi)) p.synchrony_chi_v = chi;
      break;
    }
    for (const auto& m : net.spike_monitors()) {
      if (m->population().name() != p.name) continue;
      SpikeTrains st;
      st.times = m->times;
      st.units = m->units;
      st.n_neurons = m->population().size();
      st.t_stop = net.time();
      for (double t : st.times) st.t_stop = std::max(st.t_stop, t);
      if (st.n_neurons > 0 && st.t_stop > st.t_start) {
        const double cv = cv_isi(st).mean;
        if (std::isfinite(cv)) p.cv_isi = cv;
      }
      break;  // the first monitor of the population, as summary.json has always used
    }
  }
}

}  // namespace volley::analysis

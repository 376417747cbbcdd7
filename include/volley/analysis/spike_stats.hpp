#pragma once
// Spike-train statistics: rates, inter-spike intervals, count variability and correlations,
// PSTHs, population rate and its spectrum, Golomb's synchrony measure, and the tuning and cost
// statistics of trained networks.
//
// Input is one population's spikes as volley writes them to spikes.h5 (/NAME/times in seconds,
// /NAME/units), with the neuron count and the recorded interval [t_start, t_stop]. Spikes may
// come in any order. Every function validates its input and throws ParameterError naming the
// offending argument (and index) and what is wrong; nothing keeps global state, and the only
// random choice (which neuron pairs to sample) is a pure function of a seed.
//
// Conventions used throughout:
//  * Time is cut into consecutive bins (or count windows) of width w starting at t_start; a
//    recording of duration T = t_stop - t_start holds K = floor(T/w) whole bins (with a
//    tolerance for rounding, so 1 s holds 1000 bins of 1 ms). Spikes in the last, incomplete
//    bin are not counted by binned statistics. Bin k is [t_start + k w, t_start + (k+1) w).
//  * "NaN" marks a statistic that is undefined for a neuron (e.g. a CV with fewer than two
//    intervals); summaries average over the neurons where it is defined and report how many.
#include <complex>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "volley/io/outputs.hpp"

namespace volley::analysis {

// ---------------------------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------------------------

// One population's spikes: spike k is neuron units[k] at times[k] (s). All times must lie in
// [t_start, t_stop] and every unit must be < n_neurons.
struct SpikeTrains {
  std::vector<double> times;
  std::vector<std::uint32_t> units;
  std::size_t n_neurons = 0;
  double t_start = 0.0;
  double t_stop = 0.0;
  double duration() const { return t_stop - t_start; }
};

// Throws ParameterError unless: times and units have the same length, n_neurons > 0, t_start and
// t_stop are finite with t_stop > t_start, and every time is finite and in [t_start, t_stop] and
// every unit < n_neurons. Every function below calls it.
void validate(const SpikeTrains& trains);

// The spikes in [t0, t1] as trains with t_start = t0 and t_stop = t1 (e.g. to skip a transient).
// Requires t_start <= t0 < t1 <= t_stop.
SpikeTrains time_window(const SpikeTrains& trains, double t0, double t1);

// Spikes grouped by neuron, each neuron's times sorted: neuron i's spikes are
// times[offsets[i] .. offsets[i+1]). Built by a counting sort over units, O(spikes + neurons)
// plus sorting within neurons whose spikes are not already in time order.
struct SpikesByNeuron {
  std::vector<std::size_t> offsets;  // n_neurons + 1 entries
  std::vector<double> times;
  std::span<const double> of(std::size_t neuron) const {
    return {times.data() + offsets[neuron], offsets[neuron + 1] - offsets[neuron]};
  }
};
SpikesByNeuron group_by_neuron(const SpikeTrains& trains);

// ---------------------------------------------------------------------------------------------
// Rates and inter-spike intervals
// ---------------------------------------------------------------------------------------------

// Rate of each neuron in Hz: its spike count / (t_stop - t_start).
std::vector<double> firing_rates(const SpikeTrains& trains);

// Histogram of all inter-spike intervals (consecutive spikes of the same neuron, pooled over
// neurons). Bin k counts intervals in [k bin_width, (k+1) bin_width) for k < floor(max_isi /
// bin_width); longer intervals are counted in `overflow`.
struct IsiHistogram {
  double bin_width = 0.0;
  std::vector<double> edges;          // bins + 1 edges, edges[k] = k bin_width (s)
  std::vector<std::uint64_t> counts;  // bins
  std::uint64_t overflow = 0;         // intervals >= edges.back()
  std::uint64_t total = 0;            // all intervals = sum(counts) + overflow
};
IsiHistogram isi_histogram(const SpikeTrains& trains, double bin_width, double max_isi);

// Coefficient of variation of each neuron's ISIs, CV = std / mean with the population standard
// deviation (divide by the number of intervals n, not n - 1; the convention of summary.json's
// cv_isi and of elephant's cv). NaN for neurons with fewer than two intervals. A Poisson process
// has CV 1, a gamma process of order k has CV 1/sqrt(k), a periodic train CV 0.
struct CvIsi {
  std::vector<double> cv;  // per neuron
  double mean = 0.0;       // mean over neurons with >= 2 intervals (NaN if none)
  std::size_t n_neurons_used = 0;
};
CvIsi cv_isi(const SpikeTrains& trains);

// ---------------------------------------------------------------------------------------------
// Spike-count variability and correlations
// ---------------------------------------------------------------------------------------------

// Fano factor of each neuron's spike counts in the K = floor(T / window) consecutive
// non-overlapping windows: F = s^2 / m with m the mean count and s^2 the unbiased sample
// variance (divide by K - 1), so that s^2 and m estimate the same number for a Poisson process
// (F = 1); F ~ CV^2 for a renewal process and long windows, F ~ 0 for a periodic train and
// windows that are multiples of its period. NaN where m = 0. Requires K >= 2.
struct FanoFactor {
  std::vector<double> fano;  // per neuron
  double mean = 0.0;         // mean over neurons with m > 0 (NaN if none)
  std::size_t n_neurons_used = 0;
  std::size_t n_windows = 0;
};
FanoFactor fano_factor(const SpikeTrains& trains, double window);

using NeuronPair = std::pair<std::uint32_t, std::uint32_t>;

// Pearson correlation coefficient of two neurons' spike counts over the K = floor(T / window)
// windows: r = cov(n_i, n_j) / sqrt(var n_i var n_j) (the normalisation of the covariances
// cancels). Counts are summed exactly as integers, so silent or constant-count neurons are
// detected exactly: their r is NaN and they are left out of the mean. Requires K >= 2.
struct CountCorrelations {
  std::vector<NeuronPair> pairs;
  std::vector<double> r;  // per pair, NaN if either count has zero variance
  double mean = 0.0;      // over pairs with finite r (NaN if none)
  std::size_t n_pairs_used = 0;
  std::size_t n_windows = 0;
};
// The given pairs (each neuron < n_neurons, i != j).
CountCorrelations spike_count_correlations(const SpikeTrains& trains, double window,
                                           std::span<const NeuronPair> pairs);
// All pairs when n_neurons (n_neurons - 1) / 2 <= max_pairs, else sample_pairs(...).
CountCorrelations spike_count_correlations(const SpikeTrains& trains, double window,
                                           std::size_t max_pairs, std::uint64_t seed);

// Distinct unordered pairs (i < j), sorted: all of them if there are at most max_pairs,
// otherwise max_pairs drawn uniformly without replacement (Floyd's algorithm, O(max_pairs)) with
// volley's counter-based RNG keyed by `seed` (stream RngStream::kUser), so the sample depends
// only on (n_neurons, max_pairs, seed). Requires n_neurons >= 2 and max_pairs >= 1.
std::vector<NeuronPair> sample_pairs(std::size_t n_neurons, std::size_t max_pairs,
                                     std::uint64_t seed);

// ---------------------------------------------------------------------------------------------
// Trigger-locked and population rates, spectrum
// ---------------------------------------------------------------------------------------------

// Peri-stimulus time histogram: spikes at t - trigger in [-window_before, window_after), in
// bins of `bin`, as a rate in Hz per neuron: count / (triggers used x neurons x bin). Only
// triggers whose whole window lies inside [t_start, t_stop] are used (otherwise bins near the
// edges would be under-counted); at least one must be. `neurons` selects a subset (all when
// empty; duplicates are not allowed).
struct Psth {
  double bin = 0.0;
  std::vector<double> time;  // bin centres relative to the trigger (s)
  std::vector<double> rate;  // Hz per neuron
  std::size_t n_triggers_used = 0;
  std::size_t n_neurons_used = 0;
};
Psth psth(const SpikeTrains& trains, std::span<const double> trigger_times, double window_before,
          double window_after, double bin, std::span<const std::uint32_t> neurons = {});

// Population rate: spikes of all neurons in each of the K = floor(T / bin) bins, divided by
// (n_neurons x bin), i.e. Hz per neuron.
struct PopulationRate {
  double bin = 0.0;
  std::vector<double> time;  // bin centres (s, absolute)
  std::vector<double> rate;  // Hz per neuron
};
PopulationRate population_rate(const SpikeTrains& trains, double bin);

// Discrete Fourier transform X_k = sum_n x_n exp(-2 pi i k n / N) (no scaling), any N >= 1, in
// O(N log N): Eigen's FFT (kissfft), with Bluestein's chirp-z reduction for lengths that have a
// large prime factor (src/core/fft.hpp).
std::vector<std::complex<double>> discrete_fourier_transform(
    std::span<const std::complex<double>> x);

// One-sided power spectral density of a sampled signal x_0..x_{N-1} (spacing `bin` s), after
// subtracting its mean. With X_k the DFT above and df = 1 / (N bin):
//   psd_k = c_k bin |X_k|^2 / N,   c_k = 1 for k = 0 and (N even) k = N/2, else 2,
// at frequencies f_k = k df, k = 0 .. floor(N/2). Units: (units of x)^2 / Hz, so Hz for a rate.
// Parseval: sum_k psd_k df = (1/N) sum_n (x_n - mean)^2, the variance of x; a sinusoid of
// amplitude A at a bin frequency puts A^2 / 2 into psd_k df at that bin. Requires N >= 2.
struct Spectrum {
  double df = 0.0;
  std::vector<double> frequency;  // Hz
  std::vector<double> psd;
};
Spectrum population_rate_spectrum(std::span<const double> rate, double bin);

// Frequency of the largest psd value at a frequency > f_min (the DC bin is always excluded);
// NaN when there is no such bin or the spectrum is all zero.
double peak_frequency(const Spectrum& spectrum, double f_min = 0.0);

// ---------------------------------------------------------------------------------------------
// Synchrony
// ---------------------------------------------------------------------------------------------

// Golomb's synchrony measure chi (Golomb & Rinzel 1993; Golomb 2007, Scholarpedia 2(1):1347):
//   chi^2 = Var_t( (1/N) sum_i V_i(t) ) / ( (1/N) sum_i Var_t(V_i(t)) ),
// where V_i is neuron i's spike train filtered by a causal exponential kernel,
//   V_i(t) = sum_{spikes s <= t} exp(-(t - s) / tau),
// sampled at the ends of the K = floor(T / dt) bins of width dt (the filter is exact at those
// points). With tau = 0, V_i is instead the spike count in each bin of width dt. Variances over
// time divide by K. Neurons without spikes in the K bins are left out (they would only dilute
// chi) and N counts the others. chi = 1 for identical trains; for N independent neurons
// chi ~ 1/sqrt(N). NaN if no neuron spikes. Requires tau >= 0, dt > 0 and K >= 2.
struct Synchrony {
  double chi = 0.0;
  std::size_t n_neurons_used = 0;
  std::size_t n_samples = 0;  // K
};
Synchrony golomb_synchrony(const SpikeTrains& trains, double tau, double dt);

// ---------------------------------------------------------------------------------------------
// All simulation statistics at once (for `volley analyze`)
// ---------------------------------------------------------------------------------------------

struct SimulationStatsOptions {
  double fano_window = 0.1;         // s
  double correlation_window = 0.1;  // s
  std::size_t max_pairs = 1000;     // pairs sampled for correlations
  std::uint64_t seed = 1;           // for the pair sample
  double synchrony_tau = 3e-3;      // s; 0 = binned counts
  double synchrony_dt = 5e-4;       // s
  double population_bin = 1e-3;     // s, for the population-rate spectrum
  void validate() const;            // throws ParameterError naming the field
};

// Statistics that need more of the recording than there is (fewer than two windows, fewer than
// two neurons for correlations) are NaN rather than errors, so a short run still summarises.
struct SimulationStats {
  std::size_t n_neurons = 0;
  std::size_t n_spikes = 0;
  double duration = 0.0;         // s
  double rate_mean = 0.0;        // Hz, over all neurons
  double rate_median = 0.0;      // Hz (mean of the two middle values for even N)
  double rate_max = 0.0;         // Hz
  double fraction_silent = 0.0;  // neurons without spikes / n_neurons
  double cv_isi_mean = 0.0;      // CvIsi::mean
  std::size_t cv_isi_neurons = 0;
  double fano_mean = 0.0;  // FanoFactor::mean at fano_window
  double fano_window = 0.0;
  double correlation_mean = 0.0;      // CountCorrelations::mean at correlation_window
  std::size_t correlation_pairs = 0;  // pairs with a finite r
  double correlation_window = 0.0;
  double synchrony_chi = 0.0;  // Synchrony::chi
  double synchrony_tau = 0.0;
  double population_peak_hz = 0.0;  // peak_frequency of the population-rate spectrum
  double population_bin = 0.0;
};
SimulationStats simulation_stats(const SpikeTrains& trains,
                                 const SimulationStatsOptions& options = {});

// A flat, serialisable view: (name, value, unit) with unit "" for dimensionless numbers and
// counts; names are unique snake_case keys in a fixed order.
struct StatEntry {
  std::string name;
  double value = 0.0;
  std::string unit;
};
std::vector<StatEntry> stat_entries(const SimulationStats& stats);

// ---------------------------------------------------------------------------------------------
// Trained networks: tuning, silent/saturated neurons, spikes and synaptic operations
// ---------------------------------------------------------------------------------------------

// Spike counts of one layer over a labelled set of samples.
struct SampleCounts {
  std::size_t n_samples = 0;
  std::size_t n_neurons = 0;
  std::vector<std::uint32_t> counts;  // row-major [n_samples x n_neurons]
  std::vector<int> labels;            // n_samples class labels
  std::size_t n_steps = 0;            // time steps per sample (needed for saturation only)
  std::uint32_t at(std::size_t sample, std::size_t neuron) const {
    return counts[sample * n_neurons + neuron];
  }
};

// Mean spike count per (class, neuron) over the samples of each class; NaN for a class that
// has no samples. Labels must be in [0, n_classes), n_classes >= 2.
struct TuningCurves {
  std::size_t n_classes = 0;
  std::size_t n_neurons = 0;
  std::vector<double> mean;  // row-major [n_classes x n_neurons]
  std::vector<std::size_t> samples_per_class;
  double at(std::size_t cls, std::size_t neuron) const { return mean[cls * n_neurons + neuron]; }
};
TuningCurves tuning_curves(const SampleCounts& counts, std::size_t n_classes);

// Per neuron, over the classes that have samples (at least two are needed):
//   preferred class c* = argmax_c r_c (lowest index on ties), r_max = r_{c*},
//   r_other = mean of r_c over the other classes,
//   selectivity = (r_max - r_other) / (r_max + r_other), in [0, 1]:
// 0 for a neuron that responds equally to every class, 1 for one that fires for one class only.
// Silent neurons (r_max = 0) get selectivity 0 and preferred class -1.
struct Selectivity {
  std::vector<double> index;
  std::vector<int> preferred_class;
};
Selectivity selectivity(const TuningCurves& tuning);

// Fraction of neurons with zero spikes over all samples.
double silent_fraction(const SampleCounts& counts);

// Fraction of neurons whose mean count per sample exceeds saturation x n_steps, i.e. that fire
// on more than a fraction `saturation` of the time steps on average. Needs n_steps > 0 and
// saturation in (0, 1].
double saturated_fraction(const SampleCounts& counts, double saturation = 0.9);

// One layer's activity for operation counting. `spikes` is either one entry (the layer's total
// over all samples) or one per neuron; `fan_out` (outgoing synapses per neuron) is either one
// entry (the same for every neuron) or one per neuron, in which case spikes must be per neuron
// too. Synaptic operations = sum over spikes of the spiking neuron's fan-out.
struct LayerActivity {
  std::string name;
  std::vector<std::uint64_t> spikes;
  std::vector<std::uint64_t> fan_out;
};
struct LayerOperations {
  std::string name;
  std::uint64_t spikes = 0;
  std::uint64_t synops = 0;
  double spikes_per_sample = 0.0;
  double synops_per_sample = 0.0;
};
struct OperationsSummary {
  std::vector<LayerOperations> layers;
  std::uint64_t total_spikes = 0;
  std::uint64_t total_synops = 0;
  double spikes_per_sample = 0.0;
  double synops_per_sample = 0.0;
};
// Exact integer totals; per-sample values divide by n_samples (>= 1).
OperationsSummary synaptic_operations(std::span<const LayerActivity> layers, std::size_t n_samples);

// ---------------------------------------------------------------------------------------------
// Run summaries
// ---------------------------------------------------------------------------------------------

// Golomb's chi in its original form, on sampled traces (membrane potentials from a state
// monitor) rather than golomb_synchrony's filtered spike trains: the same ratio of the variance of
// the population mean to the mean of the neurons' variances, over the given samples. `samples`
// holds rows of n_neurons values, one row per time. NaN with fewer than 2 rows or neurons, or
// when no neuron varies.
double voltage_synchrony_chi(std::span<const float> samples, std::size_t n_neurons);

// Fills the spike statistics of a summary.json (io::SimSummary, made by io::summarize after the
// run): each population's cv_isi, CvIsi::mean of its first spike monitor's spikes over
// [0, net.time()]. Populations without a monitor, or without a neuron of two or more intervals,
// keep none (written as null). Also synchrony_chi_v, the chi of v, from the population's first
// state monitor that records v of two or more neurons.
void add_spike_statistics(io::SimSummary& summary, const Network& net);

}  // namespace volley::analysis

#pragma once
// A cochlear front end (the role Brian Hears plays for Brian2): one channel of sound in,
// auditory-nerve spikes out. Three stages, each usable on its own:
//   1. GammatoneFilterbank: 4th-order gammatone filters, centre frequencies on the ERB scale
//      (Glasberg & Moore 1990), bandwidth b = 1.019·ERB(cf), 0 dB gain at cf.
//   2. HairCells: half-wave rectification and cube-root compression (3·clip(x, 0, ∞)^(1/3), as
//      in Brian Hears' examples), a lowpass that removes the fine structure at high frequencies
//      (loss of phase locking), and divisive adaptation with a fast and a slow time constant.
//   3. AuditoryNerve: a saturating rate function between spont_rate and max_rate, Bernoulli
//      spikes per sample with an absolute refractory period, drawn from a counter-based RNG
//      keyed by (seed, unit, sample), so spikes do not depend on block sizes or threads.
// Cochlea chains the three and processes a sound in blocks (memory stays bounded for long
// sounds); auditory_nerve() is the one-call form.
//
// Level convention: samples are sound pressure in pascals after multiplication by level_gain
// (0 dB SPL = 20 µPa RMS, so a 60 dB SPL tone has amplitude 0.02·√2 Pa). The default nerve
// parameters are calibrated to that convention (see NerveConfig).
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace volley::ear {

// ---- ERB scale (Glasberg & Moore 1990) ------------------------------------------------------

// Equivalent rectangular bandwidth in Hz: 24.7·(4.37·f/1000 + 1).
double erb_hz(double f);
// ERB-number ("Cams") of f: 21.4·log10(4.37·f/1000 + 1); erb_number_to_hz is its inverse.
double erb_number(double f);
double erb_number_to_hz(double erb);
// n frequencies equally spaced on the ERB-number scale from f_low to f_high inclusive, in
// ascending order (n = 1 gives {f_low}). ParameterError unless 0 < f_low <= f_high and n >= 1.
std::vector<double> erb_space(double f_low, double f_high, std::size_t n);

// Gammatone bandwidth parameter b = 1.019·ERB(cf) (Patterson et al. 1992).
double gammatone_bandwidth(double cf);

// Magnitude response in dB of a 4th-order gammatone with centre frequency cf, normalised to
// 0 dB at cf.
//  - samplerate == 0: the exact continuous-time filter g(t) = t³·e^(−2πbt)·cos(2π·cf·t), whose
//    transfer function is H(f) ∝ (b + i(f − cf))^(−4) + (b + i(f + cf))^(−4). The second
//    (negative-frequency) term matters only at low cf; without it this is the familiar
//    [1 + ((f − cf)/b)²]^(−2).
//  - samplerate > 0: the exact response of the digital filter GammatoneFilterbank implements
//    at that samplerate (see there).
// ParameterError unless cf > 0, samplerate >= 0 and (if samplerate > 0) cf < samplerate/2.
double gammatone_magnitude_db(double f, double cf, double samplerate);

// ---- Stage 1: gammatone filterbank ----------------------------------------------------------

// Each channel is the base-band "complex one-pole cascade" realisation of the gammatone
// (Holdsworth et al. 1988; Slaney's "efficient implementation"), written without the explicit
// frequency shift: four cascaded complex one-pole filters
//   y_k[n] = (1 − a)·y_{k−1}[n] + a·e^(iω_c)·y_k[n−1],   a = e^(−2πb/fs), ω_c = 2π·cf/fs,
// with output Re(y_4)·G. Shifting the poles to e^(iω_c) is the same as demodulating to base
// band, low-passing and remodulating, but needs no running phasor. The impulse response is
// C(n+3, 3)·aⁿ·cos(ω_c·n), a close relative of the sampled gammatone. Over cf ± 2b its
// magnitude response is within 0.05 dB of the continuous gammatone's at 44.1 kHz (cf up to
// 5 kHz); the gap grows with b/fs and near Nyquist (0.36 dB at cf = 5 kHz, 2b off, 16 kHz).
// G makes the gain exactly 0 dB at cf. The state is double precision (poles sit close to the
// unit circle at low cf); samples are processed one at a time with the inner loop over
// channels (structure of arrays), which the compiler vectorises: 700 channels × 1 s at 16 kHz
// take ≈ 16 ms on one core (AVX-512).
class GammatoneFilterbank {
 public:
  // ParameterError unless samplerate > 0, there is at least one channel and every centre
  // frequency is in (0, samplerate/2).
  GammatoneFilterbank(std::vector<double> centre_frequencies, double samplerate);

  std::size_t channels() const { return cf_.size(); }
  const std::vector<double>& centre_frequencies() const { return cf_; }
  double samplerate() const { return fs_; }

  // Filters `in` (continuing from the current state) into out[t*channels() + c]; out is
  // resized to in.size()*channels().
  void process(std::span<const float> in, std::vector<float>& out);
  // The same, writing into a caller-provided buffer of in.size()*channels() floats.
  void process(std::span<const float> in, std::span<float> out);
  // Zeroes the filter state (as after construction).
  void reset();

 private:
  std::vector<double> cf_;
  double fs_;
  // Per channel (structure of arrays): pole p = a·e^(iω_c), stage gain 1 − a, output gain G.
  std::vector<double> pole_re_, pole_im_, gain_, out_gain_;
  // State of the four stages: state_re_[k*channels + c].
  std::vector<double> state_re_, state_im_;
};

// ---- Stage 2: inner hair cells and adaptation -----------------------------------------------

// Per channel, for each sample x of the filterbank output:
//   r = compression_gain·max(x, 0)^(1/3)                 rectification and compression
//   v = lowpass(r)        `lowpass_order` cascaded one-pole sections at `lowpass_cutoff`
//   y = v / (1 + fast_weight·A_f + slow_weight·A_s)      divisive adaptation
// where A_f and A_s are v low-passed with time constants fast_tau and slow_tau. The lowpass
// models the IHC membrane, which limits phase locking at high frequencies (cascaded one-poles
// at 1 kHz: the fine structure at 4 kHz is attenuated by about 25 dB, at 500 Hz by 2 dB).
// Adaptation is divisive, like depletion of a transmitter pool, so it lowers the mean drive
// after an onset (rapid ≈ a few ms, short-term ≈ tens of ms; Westerman & Smith 1984) while
// leaving the shape of the phase-locked waveform, and so the vector strength, nearly unchanged.
// Its steady state for a constant v, y = v/(1 + (w_f + w_s)·v), also compresses high levels.
// The onset this gives is modest, and capped by max_rate downstream: a 4 kHz tone at 50 dB SPL
// fires ≈ 1.5× its steady rate in the first milliseconds (real fibres: 2–10×).
struct HairCellConfig {
  double compression_gain = 3.0;
  double lowpass_cutoff = 1000.0;  // Hz, per section
  int lowpass_order = 2;           // 0 (no lowpass) .. 4
  double fast_tau = 3e-3;          // s
  double fast_weight = 1.0;
  double slow_tau = 50e-3;  // s
  double slow_weight = 1.0;
  // ParameterError naming the field.
  void validate() const;
};

class HairCells {
 public:
  HairCells(std::size_t channels, double samplerate, const HairCellConfig& config = {});
  std::size_t channels() const { return channels_; }
  // Transforms signal[t*channels() + c] in place (filterbank output in, drive out).
  void process(std::span<float> signal);
  void reset();

 private:
  std::size_t channels_;
  HairCellConfig c_;
  float lp_alpha_, fast_alpha_, slow_alpha_;
  std::vector<float> lp_state_;  // [k*channels + c]
  std::vector<float> fast_, slow_;
};

// ---- Stage 3: auditory-nerve fibres ---------------------------------------------------------

// Each channel feeds fibres_per_channel independent fibres; unit = channel·fibres + fibre.
// Instantaneous rate from the hair-cell drive y >= 0 (a Hill function):
//   rate(y) = spont_rate + (max_rate − spont_rate)·yⁿ/(yⁿ + half_driveⁿ),  n = rate_exponent.
// The expansive foot (n = 4) stands in for the synaptic threshold: after the cube-root
// compression and the lowpass, a tone's drive is close to a raised sinusoid, whose vector
// strength cannot exceed 0.5; raising it to the 4th power restores the silent part of the cycle
// that makes real fibres phase-lock with vector strengths of 0.6–0.9.
// After a spike a fibre is silent for `refractory` (rounded up to whole samples). The
// per-sample spike probability is corrected for that dead time, p = rate·dt/(1 − rate·(m−1)·dt)
// with m = ceil(refractory/dt), so a constant rate r gives a mean firing rate of exactly r: in
// silence fibres fire at spont_rate, and the steady rate saturates at max_rate (which therefore
// must be < 1/refractory).
// Calibration with the default hair-cell stage (pascals in, level_gain = 1; measured by the
// tests, steady rate 0.1–0.4 s after onset): a 4 kHz tone at cf leaves the rate near spont up
// to 20 dB SPL, reaches half the driven range near 57 dB and ≈ 0.9·max_rate at 90–100 dB (a
// wide dynamic range, since the cube root compresses 20 dB into a factor 2.15); a 500 Hz tone
// drives rates from ≈ 10 dB SPL but saturates lower (≈ 165/s at 100 dB) because the rate is
// modulated within each cycle. Vector strength at 60 dB SPL for a tone at cf: 0.63 (500 Hz),
// 0.53 (1 kHz), 0.25 (2 kHz), 0.05 (4 kHz), i.e. a roll-off about an octave lower than in the
// cat (Johnson 1980), set by the 1 kHz IHC lowpass; it falls somewhat with level as the rate
// saturates.
// Random numbers: CounterRng(seed, stream, unit, sample) with stream = 0x00EA0000 +
// stream_object, so two ears sharing a seed need different stream_object values.
struct NerveConfig {
  std::size_t fibres_per_channel = 1;
  double spont_rate = 5.0;   // Hz
  double max_rate = 250.0;   // Hz
  double refractory = 1e-3;  // s, absolute
  double half_drive = 0.2;   // hair-cell drive at half the driven rate
  int rate_exponent = 4;     // n, 1..8
  std::uint64_t seed = 1;
  std::uint32_t stream_object = 0;  // 0 .. 0xFFFF
  // ParameterError naming the field.
  void validate() const;
};

// The rate function above, in Hz.
double nerve_rate(double drive, const NerveConfig& config);

// A spike: (time in seconds from the start of the sound, unit index).
using SpikeEvent = std::pair<double, std::uint32_t>;

class AuditoryNerve {
 public:
  AuditoryNerve(std::size_t channels, double samplerate, const NerveConfig& config = {});
  std::size_t channels() const { return channels_; }
  std::size_t units() const { return channels_ * c_.fibres_per_channel; }
  // Draws spikes for drive[t*channels() + c] (negative drive counts as 0), continuing from
  // the current sample count, and appends them to `spikes` ordered by time, then unit; a
  // spike at sample t has time t/samplerate.
  void process(std::span<const float> drive, std::vector<SpikeEvent>& spikes);
  // Back to sample 0 with every fibre out of refractoriness.
  void reset();
  std::uint64_t samples_done() const { return sample_; }

 private:
  std::size_t channels_;
  double fs_;
  NerveConfig c_;
  std::uint32_t stream_;
  std::uint32_t dead_samples_;  // m − 1
  std::uint64_t sample_ = 0;
  std::vector<std::uint32_t> dead_;  // samples of refractoriness left, per unit
  // Scratch for one sample: draws and spike flags per unit, probabilities per channel and
  // (with several fibres per channel) per unit.
  std::vector<double> uniform_;
  std::vector<std::uint8_t> fired_;
  std::vector<double> chan_prob_, unit_prob_;
};

// ---- The whole chain ------------------------------------------------------------------------

struct CochleaConfig {
  // Centre frequencies: `channels` values ERB-spaced over [f_low, f_high], unless
  // centre_frequencies is non-empty, which is then used as given.
  double f_low = 50.0;
  double f_high = 8000.0;  // must be below samplerate/2 (at 16 kHz use e.g. 7500)
  std::size_t channels = 700;
  std::vector<double> centre_frequencies;
  double level_gain = 1.0;  // multiplies the samples (to pascals)
  HairCellConfig ihc;
  NerveConfig nerve;
  // ParameterError naming the field (includes the stage configs and the Nyquist limit).
  void validate(double samplerate) const;
  // The centre frequencies this config selects.
  std::vector<double> resolved_centre_frequencies() const;
};

class Cochlea {
 public:
  Cochlea(const CochleaConfig& config, double samplerate);
  std::size_t channels() const { return filterbank_.channels(); }
  std::size_t units() const { return nerve_.units(); }
  const std::vector<double>& centre_frequencies() const { return filterbank_.centre_frequencies(); }
  double samplerate() const { return filterbank_.samplerate(); }
  // Processes the next part of the sound (state carries over between calls, so a sound split
  // into parts gives the same spikes as in one call) and appends its spikes to `spikes`.
  void process(std::span<const float> sound, std::vector<SpikeEvent>& spikes);
  // The hair-cell drive of the next part of the sound, drive[t*channels() + c], without
  // spikes. It advances the filter and hair-cell state but not the nerve's clock, so use a
  // Cochlea either for drive() or for process(), not both (or reset() in between).
  void drive(std::span<const float> sound, std::vector<float>& drive);
  void reset();

 private:
  double level_gain_;
  GammatoneFilterbank filterbank_;
  HairCells hair_cells_;
  AuditoryNerve nerve_;
  std::vector<float> scaled_, block_;
};

// Spikes of the auditory nerve for a whole sound (a fresh Cochlea, one call).
std::vector<SpikeEvent> auditory_nerve(std::span<const float> sound, double samplerate,
                                       const CochleaConfig& config = {});

}  // namespace volley::ear

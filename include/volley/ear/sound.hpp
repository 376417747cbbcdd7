#pragma once
// Sounds for the auditory front end (after Brian Hears' Sound class): sampled multi-channel
// waveforms, generators for test stimuli (tones, harmonic complexes, white and pink noise),
// binaural cues (ITD, ILD, IPD), and WAV input/output through libsndfile.
//
// Amplitudes are linear and dimensionless, 1.0 = digital full scale. Levels are in dB re an RMS
// of 1.0 ("dB FS-RMS"): a full-scale square wave is 0 dB, a full-scale sine is −3.01 dB.
// All noise comes from the counter-based RNG (rng.hpp), so a sound is a pure function of its
// parameters and seed.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace volley::ear {

struct Sound {
  double samplerate = 44100.0;  // Hz
  std::size_t channels = 1;
  std::vector<float> samples;  // interleaved frames: samples[frame * channels + ch]

  std::size_t frames() const { return channels == 0 ? 0 : samples.size() / channels; }
  double duration() const { return static_cast<double>(frames()) / samplerate; }  // s
  // A copy of one channel; ParameterError if c >= channels.
  std::vector<float> channel(std::size_t c) const;
};

// Root-mean-square amplitude of one channel (0 for an empty sound).
double rms(const Sound& s, std::size_t channel);
// 20·log10(rms) in dB re RMS 1.0; −infinity for a silent channel.
double level_db(const Sound& s, std::size_t channel);
// Scales every channel by one factor so that the loudest channel is at `db` (interaural level
// differences are kept). ParameterError if the sound is silent.
Sound& set_level_db(Sound& s, double db);

// --- Generators: mono; ParameterError naming the field for impossible values. ---------------
// Durations are rounded to a whole number of samples (at least one).

// sin(2π·frequency·t + phase), unit amplitude, 0 < frequency < samplerate/2.
Sound tone(double frequency, double duration, double samplerate = 44100.0, double phase = 0.0);
// Σ_{k=1..n} sin(2π·k·f0·t): equal unit amplitudes, sine phase; every harmonic must lie below
// Nyquist.
Sound harmonic_complex(double f0, std::size_t n_harmonics, double duration,
                       double samplerate = 44100.0);
// Independent Gaussian samples, mean 0, variance 1 (not renormalised: the realised RMS varies).
Sound white_noise(double duration, double samplerate, std::uint64_t seed);
// Gaussian noise with power ∝ 1/f from the lowest DFT bin to Nyquist (−10 dB/decade,
// −3.01 dB/octave), no DC, scaled to an RMS of exactly 1.
Sound pink_noise(double duration, double samplerate, std::uint64_t seed);
Sound silence(double duration, double samplerate);

// --- Binaural cues: channel 0 = left ear, channel 1 = right ear. ----------------------------

// A mono sound presented to both ears with an interaural time and level difference.
// itd_seconds > 0 delays the right ear (the source is on the left); < 0 delays the left ear.
// The delay is fractional: a Blackman-windowed sinc interpolator (64 taps) whose delay is
// correct within 1e-4 samples and gain within 0.003 dB below 0.45·samplerate (0.004 samples,
// 0.2 dB at 0.47·samplerate); only the lagging ear is filtered. The sound keeps its length: the
// lagging ear starts with |itd| of silence and loses its last |itd|. ild_db > 0 makes the left ear
// louder: left gain +ild/2 dB, right gain −ild/2 dB.
Sound binaural(const Sound& mono, double itd_seconds, double ild_db);
// A two-channel pure tone whose right ear leads by the IPD:
// left = sin(2πft), right = sin(2πft + ipd_radians).
Sound with_ipd(double frequency, double ipd_radians, double duration, double samplerate);
// Adds independent white Gaussian noise to each channel, scaled so that the realised
// signal-to-noise ratio of that channel, 20·log10(rms(signal)/rms(noise)), is exactly snr_db.
// ParameterError if a channel is silent (its SNR would be undefined).
Sound add_noise(const Sound& s, double snr_db, std::uint64_t seed);

// --- WAV files (libsndfile). ------------------------------------------------------------------

struct WavOptions {
  std::vector<double> allowed_samplerates;  // Hz; empty = any
  bool reject_silence = true;
  double silence_db = -90.0;  // a file whose peak |sample| is below this (dB re 1.0) is silent
};

// Reads any format libsndfile knows (WAV, AIFF, FLAC, ...); integer samples are scaled to
// [−1, 1). IoError naming the path if the file is missing or unreadable, not a sound file,
// truncated (fewer frames than its header declares), at a sample rate not allowed, silent,
// empty, or holds non-finite samples.
Sound read_wav(const std::string& path, const WavOptions& options = {});

enum class WavEncoding {
  kFloat32,  // exact for the float samples, no clipping
  kPcm16,    // 16-bit integer; ParameterError if a sample lies outside [−1, 1]
};
// Writes a RIFF WAV file: to `path`.partial first, renamed onto `path` when complete, so a
// reader never sees a half-written file. ParameterError for a malformed Sound or a samplerate
// that is not a whole number of Hz; IoError if the file cannot be written.
void write_wav(const std::string& path, const Sound& s,
               WavEncoding encoding = WavEncoding::kFloat32);

}  // namespace volley::ear

#pragma once
// A Heidelberg-Digits-like dataset made on this machine: the digits 0–9 in English and German,
// spoken by espeak-ng with its voice variants ("speakers") at several speeds and pitches, with
// optional background noise, through volley's cochlea (700 channels as in SHD). Labels follow
// SHD: English digit d is class d, German digit d is class 10 + d. The split is
// speaker-disjoint: `test_speakers` whole voices are held out of the training set.
//
// Every utterance is a grid point (speaker × language × digit × speed × pitch); its random parts
// (level jitter, whether and how much noise, the nerve's spikes) come from counter-based RNG
// streams keyed by (seed, utterance index), and utterances are processed in parallel into
// fixed slots, so the dataset is identical for a seed whatever the thread count.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "volley/ear/cochlea.hpp"

namespace volley::ear {

struct SpokenDigitsOptions {
  std::vector<std::string> languages = {"en", "de"};
  // espeak-ng voice variants (`espeak-ng --voices=variant`), one speaker each.
  std::vector<std::string> speakers = {
      "m1",    "m2",      "m3",      "m4",      "m5",     "m6",      "m7",     "m8",
      "f1",    "f2",      "f3",      "f4",      "f5",     "klatt",   "klatt2", "klatt3",
      "klatt4", "edward", "edward2", "grandpa", "grandma", "steph",  "steph2", "linda",
      "john",  "max",     "paul",    "michel",  "iven",    "belinda", "david",  "quincy"};
  // Held-out voices: if test_speaker_names is empty, `test_speakers` of `speakers` are drawn
  // with the seed; otherwise exactly those names (each must be in `speakers`).
  std::size_t test_speakers = 6;
  std::vector<std::string> test_speaker_names;
  std::vector<int> speeds = {130, 165, 200};  // words per minute
  std::vector<int> pitches = {30, 50, 70};    // espeak-ng 0..99
  double level_db_spl = 65.0;      // RMS level of the speech
  double level_jitter_db = 5.0;    // ± uniform per utterance
  double noise_probability = 0.5;  // fraction of utterances with background noise
  double snr_db_min = 10.0, snr_db_max = 30.0;  // uniform SNR of the noise (white or pink, 50/50)
  double max_duration = 1.0;       // s, after trimming leading and trailing silence
  CochleaConfig cochlea;           // defaults: 700 channels, 50 Hz .. 8 kHz
  std::uint64_t seed = 1;
  std::size_t threads = 1;
  std::string program = "espeak-ng";
  // ParameterError naming the field.
  void validate() const;
};

// One split in the SHD layout's terms.
struct SpokenDigitsSplit {
  std::vector<std::vector<double>> times;         // s, ascending per sample
  std::vector<std::vector<std::uint32_t>> units;  // cochlear channel·fibres + fibre
  std::vector<int> labels;                        // 0..9 English, 10..19 German
  std::vector<int> speakers;                      // index into SpokenDigits::speaker_names
};

struct SpokenDigits {
  SpokenDigitsSplit train, test;
  std::vector<std::string> keys;           // class names, "english-zero" .. "german-neun"
  std::vector<std::string> speaker_names;  // espeak-ng variant per speaker index
  std::vector<std::string> test_speaker_names;
};

// Total utterances the options describe, over both splits.
std::size_t spoken_digits_count(const SpokenDigitsOptions& options);

// Generates the dataset. `progress`, if set, is called from the calling thread with
// (utterances done, total) now and then. Throws ParameterError for bad options and IoError if
// espeak-ng is missing or fails.
SpokenDigits make_spoken_digits(const SpokenDigitsOptions& options,
                                const std::function<void(std::size_t, std::size_t)>& progress = {});

// The 20 class names of the SHD labelling, "english-zero" .. "english-nine", "german-null" ..
// "german-neun" (class 0..19).
std::vector<std::string> spoken_digit_keys();

}  // namespace volley::ear

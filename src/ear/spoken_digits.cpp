#include "volley/ear/spoken_digits.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <limits>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>

#include "volley/ear/sound.hpp"
#include "volley/ear/speech.hpp"
#include "volley/error.hpp"
#include "volley/rng.hpp"

namespace volley::ear {
namespace {

constexpr std::uint32_t kStreamUtterance = 0x5D160000;  // level, noise choice, SNR, seeds
constexpr std::uint32_t kStreamSplit = 0x5D170000;      // which speakers are held out
constexpr double kPascalRef = 20e-6;                    // 0 dB SPL, RMS
constexpr double kTrimDb = -40.0;                       // silence threshold re the peak
constexpr double kTrimMargin = 0.01;                    // s kept before and after

[[noreturn]] void bad(std::string_view field, const std::string& why) {
  throw ParameterError(fmt::format("spoken digits: {}: {}", field, why));
}

// SHD's class offset of a language: English digits are 0..9, German 10..19.
int language_offset(const std::string& language) {
  if (language == "en") return 0;
  if (language == "de") return 10;
  bad("languages", fmt::format("unknown language '{}' (known: en, de)", language));
}

// Drops leading and trailing samples quieter than kTrimDb below the peak (keeping a short
// margin) and cuts the rest to max_duration.
void trim(Sound& s, double max_duration) {
  const auto& x = s.samples;
  float peak = 0.0f;
  for (float v : x) peak = std::max(peak, std::abs(v));
  if (peak == 0.0f) return;  // set_level_db reports the silent sound
  const float floor = peak * static_cast<float>(std::pow(10.0, kTrimDb / 20.0));
  std::size_t first = 0, last = x.size();
  while (first < x.size() && std::abs(x[first]) < floor) ++first;
  while (last > first && std::abs(x[last - 1]) < floor) --last;
  const auto margin = static_cast<std::size_t>(kTrimMargin * s.samplerate);
  first = first > margin ? first - margin : 0;
  last = std::min(x.size(), last + margin);
  last = std::min(last, first + static_cast<std::size_t>(max_duration * s.samplerate));
  s.samples = std::vector<float>(x.begin() + static_cast<std::ptrdiff_t>(first),
                                 x.begin() + static_cast<std::ptrdiff_t>(last));
}

// Background noise at `snr_db` below the speech's RMS (white or pink).
void add_background(Sound& s, bool pink, double snr_db, std::uint64_t seed) {
  const Sound noise = pink ? pink_noise(s.duration(), s.samplerate, seed)
                           : white_noise(s.duration(), s.samplerate, seed);
  const double gain = rms(s, 0) / rms(noise, 0) / std::pow(10.0, snr_db / 20.0);
  const std::size_t n = std::min(s.samples.size(), noise.samples.size());
  for (std::size_t i = 0; i < n; ++i) s.samples[i] += static_cast<float>(gain * noise.samples[i]);
}

struct Utterance {
  std::size_t speaker, language, digit, speed, pitch;
};

std::vector<Utterance> grid(const SpokenDigitsOptions& o) {
  std::vector<Utterance> out;
  out.reserve(spoken_digits_count(o));
  for (std::size_t sp = 0; sp < o.speakers.size(); ++sp)
    for (std::size_t l = 0; l < o.languages.size(); ++l)
      for (std::size_t d = 0; d < 10; ++d)
        for (std::size_t v = 0; v < o.speeds.size(); ++v)
          for (std::size_t p = 0; p < o.pitches.size(); ++p) out.push_back({sp, l, d, v, p});
  return out;
}

struct Spikes {
  std::vector<double> times;
  std::vector<std::uint32_t> units;
};

Spikes render(const SpokenDigitsOptions& o, const Utterance& u, std::uint32_t index) {
  const std::string& language = o.languages[u.language];
  SpeechOptions speech;
  speech.voice = language + "+" + o.speakers[u.speaker];
  speech.speed = o.speeds[u.speed];
  speech.pitch = o.pitches[u.pitch];
  speech.program = o.program;
  Sound s = speak(digit_words(language)[u.digit], speech);
  if (s.channels != 1) bad("speech", fmt::format("espeak-ng gave {} channels, expected 1", s.channels));
  trim(s, o.max_duration);

  CounterRng rng(o.seed, kStreamUtterance, index, 0);
  const double level = o.level_db_spl + o.level_jitter_db * (2.0 * rng.uniform() - 1.0);
  set_level_db(s, level + 20.0 * std::log10(kPascalRef));
  const bool noisy = rng.uniform() < o.noise_probability;
  const bool pink = rng.uniform() < 0.5;
  const double snr = o.snr_db_min + (o.snr_db_max - o.snr_db_min) * rng.uniform();
  const std::uint64_t noise_seed = (std::uint64_t{rng.next_u32()} << 32) | rng.next_u32();
  if (noisy) add_background(s, pink, snr, noise_seed);

  CochleaConfig cochlea = o.cochlea;
  cochlea.nerve.seed = (std::uint64_t{rng.next_u32()} << 32) | rng.next_u32();
  Spikes out;
  for (const auto& [t, unit] : auditory_nerve(s.samples, s.samplerate, cochlea)) {
    out.times.push_back(t);
    out.units.push_back(unit);
  }
  return out;
}

// Indices into o.speakers of the held-out voices, ascending.
std::vector<std::size_t> held_out(const SpokenDigitsOptions& o) {
  std::vector<std::size_t> out;
  if (!o.test_speaker_names.empty()) {
    for (const auto& name : o.test_speaker_names)
      out.push_back(static_cast<std::size_t>(
          std::find(o.speakers.begin(), o.speakers.end(), name) - o.speakers.begin()));
  } else {
    std::vector<std::size_t> order(o.speakers.size());
    std::iota(order.begin(), order.end(), 0);
    CounterRng rng(o.seed, kStreamSplit, 0, 0);
    for (std::size_t i = order.size(); i > 1; --i)  // Fisher–Yates
      std::swap(order[i - 1], order[static_cast<std::size_t>(rng.uniform() * static_cast<double>(i))]);
    out.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(o.test_speakers));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

void SpokenDigitsOptions::validate() const {
  if (languages.empty()) bad("languages", "must name at least one language (en, de)");
  std::set<std::string> seen;
  for (const auto& l : languages) {
    language_offset(l);
    if (!seen.insert(l).second) bad("languages", fmt::format("'{}' appears twice", l));
  }
  if (speakers.size() < 2) bad("speakers", "needs at least two voices (one to train, one to test)");
  seen.clear();
  for (const auto& s : speakers) {
    const bool ok = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
    if (!ok) bad("speakers", fmt::format("odd voice variant name '{}'", s));
    if (!seen.insert(s).second) bad("speakers", fmt::format("'{}' appears twice", s));
  }
  if (test_speaker_names.empty()) {
    if (test_speakers < 1 || test_speakers >= speakers.size())
      bad("test_speakers", fmt::format("must be 1..{} (fewer than the {} speakers), got {}",
                                       speakers.size() - 1, speakers.size(), test_speakers));
  } else {
    std::set<std::string> names;
    for (const auto& n : test_speaker_names) {
      if (!seen.contains(n)) bad("test_speaker_names", fmt::format("'{}' is not one of the speakers", n));
      if (!names.insert(n).second) bad("test_speaker_names", fmt::format("'{}' appears twice", n));
    }
    if (names.size() >= speakers.size())
      bad("test_speaker_names", "holds out every speaker; leave at least one for training");
  }
  if (speeds.empty()) bad("speeds", "must hold at least one speed");
  for (int v : speeds)
    if (v < 80 || v > 450) bad("speeds", fmt::format("must be 80..450 words per minute, got {}", v));
  if (pitches.empty()) bad("pitches", "must hold at least one pitch");
  for (int p : pitches)
    if (p < 0 || p > 99) bad("pitches", fmt::format("must be 0..99, got {}", p));
  if (!std::isfinite(level_db_spl) || level_db_spl < 0.0 || level_db_spl > 120.0)
    bad("level_db_spl", fmt::format("must be 0..120 dB SPL, got {}", level_db_spl));
  if (!(level_jitter_db >= 0.0 && level_jitter_db <= 30.0))
    bad("level_jitter_db", fmt::format("must be 0..30 dB, got {}", level_jitter_db));
  if (!(noise_probability >= 0.0 && noise_probability <= 1.0))
    bad("noise_probability", fmt::format("must be in [0, 1], got {}", noise_probability));
  if (!(std::isfinite(snr_db_min) && std::isfinite(snr_db_max) && snr_db_min <= snr_db_max))
    bad("snr_db_min", fmt::format("must be finite and <= snr_db_max, got {} and {}", snr_db_min,
                                  snr_db_max));
  if (!(max_duration > 0.05 && max_duration <= 10.0))
    bad("max_duration", fmt::format("must be in (0.05, 10] s, got {}", max_duration));
  if (threads < 1) bad("threads", "must be at least 1");
  if (spoken_digits_count(*this) > std::numeric_limits<std::uint32_t>::max())
    bad("speakers", "too many utterances");
}

std::size_t spoken_digits_count(const SpokenDigitsOptions& o) {
  return o.speakers.size() * o.languages.size() * 10 * o.speeds.size() * o.pitches.size();
}

std::vector<std::string> spoken_digit_keys() {
  std::vector<std::string> keys;
  for (const auto& [language, name] : {std::pair{"en", "english"}, std::pair{"de", "german"}})
    for (const auto& word : digit_words(language)) keys.push_back(fmt::format("{}-{}", name, word));
  return keys;
}

SpokenDigits make_spoken_digits(const SpokenDigitsOptions& o,
                                const std::function<void(std::size_t, std::size_t)>& progress) {
  o.validate();
  // The cochlea is checked against the samplerate espeak-ng produces (22050 Hz) up front, so a
  // bad cochlea config fails before minutes of synthesis.
  o.cochlea.validate(22050.0);
  const std::vector<Utterance> utterances = grid(o);
  const std::size_t total = utterances.size();
  std::vector<Spikes> rendered(total);

  std::atomic<std::size_t> next{0}, done{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex mutex;
  std::condition_variable wake;
  auto worker = [&] {
    for (;;) {
      const std::size_t i = next.fetch_add(1);
      if (i >= total || failed.load()) break;
      try {
        rendered[i] = render(o, utterances[i], static_cast<std::uint32_t>(i));
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!error) error = std::current_exception();
        failed.store(true);
      }
      done.fetch_add(1);
      wake.notify_one();
    }
  };
  {
    std::vector<std::jthread> pool;
    for (std::size_t t = 0; t < std::min(o.threads, total); ++t) pool.emplace_back(worker);
    // The calling thread reports progress until the workers have finished.
    std::unique_lock lock(mutex);
    while (done.load() < total && !failed.load()) {
      if (progress) progress(done.load(), total);
      wake.wait_for(lock, std::chrono::milliseconds(200));
    }
  }
  if (error) std::rethrow_exception(error);
  if (progress) progress(total, total);

  SpokenDigits out;
  out.keys = spoken_digit_keys();
  out.speaker_names = o.speakers;
  const std::vector<std::size_t> test = held_out(o);
  for (std::size_t i : test) out.test_speaker_names.push_back(o.speakers[i]);
  for (std::size_t i = 0; i < total; ++i) {
    const Utterance& u = utterances[i];
    const bool is_test = std::binary_search(test.begin(), test.end(), u.speaker);
    SpokenDigitsSplit& split = is_test ? out.test : out.train;
    split.times.push_back(std::move(rendered[i].times));
    split.units.push_back(std::move(rendered[i].units));
    split.labels.push_back(language_offset(o.languages[u.language]) + static_cast<int>(u.digit));
    split.speakers.push_back(static_cast<int>(u.speaker));
  }
  return out;
}

}  // namespace volley::ear

// `volley dataset NAME`: datasets generated on this machine. For now: spoken-digits, a
// Heidelberg-Digits-like set (espeak-ng voices through volley's cochlea) in the SHD layout.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.hpp"
#include "core/atomic_file.hpp"
#include "errors.hpp"
#include "volley/ear/spoken_digits.hpp"
#include "volley/error.hpp"
#include "volley/io/shd.hpp"

namespace volley::cli {
namespace {

namespace fs = std::filesystem;

struct SpokenDigitsArgs {
  std::string out;
  ear::SpokenDigitsOptions options;
  std::size_t channels = 700;
  std::vector<double> snr;
};

// "DIR/name.h5" → "DIR/name"; the splits are written as "DIR/name_train.h5" and
// "DIR/name_test.h5" (SHD's shd_train.h5 / shd_test.h5 naming) beside "DIR/name.json".
std::string stem_of(const std::string& out) {
  const fs::path p(out);
  if (p.extension() != ".h5")
    throw ParameterError(fmt::format("--out '{}': must end in .h5 (the splits are written as "
                                     "NAME_train.h5 and NAME_test.h5 beside it)",
                                     out));
  return (p.parent_path() / p.stem()).string();
}

nlohmann::json split_summary(const ear::SpokenDigitsSplit& s, const std::string& file) {
  std::size_t spikes = 0;
  double longest = 0.0;
  for (std::size_t i = 0; i < s.times.size(); ++i) {
    spikes += s.times[i].size();
    if (!s.times[i].empty()) longest = std::max(longest, s.times[i].back());
  }
  std::vector<std::size_t> per_class(20, 0);
  for (int l : s.labels) ++per_class[static_cast<std::size_t>(l)];
  return {{"file", file},
          {"samples", s.labels.size()},
          {"mean_spikes_per_sample", s.labels.empty() ? 0.0 : double(spikes) / double(s.labels.size())},
          {"last_spike_s", longest},
          {"per_class", per_class}};
}

void run_spoken_digits(SpokenDigitsArgs& a) {
  const std::string stem = stem_of(a.out);
  auto& o = a.options;
  o.cochlea.channels = a.channels;
  o.cochlea.centre_frequencies.clear();
  if (!a.snr.empty()) {
    if (a.snr.size() != 2) throw ParameterError("--snr: give two values, the lowest and highest SNR in dB");
    o.snr_db_min = a.snr[0];
    o.snr_db_max = a.snr[1];
  }
  o.validate();
  if (!fs::path(stem).parent_path().empty()) fs::create_directories(fs::path(stem).parent_path());

  const bool tty = isatty(fileno(stderr)) != 0;
  const auto start = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  fmt::print(stderr, "spoken digits: {} utterances ({} speakers, {} held out), {} threads\n",
             ear::spoken_digits_count(o), o.speakers.size(),
             o.test_speaker_names.empty() ? o.test_speakers : o.test_speaker_names.size(), o.threads);
  std::size_t last_percent = 101;
  const ear::SpokenDigits data = ear::make_spoken_digits(o, [&](std::size_t done, std::size_t total) {
    const std::size_t percent = total == 0 ? 100 : done * 100 / total;
    if (tty) {
      const double eta = done == 0 ? 0.0 : seconds() * double(total - done) / double(done);
      fmt::print(stderr, "\r  {:>5}/{} utterances  {:3}%  {:6.1f} s  ETA {:6.1f} s", done, total,
                 percent, seconds(), eta);
    } else if (percent / 10 != last_percent / 10) {
      fmt::print(stderr, "  {}/{} utterances ({:.1f} s)\n", done, total, seconds());
    }
    last_percent = percent;
  });
  if (tty) fmt::print(stderr, "\n");

  const std::string train_file = stem + "_train.h5", test_file = stem + "_test.h5";
#ifndef VOLLEY_HAVE_HDF5
  throw IoError("writing SHD files needs HDF5; rebuild with VOLLEY_HDF5=ON");
#endif
  io::write_shd(train_file, data.train.times, data.train.units, data.train.labels,
                &data.train.speakers, &data.keys);
  io::write_shd(test_file, data.test.times, data.test.units, data.test.labels,
                &data.test.speakers, &data.keys);

  nlohmann::json summary = {
      {"dataset", "spoken-digits"},
      {"seed", o.seed},
      {"threads", o.threads},
      {"wall_seconds", seconds()},
      {"channels", o.cochlea.channels},
      {"units", o.cochlea.channels * o.cochlea.nerve.fibres_per_channel},
      {"languages", o.languages},
      {"speakers", data.speaker_names},
      {"test_speakers", data.test_speaker_names},
      {"speeds_wpm", o.speeds},
      {"pitches", o.pitches},
      {"level_db_spl", o.level_db_spl},
      {"level_jitter_db", o.level_jitter_db},
      {"noise_probability", o.noise_probability},
      {"snr_db", {o.snr_db_min, o.snr_db_max}},
      {"max_duration_s", o.max_duration},
      {"keys", data.keys},
      {"train", split_summary(data.train, train_file)},
      {"test", split_summary(data.test, test_file)}};
  const std::string json_file = stem + ".json";
  detail::write_file_atomically(json_file, summary.dump(2) + "\n");
  fmt::print("wrote {} ({} samples) and {} ({} samples, speakers {}); summary {}\n", train_file,
             data.train.labels.size(), test_file, data.test.labels.size(),
             fmt::join(data.test_speaker_names, ", "), json_file);
}

}  // namespace

void add_dataset_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("dataset", "Generate a dataset on this machine");
  cmd->require_subcommand(1);
  auto args = std::make_shared<SpokenDigitsArgs>();
  auto* sd = cmd->add_subcommand(
      "spoken-digits",
      "Digits 0-9 in English and German spoken by espeak-ng voice variants, through volley's\n"
      "cochlea, in the Spiking Heidelberg Digits layout (spikes/times, spikes/units, labels,\n"
      "extra/speaker, extra/keys). Held-out voices form the test split.\n"
      "Writes NAME_train.h5, NAME_test.h5 and NAME.json for --out NAME.h5.");
  auto& o = args->options;
  sd->add_option("--out", args->out, "Output NAME.h5 (NAME_train.h5 and NAME_test.h5 are written)")
      ->required();
  sd->add_option("--seed", o.seed, "Seed (held-out voices, levels, noise, nerve spikes)")
      ->capture_default_str();
  sd->add_option("--threads", o.threads, "Worker threads")->capture_default_str();
  sd->add_option("--languages", o.languages, "Languages (en, de)")->delimiter(',')->capture_default_str();
  sd->add_option("--speakers", o.speakers, "espeak-ng voice variants, one speaker each")
      ->delimiter(',')
      ->capture_default_str();
  sd->add_option("--test-speakers", o.test_speakers, "Number of voices held out (drawn with the seed)")
      ->capture_default_str();
  sd->add_option("--test-speaker-names", o.test_speaker_names, "Held-out voices by name (overrides --test-speakers)")
      ->delimiter(',');
  sd->add_option("--speeds", o.speeds, "Speaking rates, words per minute")->delimiter(',')->capture_default_str();
  sd->add_option("--pitches", o.pitches, "espeak-ng pitches, 0-99")->delimiter(',')->capture_default_str();
  sd->add_option("--noise-probability", o.noise_probability, "Fraction of utterances with background noise")
      ->capture_default_str();
  sd->add_option("--snr", args->snr, "Lowest,highest SNR of the noise in dB (default 10,30)")->delimiter(',');
  sd->add_option("--level", o.level_db_spl, "Speech level, dB SPL")->capture_default_str();
  sd->add_option("--channels", args->channels, "Cochlear channels (SHD: 700)")->capture_default_str();
  sd->add_option("--max-duration", o.max_duration, "Longest utterance kept, s")->capture_default_str();
  sd->callback([args, &exit_code] {
    exit_code = run_command("dataset spoken-digits", [&] {
      run_spoken_digits(*args);
      return 0;
    });
  });
}

}  // namespace volley::cli

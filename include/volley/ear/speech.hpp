#pragma once
// Spoken words from the espeak-ng speech synthesiser (Debian package espeak-ng), as Sounds: the
// raw material of a Heidelberg-Digits-like dataset (digits in English and German, voice variants,
// speeds, pitches). espeak-ng runs as a child process (no shell); its WAV output is read back
// with read_wav.
#include <string>
#include <vector>

#include "volley/ear/sound.hpp"

namespace volley::ear {

struct SpeechOptions {
  std::string voice = "en";        // espeak-ng voice, optionally "+variant" (e.g. "de+f3")
  int speed = 160;                 // words per minute, 80..450
  int pitch = 50;                  // 0..99
  std::string program = "espeak-ng";  // looked up on PATH unless it contains '/'
};

// Synthesises `text`; throws IoError if espeak-ng is missing (saying how to install it) or
// fails, ParameterError for an out-of-range option or a voice name with odd characters.
Sound speak(const std::string& text, const SpeechOptions& options = {});

// The words for the digits 0..9 in a language ("en" or "de").
const std::vector<std::string>& digit_words(const std::string& language);

}  // namespace volley::ear

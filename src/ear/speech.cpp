// espeak-ng as a child process (see speech.hpp).
#include "volley/ear/speech.hpp"

#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "volley/error.hpp"

extern char** environ;

namespace volley::ear {
namespace {

bool on_path(const std::string& program) {
  if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::string dirs(path);
  std::size_t b = 0;
  while (b <= dirs.size()) {
    const std::size_t e = std::min(dirs.find(':', b), dirs.size());
    const std::string dir = dirs.substr(b, e - b);
    if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
    b = e + 1;
  }
  return false;
}

}  // namespace

const std::vector<std::string>& digit_words(const std::string& language) {
  static const std::vector<std::string> en = {"zero", "one", "two",   "three", "four",
                                              "five", "six", "seven", "eight", "nine"};
  static const std::vector<std::string> de = {"null", "eins", "zwei",   "drei", "vier",
                                              "fünf", "sechs", "sieben", "acht", "neun"};
  if (language == "en") return en;
  if (language == "de") return de;
  throw ParameterError(fmt::format("digit words: unknown language '{}' (known: en, de)", language));
}

Sound speak(const std::string& text, const SpeechOptions& o) {
  if (o.speed < 80 || o.speed > 450)
    throw ParameterError(fmt::format("speech: speed must be 80..450 words per minute, got {}", o.speed));
  if (o.pitch < 0 || o.pitch > 99)
    throw ParameterError(fmt::format("speech: pitch must be 0..99, got {}", o.pitch));
  const bool voice_ok = !o.voice.empty() && std::all_of(o.voice.begin(), o.voice.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '_';
  });
  if (!voice_ok) throw ParameterError(fmt::format("speech: odd voice name '{}'", o.voice));
  if (text.empty()) throw ParameterError("speech: nothing to say (empty text)");
  if (!on_path(o.program))
    throw IoError(fmt::format("speech: '{}' was not found; install it with `apt-get install "
                              "espeak-ng`",
                              o.program));
  namespace fs = std::filesystem;
  static std::atomic<unsigned> counter{0};
  const fs::path tmp = fs::temp_directory_path() /
                       fmt::format("volley-speech-{}-{}.wav", ::getpid(), counter.fetch_add(1));
  const std::string out = tmp.string(), speed = std::to_string(o.speed),
                    pitch = std::to_string(o.pitch);
  std::vector<std::string> args = {o.program, "-v", o.voice, "-s", speed,
                                   "-p", pitch, "-w", out, text};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, o.program.c_str(), nullptr, nullptr, argv.data(), environ);
  if (rc != 0)
    throw IoError(fmt::format("speech: cannot run '{}': {}", o.program, std::strerror(rc)));
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw IoError(fmt::format("speech: '{}' failed for voice '{}' and text '{}'", o.program,
                              o.voice, text));
  }
  Sound s;
  try {
    s = read_wav(out);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  std::error_code ec;
  fs::remove(tmp, ec);
  return s;
}

}  // namespace volley::ear

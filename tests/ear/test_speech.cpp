// espeak-ng speech: spoken digits come back as non-silent sounds that differ with pitch and
// speed, pass through the cochlea, and a missing synthesiser gives a clear message.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "volley/ear/cochlea.hpp"
#include "volley/ear/speech.hpp"
#include "volley/error.hpp"

namespace ve = volley::ear;
using ::testing::HasSubstr;

namespace {
bool have_espeak() { return std::system("command -v espeak-ng > /dev/null 2>&1") == 0; }
}  // namespace

TEST(Speech, MissingSynthesiserSaysHowToInstall) {
  ve::SpeechOptions o;
  o.program = "/nonexistent/espeak-ng";
  EXPECT_THAT([&] { ve::speak("seven", o); },
              ::testing::ThrowsMessage<volley::IoError>(HasSubstr("apt-get install espeak-ng")));
  o = {};
  o.pitch = 120;
  EXPECT_THROW(ve::speak("seven", o), volley::ParameterError);
  o = {};
  o.voice = "en; rm -rf /";
  EXPECT_THROW(ve::speak("seven", o), volley::ParameterError);
  EXPECT_THROW(ve::digit_words("fr"), volley::ParameterError);
}

TEST(Speech, SpokenDigitsThroughTheCochlea) {
  if (!have_espeak()) GTEST_SKIP() << "espeak-ng is not installed";
  const auto& words = ve::digit_words("de");
  ASSERT_EQ(words.size(), 10u);
  ve::SpeechOptions o;
  o.voice = "de+m3";
  const ve::Sound a = ve::speak(words[7], o);  // "sieben"
  EXPECT_GT(a.duration(), 0.2);
  EXPECT_LT(a.duration(), 2.0);
  EXPECT_GT(ve::level_db(a, 0), -40.0);
  o.pitch = 80;
  o.speed = 250;
  const ve::Sound b = ve::speak(words[7], o);
  EXPECT_LT(b.duration(), a.duration());  // faster speech is shorter
  ve::CochleaConfig c;
  c.channels = 64;
  c.f_high = 0.45 * a.samplerate;
  c.level_gain = 2.0;
  const auto spikes = ve::auditory_nerve(a.channel(0), a.samplerate, c);
  EXPECT_GT(spikes.size(), 64u * 5u);  // well above spontaneous activity over the word
}

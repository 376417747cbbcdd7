// WAV reading and writing in a build without libsndfile (VOLLEY_SNDFILE=OFF): a clear error.
#include <fmt/format.h>

#include "volley/ear/sound.hpp"
#include "volley/error.hpp"

namespace volley::ear {

Sound read_wav(const std::string& path, const WavOptions&) {
  throw IoError(fmt::format("{}: cannot read WAV files: volley was built without libsndfile "
                            "(install libsndfile1-dev and configure with -DVOLLEY_SNDFILE=ON)",
                            path));
}

void write_wav(const std::string& path, const Sound&, WavEncoding) {
  throw IoError(fmt::format("{}: cannot write WAV files: volley was built without libsndfile "
                            "(install libsndfile1-dev and configure with -DVOLLEY_SNDFILE=ON)",
                            path));
}

}  // namespace volley::ear

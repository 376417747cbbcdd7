#include "volley/io/reference.hpp"

#include "volley/io/model_file.hpp"
#include "volley/io/train_config.hpp"

namespace volley::io {

std::string reference_markdown() {
  std::string out =
      "<!-- Generated from volley's registries by `volley reference` (CMake target `reference`). "
      "Do not edit by hand: tests/io/test_reference.cpp fails while this file differs. -->\n\n";
  out += model_reference_markdown();
  out += "\n";
  out += training_reference_markdown();
  return out;
}

}  // namespace volley::io

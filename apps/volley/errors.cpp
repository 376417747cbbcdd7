// Exceptions to exit statuses (see errors.hpp).
#include "errors.hpp"

#include <fmt/format.h>

#include <new>

#include "core/atomic_file.hpp"
#include "volley/error.hpp"

namespace volley::cli {

int run_command(std::string_view command, const std::function<int()>& body) {
  auto report = [&](const char* what, int code) {
    fmt::print(stderr, "volley {}: error: {}\n", command, what);
    return code;
  };
  try {
    return body();
  } catch (const ConfigError& e) {
    return report(e.what(), kBadInput);
  } catch (const UnitError& e) {
    return report(e.what(), kBadInput);
  } catch (const ParameterError& e) {
    return report(e.what(), kBadInput);
  } catch (const std::bad_alloc&) {
    return report("out of memory", kFailed);
  } catch (const std::exception& e) {  // IoError, other volley errors, anything else
    return report(e.what(), kFailed);
  }
}

void write_optional_figure(std::string_view command, const std::string& path,
                           const std::function<std::string()>& draw) {
  std::string svg;
  try {
    svg = draw();
  } catch (const IoError& e) {
    fmt::print(stderr, "volley {}: warning: {} not drawn: {}\n", command, path, e.what());
    return;
  }
  detail::write_file_atomically(path, svg);
}

}  // namespace volley::cli

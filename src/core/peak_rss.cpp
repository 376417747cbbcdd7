// Peak resident memory (see peak_rss.hpp).
#include "core/peak_rss.hpp"

#include <sys/resource.h>

namespace volley::detail {

std::size_t peak_rss_bytes() {
  rusage u{};
  if (getrusage(RUSAGE_SELF, &u) != 0 || u.ru_maxrss < 0) return 0;
#ifdef __APPLE__
  return static_cast<std::size_t>(u.ru_maxrss);  // macOS reports bytes
#else
  return static_cast<std::size_t>(u.ru_maxrss) * 1024;  // Linux and the BSDs report KiB
#endif
}

}  // namespace volley::detail

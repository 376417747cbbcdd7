#pragma once
// Peak resident memory of this process, for the run facts in summary.json (sim and training)
// and the benchmarks. Internal to volley (not installed).
#include <cstddef>

namespace volley::detail {

// The largest resident set size this process has had so far, in bytes (getrusage ru_maxrss,
// which Linux reports in KiB); 0 where the system does not say.
std::size_t peak_rss_bytes();

}  // namespace volley::detail

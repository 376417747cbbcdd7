#include "volley/communicator.hpp"

#include <algorithm>

namespace volley {

std::pair<std::size_t, std::size_t> owned_range(std::size_t n, int rank, int ranks) {
  const std::size_t blocks = (n + 15) / 16;
  auto edge = [&](int r) {
    if (r <= 0) return std::size_t{0};
    if (r >= ranks) return n;
    return std::min(n, blocks * static_cast<std::size_t>(r) / static_cast<std::size_t>(ranks) * 16);
  };
  return {edge(rank), edge(rank + 1)};
}

}  // namespace volley

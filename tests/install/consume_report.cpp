// volley::report from the installed package: the raster downsampling of the report's figures.
#include <cstdio>
#include <vector>

#include "volley/report/plot.hpp"

int main() {
  std::vector<std::uint32_t> units;
  for (std::uint32_t n = 0; n < 100; ++n)
    for (int k = 0; k < 10; ++k) units.push_back(n);
  std::size_t stride = 0;
  const auto kept = volley::report::downsample_raster(units, 250, stride);
  std::printf("report: %zu of %zu spikes kept, every %zu-th neuron\n", kept.size(), units.size(),
              stride);
  return kept.size() <= 250 && stride > 1 ? 0 : 1;
}

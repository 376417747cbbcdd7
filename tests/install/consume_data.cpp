// volley::data from the installed package: events built by the counting sort, stored, read back.
#include <cstdio>
#include <vector>

#include "volley/data/events.hpp"

int main() {
  volley::data::SampleEvents s;
  const std::vector<std::uint32_t> steps{2, 0, 2}, units{1, 3, 0};
  const std::vector<float> values{1.0f, 1.0f, 2.0f};
  volley::data::build_sample(steps, units, values, 4, s);
  volley::data::StoredEvents set(4, 4, 2, "consumer");
  set.add(s, 1);
  volley::data::SampleEvents back;
  set.fill(0, 0, back);
  std::printf("data: %zu events, label %d\n", back.size(), set.label(0));
  return back.units == s.units && back.offsets == s.offsets && set.label(0) == 1 ? 0 : 1;
}

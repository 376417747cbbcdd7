// Projection::deliver into target slices: the split_rows table, the binary search and the whole
// row put the same events into the same ring slots, also after a structural change has made
// the table stale; the returned counts add up to the synapses of the spiking rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "volley/models/lif.hpp"
#include "volley/network.hpp"

using namespace volley;

namespace {

constexpr std::size_t kN = 1000;
constexpr std::size_t kSlots = 32;

struct Fixture {
  Network net{1e-4, 7};
  Projection* proj = nullptr;

  explicit Fixture(Distribution weight) {
    net.add<LifPopulation>("P", kN, LifParams{});
    ProjectionSpec s;
    s.name = "C";
    s.source = "P";
    s.target = "P";
    s.connector = FixedProbability{0.1, true};  // about 100 synapses per row
    s.weight = weight;
    s.delay = Distribution::uniform(0.1e-3, 3e-3);  // through the ring, one slot per delay
    proj = &net.connect(s);
    proj->prepare(1e-4);
  }
  // Spikes of two threads' parts: 100 rows in each (more than the 64 rows the prefetch cursor
  // keeps in flight), so the cursor's ring wraps.
  static std::vector<std::vector<std::uint32_t>> spikes() {
    std::vector<std::vector<std::uint32_t>> parts(2);
    for (std::uint32_t i = 0; i < kN; i += 5) parts[i < kN / 2 ? 0 : 1].push_back(i);
    return parts;
  }
  // Every slot of the ring after delivering `spikes` at step 5 in the slices [b_t, b_t+1).
  std::vector<float> deliver_in(const std::vector<std::size_t>& bounds, std::uint64_t* events) {
    Population& p = net.population("P");
    p.configure_rings(kSlots, 0, {true, false});
    for (std::size_t k = 0; k < kSlots; ++k) {  // (configure_rings keeps events in flight)
      float* row = p.ring(proj->channel()).row(k);
      std::fill(row, row + kN, 0.0f);
    }
    const auto parts = spikes();
    *events = 0;
    for (std::size_t t = 0; t + 1 < bounds.size(); ++t)
      *events += proj->deliver(SpikeList(parts), 5, bounds[t], bounds[t + 1]);
    std::vector<float> all;
    for (std::size_t k = 0; k < kSlots; ++k) {
      const float* row = p.ring(proj->channel()).row(k);
      all.insert(all.end(), row, row + kN);
    }
    return all;
  }
  std::uint64_t synapses_of_spiking_rows() const {
    std::uint64_t n = 0;
    for (const auto& part : spikes())
      for (auto r : part) n += proj->row_ptr()[r + 1] - proj->row_ptr()[r];
    return n;
  }
};

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(ProjectionDelivery, SlicesThroughTheTableOrASearchEqualTheWholeRow) {
  for (const Distribution& w : {Distribution::uniform(1e-4, 1e-3), Distribution::constant(5e-4)}) {
    Fixture f(w);
    std::uint64_t ev_whole = 0, ev_search = 0, ev_table = 0;
    const auto whole = f.deliver_in({0, kN}, &ev_whole);
    const std::vector<std::size_t> bounds{0, 336, 672, kN};
    const auto searched = f.deliver_in(bounds, &ev_search);  // no table yet
    const std::size_t before = f.proj->memory_bytes();
    f.proj->split_rows(bounds);
    EXPECT_EQ(f.proj->memory_bytes(), before + kN * bounds.size() * sizeof(std::uint64_t));
    const auto tabled = f.deliver_in(bounds, &ev_table);
    EXPECT_TRUE(bitwise_equal(whole, searched));
    EXPECT_TRUE(bitwise_equal(whole, tabled));
    EXPECT_EQ(ev_whole, f.synapses_of_spiking_rows());
    EXPECT_EQ(ev_search, ev_whole);
    EXPECT_EQ(ev_table, ev_whole);
    // Eight slices: row parts of about 12 synapses, some empty.
    std::vector<std::size_t> eight;
    for (std::size_t t = 0; t <= 8; ++t) eight.push_back(kN * t / 8);
    f.proj->split_rows(eight);
    std::uint64_t ev_eight = 0;
    EXPECT_TRUE(bitwise_equal(whole, f.deliver_in(eight, &ev_eight)));
    EXPECT_EQ(ev_eight, ev_whole);
    // One slice frees the table.
    f.proj->split_rows(std::vector<std::size_t>{0, kN});
    EXPECT_EQ(f.proj->memory_bytes(), before);
    // Slices the table was not made for fall back to the search.
    std::uint64_t ev_other = 0;
    EXPECT_TRUE(bitwise_equal(whole, f.deliver_in({0, 512, kN}, &ev_other)));
    EXPECT_EQ(ev_other, ev_whole);
  }
}

TEST(ProjectionDelivery, AStructuralChangeDropsTheTable) {
  Fixture f(Distribution::uniform(1e-4, 1e-3));
  const std::vector<std::size_t> bounds{0, 496, kN};
  f.proj->split_rows(bounds);
  const std::size_t with_table = f.proj->memory_bytes();
  // New synapses into both halves from spiking rows: a stale table would miss or misplace them.
  f.proj->add_synapses({{3, 0}, {3, 998}, {500, 495}, {500, 496}, {999, 1}}, 2e-3, 1e-4);
  EXPECT_LT(f.proj->memory_bytes(), with_table);  // the table is gone
  std::uint64_t ev_whole = 0, ev_split = 0;
  const auto whole = f.deliver_in({0, kN}, &ev_whole);
  EXPECT_TRUE(bitwise_equal(whole, f.deliver_in(bounds, &ev_split)));
  f.proj->split_rows(bounds);  // made again for the new rows
  std::uint64_t ev_table = 0;
  EXPECT_TRUE(bitwise_equal(whole, f.deliver_in(bounds, &ev_table)));
  EXPECT_EQ(ev_whole, f.synapses_of_spiking_rows());
  EXPECT_EQ(ev_split, ev_whole);
  EXPECT_EQ(ev_table, ev_whole);
}

}  // namespace

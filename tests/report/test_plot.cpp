// gnuplot figures: the raster's downsampling keeps whole trains of every k-th neuron within the
// point budget; each figure type renders an SVG that carries its title and labels and whose
// drawing follows the data; bad data and a missing gnuplot are reported clearly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <regex>

#include "volley/error.hpp"
#include "volley/report/plot.hpp"

namespace vr = volley::report;
using ::testing::HasSubstr;

namespace {

bool have_gnuplot() { return std::system("command -v gnuplot > /dev/null 2>&1") == 0; }

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

vr::Figure fig(const std::string& title) {
  vr::Figure f;
  f.title = title;
  f.x.label = "time (s)";
  f.y.label = "neuron";
  return f;
}

}  // namespace

TEST(Plot, RasterDownsamplingKeepsWholeTrainsOfEveryKthNeuron) {
  // Neuron j fires j % 7 + 1 times.
  std::vector<std::uint32_t> units;
  for (std::uint32_t j = 0; j < 1000; ++j)
    for (std::uint32_t k = 0; k <= j % 7; ++k) units.push_back(j);
  std::size_t stride = 0;
  auto keep = vr::downsample_raster(units, units.size(), stride);
  EXPECT_EQ(stride, 1u);
  EXPECT_EQ(keep.size(), units.size());
  keep = vr::downsample_raster(units, 1000, stride);
  ASSERT_GT(stride, 1u);
  EXPECT_LE(keep.size(), 1000u);
  // Exactly the spikes of neurons that are multiples of the stride, and the stride is the
  // smallest that fits.
  std::size_t expected = 0, smaller = 0;
  for (auto u : units) {
    expected += u % stride == 0;
    smaller += u % (stride - 1) == 0;
  }
  EXPECT_EQ(keep.size(), expected);
  EXPECT_GT(smaller, 1000u);
  for (auto i : keep) EXPECT_EQ(units[i] % stride, 0u);
  EXPECT_THROW(vr::downsample_raster(units, 0, stride), volley::ParameterError);
  // Regression: neuron 0 alone over the budget used to loop forever; it is cut to the budget.
  const std::vector<std::uint32_t> one(50, 0u);
  keep = vr::downsample_raster(one, 10, stride);
  EXPECT_EQ(keep.size(), 10u);
  const std::vector<std::uint32_t> busy0 = {0, 0, 0, 0, 0, 1, 2, 3};
  keep = vr::downsample_raster(busy0, 3, stride);
  EXPECT_EQ(stride, 4u);
  EXPECT_EQ(keep.size(), 3u);
}

TEST(Plot, NothingToDrawGivesAnEmptyFrame) {
  if (!have_gnuplot()) GTEST_SKIP() << "gnuplot is not installed";
  // Regression: an empty raster (a silent layer on one sample) or an all-NaN series used to make
  // gnuplot fail, which aborted the whole report.
  vr::Figure f = fig("silent");
  f.x.min = 0.0;
  f.x.max = 0.1;
  EXPECT_THAT(vr::raster(f, {}, {}, 100), HasSubstr("no data"));
  EXPECT_THAT(vr::raster(fig("silent"), {}, {}, 100), HasSubstr("no data"));
  EXPECT_THAT(vr::line_plot(fig("nan"), {vr::Series{"a", {0, 1}, {NAN, NAN}}}), HasSubstr("no data"));
  EXPECT_THAT(vr::line_plot(fig("empty"), {vr::Series{"a", {}, {}}}), HasSubstr("no data"));
}

TEST(Plot, FiguresFollowTheirData) {
  if (!have_gnuplot()) GTEST_SKIP() << "gnuplot is not installed";
  // Title and labels with characters gnuplot would otherwise interpret.
  vr::Figure f = fig("it's a_title^2 \\ @x");
  const std::string line = vr::line_plot(f, {vr::Series{"a", {0, 1, 2}, {1, 3, 2}}, vr::Series{"b", {0, 1}, {0, 1}}});
  EXPECT_THAT(line, HasSubstr("</svg>"));
  EXPECT_THAT(line, HasSubstr("it's a_title^2 \\ @x"));
  EXPECT_THAT(line, HasSubstr("time (s)"));
  // Rasters: one glyph per spike drawn.
  std::vector<double> t1 = {0.1, 0.2, 0.3}, t2;
  std::vector<std::uint32_t> u1 = {0, 1, 2}, u2;
  for (int i = 0; i < 50; ++i) {
    t2.push_back(0.01 * i);
    u2.push_back(static_cast<std::uint32_t>(i % 5));
  }
  const std::string r1 = vr::raster(fig("r"), t1, u1, 1000), r2 = vr::raster(fig("r"), t2, u2, 1000);
  EXPECT_EQ(count(r2, "<use") - count(r1, "<use"), 47u);
  // Downsampled raster says so in its title.
  EXPECT_THAT(vr::raster(fig("big"), t2, u2, 20), HasSubstr("showing 1 in"));
  // Histogram bars (filled polygons): equal values give one bar; 0, 0, 0.5, 1, 1 in 10 bins
  // give three (the empty bins draw nothing).
  const std::string bar = "<polygon fill = 'rgb(106, 143, 201)'";
  EXPECT_EQ(count(vr::histogram(fig("h"), {2.0, 2.0, 2.0, NAN}, 10), bar), 1u);
  EXPECT_EQ(count(vr::histogram(fig("h"), {0.0, 0.0, 1.0, 1.0, 0.5}, 10), bar), 3u);
  const std::string bars = vr::bar_chart(fig("bars"), {"first", "second"}, {1.0, 2.0});
  EXPECT_THAT(bars, HasSubstr("second"));
  const std::string heat = vr::heatmap(fig("heat"), 2, 3, {1, 2, 3, 4, 5, 6}, {"r0", "r1"}, {"c0", "c1", "c2"}, true);
  EXPECT_THAT(heat, HasSubstr("c2"));
  for (const char* v : {">1<", ">4<", ">6<"}) EXPECT_THAT(heat, HasSubstr(v));
}

TEST(Plot, LargeRasterIsQuick) {
  if (!have_gnuplot()) GTEST_SKIP() << "gnuplot is not installed";
  std::mt19937_64 rng(1);
  std::vector<double> t(100000);
  std::vector<std::uint32_t> u(100000);
  for (std::size_t i = 0; i < t.size(); ++i) {
    t[i] = static_cast<double>(rng() % 1000000) * 1e-6;
    u[i] = static_cast<std::uint32_t>(rng() % 10000);
  }
  const auto t0 = std::chrono::steady_clock::now();
  const std::string svg = vr::raster(fig("100k"), t, u, 40000);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("100 000-spike raster (40 000 drawn): %.2f s, %.1f MB of SVG\n", s, svg.size() / 1048576.0);
  EXPECT_LE(count(svg, "<use"), 40000u);
  EXPECT_GT(count(svg, "<use"), 30000u);
}

TEST(Plot, BadDataAndMissingGnuplotAreReported) {
  EXPECT_THROW(vr::line_plot(fig("x"), {vr::Series{"a", {0, 1}, {1}}}), volley::ParameterError);
  EXPECT_THROW(vr::line_plot(fig("x"), {}), volley::ParameterError);
  EXPECT_THROW(vr::raster(fig("x"), {0.1}, {}, 10), volley::ParameterError);
  EXPECT_THROW(vr::heatmap(fig("x"), 2, 2, {1, 2, 3}, {}, {}, false), volley::ParameterError);
  EXPECT_THROW(vr::bar_chart(fig("x"), {"a"}, {1, 2}), volley::ParameterError);
  vr::set_gnuplot_program("/nonexistent/gnuplot");
  EXPECT_THAT([] { vr::line_plot(fig("x"), {vr::Series{"a", {0, 1}, {1, 2}}}); },
              ::testing::ThrowsMessage<volley::IoError>(HasSubstr("apt-get install gnuplot-nox")));
  vr::set_gnuplot_program("gnuplot");
}

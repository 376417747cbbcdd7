// Structural plasticity in spikes.h5 (/structural_plasticity, see outputs.hpp): a small network
// that grows its synapses from none, written and read back equal to what it recorded in memory;
// malformed groups are IoErrors naming the file and the object; and `volley report` on the run
// directory adds a "structural" section with its two figures.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <hdf5.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "support/error_of.hpp"
#include "support/temp_dir.hpp"
#include "volley/error.hpp"
#include "volley/io/outputs.hpp"
#include "volley/io/recording.hpp"
#include "volley/models/lif.hpp"
#include "volley/network.hpp"
#include "volley/report/report.hpp"

using namespace volley;
using ::testing::AllOf;
using ::testing::HasSubstr;
using volley::test::error_of;
using volley::test::TempDir;

namespace {

constexpr double kTargetE = 0.8;

GrowthCurve linear(double eps, double growth_rate) {
  GrowthCurve c;
  c.kind = GrowthCurveKind::kLinear;
  c.eps = eps;
  c.growth_rate = growth_rate;
  return c;
}

// E (40 LIF neurons, axons and dendrites) and I (10, dendrites and a spare element of another
// eps, so that I has no single calcium target), both driven by Poisson input to fire at a few
// tens of Hz, with no synapse at the start: one rule grows E -> E and E -> I. Calcium is fast
// (tau 0.5 s) and growth steep so that synapses appear from the first update (every 0.1 s);
// the targets lie above the Ca the drive alone gives (about 0.6), so they keep growing for the
// 2 s rather than being pruned back to none.
std::unique_ptr<Network> grown_network(double duration = 2.0) {
  auto net = std::make_unique<Network>(1e-4, 5);
  LifParams p;
  p.t_ref = 2e-3;
  p.v_reset = -60e-3;
  net->add<LifPopulation>("E", 40, p);
  net->add<LifPopulation>("I", 10, p);
  for (const char* pop : {"E", "I"}) {
    PoissonInputSpec in;
    in.name = std::string("drive_") + pop;
    in.target = pop;
    in.n = 50;
    in.rate = 40.0;
    in.weight = 3e-3;
    net->add_input(in);
  }
  for (const char* target : {"E", "I"}) {
    ProjectionSpec s;
    s.name = std::string("E") + target;
    s.source = "E";
    s.target = target;
    s.connector = FixedProbability{0.0};
    s.weight = Distribution::constant(0.5e-3);
    s.delay = Distribution::constant(1e-3);
    net->connect(s);
  }
  net->record_spikes("spikes_E", "E");
  StructuralPlasticitySpec sp;
  sp.update_interval = 0.1;
  sp.calcium = {{"E", 0.5, 0.02}, {"I", 0.5, 0.02}};
  sp.elements = {{"E", "axon", linear(kTargetE, 20.0)},
                 {"E", "dend", linear(kTargetE, 20.0)},
                 {"I", "dend", linear(0.7, 20.0)},
                 {"I", "spare", linear(1.0, 5.0)}};
  sp.rules = {{"grow", "axon", "dend", {"EE", "EI"}}};
  net->enable_structural_plasticity(sp);
  net->run(duration);
  return net;
}

template <class T>
const T& named(const std::vector<T>& list, const std::string& name) {
  const auto it =
      std::find_if(list.begin(), list.end(), [&](const T& x) { return x.name == name; });
  if (it == list.end()) throw std::runtime_error("no entry " + name);
  return *it;
}

std::size_t index_of(const std::vector<std::string>& names, const std::string& name) {
  return static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin());
}

// Replaces dataset group/name of an HDF5 file by a uint64 series of `n` zeros.
void replace_with_short_series(const std::string& file, const std::string& group,
                               const std::string& name, hsize_t n) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  const hid_t g = H5Gopen2(f, group.c_str(), H5P_DEFAULT);
  ASSERT_GE(g, 0);
  ASSERT_GE(H5Ldelete(g, name.c_str(), H5P_DEFAULT), 0);
  const std::vector<std::uint64_t> zeros(n, 0);
  const hid_t space = H5Screate_simple(1, &n, nullptr);
  const hid_t ds =
      H5Dcreate2(g, name.c_str(), H5T_NATIVE_UINT64, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(ds, 0);
  ASSERT_GE(H5Dwrite(ds, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros.data()), 0);
  H5Dclose(ds);
  H5Sclose(space);
  H5Gclose(g);
  H5Fclose(f);
}

void delete_attribute(const std::string& file, const std::string& object, const char* name) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  ASSERT_GE(H5Adelete_by_name(f, object.c_str(), name, H5P_DEFAULT), 0);
  H5Fclose(f);
}

bool have_gnuplot() { return std::system("command -v gnuplot > /dev/null 2>&1") == 0; }

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST(StructuralFile, WhatTheRunRecordedReadsBackEqual) {
  const auto net = grown_network();
  const StructuralPlasticity& sp = *net->structural_plasticity();
  const StructuralRecord& mem = sp.recorded();
  // The run did what the file is meant to show: synapses grew from none.
  ASSERT_GT(sp.created(), 0u);
  ASSERT_EQ(sp.updates(), 20u);
  ASSERT_EQ(mem.t.size(), 20u);

  TempDir dir;
  io::write_spike_file(dir / "spikes.h5", *net);
  const io::Recording rec = io::read_recording(dir / "spikes.h5");
  // The group is not taken for a population.
  ASSERT_EQ(rec.populations.size(), 1u);
  EXPECT_EQ(rec.populations[0].name, "E");
  ASSERT_TRUE(rec.structural.has_value());
  const io::StructuralRecording& s = *rec.structural;
  EXPECT_EQ(s.update_interval, 0.1);
  EXPECT_EQ(s.updates, sp.updates());
  EXPECT_EQ(s.created, sp.created());
  EXPECT_EQ(s.deleted, sp.deleted());
  EXPECT_EQ(s.t, mem.t);

  ASSERT_EQ(s.calcium.size(), 2u);
  ASSERT_EQ(s.calcium_final.size(), 2u);
  for (const std::string pop : {"E", "I"}) {
    const std::size_t k = index_of(sp.calcium_populations(), pop);
    EXPECT_EQ(named(s.calcium, pop).values, mem.mean_ca[k]) << pop;
    EXPECT_EQ(named(s.calcium_final, pop).values, sp.calcium(k, net->step())) << pop;
    EXPECT_EQ(named(s.calcium_final, pop).values.size(), net->population(pop).size());
  }
  // E's elements share eps: that is its target; I's differ: none.
  EXPECT_EQ(named(s.calcium, "E").target, kTargetE);
  EXPECT_FALSE(named(s.calcium, "I").target.has_value());
  EXPECT_GT(named(s.calcium, "E").values.back(), 0.0);  // the neurons fired

  ASSERT_EQ(s.elements.size(), 4u);
  for (const std::string name : {"E.axon", "E.dend", "I.dend", "I.spare"}) {
    const std::size_t e = index_of(sp.element_names(), name);
    EXPECT_EQ(named(s.elements, name).z, mem.mean_z[e]) << name;
    EXPECT_EQ(named(s.elements, name).connected, mem.connected[e]) << name;
  }

  ASSERT_EQ(s.synapses.size(), 2u);
  std::uint64_t final_total = 0;
  for (const std::string proj : {"EE", "EI"}) {
    const auto& values = named(s.synapses, proj).values;
    EXPECT_EQ(values, mem.synapses[index_of(sp.projection_names(), proj)]) << proj;
    EXPECT_EQ(values.back(), net->projection(proj).synapse_count()) << proj;
    final_total += values.back();
  }
  EXPECT_GT(final_total, 0u);
  // Every synapse joins an E axon: the connected axons are the synapses.
  EXPECT_EQ(named(s.elements, "E.axon").connected.back(), final_total);
}

TEST(StructuralFile, ARunWithoutItHasNoGroupAndAPopulationOfThatNameStaysAPopulation) {
  TempDir dir;
  Network net(1e-4, 1);
  net.add<LifPopulation>("structural_plasticity", 3, LifParams{});
  net.record_spikes("s", "structural_plasticity");
  net.run(0.01);
  io::write_spike_file(dir / "spikes.h5", net);
  const io::Recording rec = io::read_recording(dir / "spikes.h5");
  EXPECT_FALSE(rec.structural.has_value());
  ASSERT_EQ(rec.populations.size(), 1u);
  EXPECT_EQ(rec.populations[0].name, "structural_plasticity");
  EXPECT_EQ(rec.populations[0].size, 3u);

  // With structural plasticity enabled the two would share one group: the writer refuses.
  StructuralPlasticitySpec sp;
  sp.update_interval = 0.005;
  sp.calcium = {{"structural_plasticity", 1.0, 0.01}};
  net.enable_structural_plasticity(sp);
  net.run(0.01);
  EXPECT_THAT(error_of([&] { io::write_spike_file(dir / "clash.h5", net); }),
              AllOf(HasSubstr("clash.h5"), HasSubstr("population named 'structural_plasticity'")));
}

TEST(StructuralFile, MalformedGroupsNameTheFileAndTheObject) {
  const auto net = grown_network(0.5);
  TempDir dir;
  const std::string good = dir / "good.h5";
  io::write_spike_file(good, *net);
  ASSERT_TRUE(io::read_recording(good).structural.has_value());

  // A synapse series shorter than t.
  const std::string short_series = dir / "short.h5";
  io::write_spike_file(short_series, *net);
  replace_with_short_series(short_series, "structural_plasticity/synapses", "EI", 3);
  EXPECT_THAT(error_of([&] { io::read_recording(short_series); }),
              AllOf(HasSubstr("short.h5"), HasSubstr("structural_plasticity/synapses/EI"),
                    HasSubstr("3 values but t has 5")));

  // An element's connected count likewise.
  const std::string short_element = dir / "element.h5";
  io::write_spike_file(short_element, *net);
  replace_with_short_series(short_element, "structural_plasticity/elements/E.dend", "connected", 0);
  EXPECT_THAT(
      error_of([&] { io::read_recording(short_element); }),
      AllOf(HasSubstr("element.h5"), HasSubstr("structural_plasticity/elements/E.dend/connected"),
            HasSubstr("0 values but t has 5")));

  // A counter that is missing.
  const std::string no_count = dir / "no_count.h5";
  io::write_spike_file(no_count, *net);
  delete_attribute(no_count, "structural_plasticity", "created");
  EXPECT_THAT(error_of([&] { io::read_recording(no_count); }),
              AllOf(HasSubstr("no_count.h5"),
                    HasSubstr("structural_plasticity: attribute created missing")));

  // A required group that is missing.
  const std::string no_group = dir / "no_group.h5";
  io::write_spike_file(no_group, *net);
  {
    const hid_t f = H5Fopen(no_group.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    ASSERT_GE(H5Ldelete(f, "structural_plasticity/synapses", H5P_DEFAULT), 0);
    H5Fclose(f);
  }
  EXPECT_THAT(
      error_of([&] { io::read_recording(no_group); }),
      AllOf(HasSubstr("no_group.h5"), HasSubstr("structural_plasticity/synapses: missing")));
}

TEST(StructuralFile, TheReportAddsAStructuralSectionWithItsFigures) {
  if (!have_gnuplot()) GTEST_SKIP() << "gnuplot is not installed";
  const auto net = grown_network(1.0);
  TempDir dir;
  io::write_spike_file(dir / "spikes.h5", *net);
  const report::ReportResult r = report::write_report(dir.str());
  EXPECT_EQ(r.kinds, (std::vector<std::string>{"simulation", "structural"}));
  for (const char* name : {"structural_calcium", "structural_synapses"})
    EXPECT_TRUE(std::any_of(r.figures.begin(), r.figures.end(), [&](const std::string& f) {
      return f.ends_with(std::string("/") + name + ".svg");
    })) << name;
  const std::string html = read_text(r.html_path);
  EXPECT_THAT(html, HasSubstr("<h2 id=\"structural-plasticity\">Structural plasticity</h2>"));
  // The table: counters, final synapses per projection, final mean Ca against the target.
  EXPECT_THAT(html, HasSubstr(fmt::format("<td>updates</td><td>{}</td>",
                                          net->structural_plasticity()->updates())));
  EXPECT_THAT(html, HasSubstr("<td>synapses of EE at the end</td>"));
  // The row of a mean Ca: name, value, target (E's eps; none for I).
  auto row = [&](const std::string& first) {
    const auto at = html.find("<td>" + first + "</td>");
    return at == std::string::npos ? std::string() : html.substr(at, html.find("</tr>", at) - at);
  };
  EXPECT_THAT(row("mean Ca of E at the end"), ::testing::EndsWith("<td>0.8</td>"));
  EXPECT_THAT(row("mean Ca of I at the end"), ::testing::EndsWith("<td>–</td>"));
  // The figures' legends: the target line of E (none for I), and the total of the projections.
  EXPECT_THAT(html, HasSubstr("target E"));
  EXPECT_THAT(html, ::testing::Not(HasSubstr("target I")));
  EXPECT_THAT(html, HasSubstr("total"));
}

// NIR (Neuromorphic Intermediate Representation) files and the mapping between NIR graphs and
// volley's networks: export → import gives the same weights bit for bit and the same spikes;
// the file layout is what NIR's Python reader walks (tests/io/nir_h5py_check.py, run by ctest
// on files written here) and files laid out by h5py as nir.write does are read; a one-neuron
// LIF follows the exact solution of NIR's ODE with input held over each step; a Braille-sized
// recurrent CubaLIF network round-trips and runs in the trainer and the simulator; and what is
// not a valid or importable graph is refused with messages naming the file and the node.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>

#include "io/hdf5_util.hpp"
#include "support/temp_dir.hpp"
#include "support/toy_events.hpp"
#include "volley/error.hpp"
#include "volley/io/export.hpp"
#include "volley/io/model_file.hpp"
#include "volley/io/nir.hpp"
#include "volley/io/train_config.hpp"
#include "volley/io/training.hpp"
#include "volley/network.hpp"
#include "volley/train/checkpoint.hpp"
#include "volley/train/net.hpp"
#include "volley/train/runner.hpp"
#include "volley/train/trainer.hpp"

namespace vt = volley::train;
namespace io = volley::io;
namespace nir = volley::io::nir;
using volley::io::hdf5::Handle;
using volley::test::TempDir;

namespace {

// ---- graphs built in memory ----

nir::Node node(std::string name, std::string type) {
  nir::Node n;
  n.name = std::move(name);
  n.type = std::move(type);
  return n;
}

nir::Array shape(std::size_t n) {
  return nir::Array::vector({static_cast<double>(n)}, nir::Array::Type::int64);
}

std::vector<double> normal(std::size_t n, double std, std::mt19937& rng) {
  std::normal_distribution<double> d(0.0, std);
  std::vector<double> v(n);
  for (double& x : v) x = d(rng);
  return v;
}

std::vector<double> uniform(std::size_t n, double lo, double hi, std::mt19937& rng) {
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) x = d(rng);
  return v;
}

// The shape of the NIR paper's Braille network: 12 inputs → 38 recurrent CubaLIF → 7 CubaLI,
// with per-neuron time constants.
nir::Node braille_graph(unsigned seed) {
  std::mt19937 rng(seed);
  nir::Node g = node("", "NIRGraph");
  nir::Node in = node("input", "Input");
  in.params["shape"] = shape(12);
  nir::Node fc1 = node("fc1", "Affine");
  fc1.params["weight"] = nir::Array::matrix(38, 12, normal(38 * 12, 40.0, rng));
  fc1.params["bias"] = nir::Array::filled(38, 0.0);
  nir::Node lif = node("lif1", "CubaLIF");
  lif.params["tau_mem"] = nir::Array::vector(uniform(38, 8e-3, 15e-3, rng));
  lif.params["tau_syn"] = nir::Array::vector(uniform(38, 3e-3, 6e-3, rng));
  lif.params["r"] = nir::Array::filled(38, 1.0);
  lif.params["v_leak"] = nir::Array::filled(38, 0.0);
  lif.params["v_threshold"] = nir::Array::filled(38, 1.0);
  lif.params["v_reset"] = nir::Array::filled(38, 0.0);
  lif.params["w_in"] = nir::Array::filled(38, 1.0);
  nir::Node rec = node("rec1", "Linear");
  rec.params["weight"] = nir::Array::matrix(38, 38, normal(38 * 38, 8.0, rng));
  nir::Node fc2 = node("fc2", "Affine");
  fc2.params["weight"] = nir::Array::matrix(7, 38, normal(7 * 38, 30.0, rng));
  fc2.params["bias"] = nir::Array::filled(7, 0.0);
  nir::Node li = node("li2", "CubaLI");
  li.params["tau_mem"] = nir::Array::filled(7, 20e-3);
  li.params["tau_syn"] = nir::Array::filled(7, 10e-3);
  li.params["r"] = nir::Array::filled(7, 1.0);
  li.params["v_leak"] = nir::Array::filled(7, 0.0);
  li.params["w_in"] = nir::Array::filled(7, 1.0);
  nir::Node out = node("output", "Output");
  out.params["shape"] = shape(7);
  g.nodes = {in, fc1, lif, rec, fc2, li, out};
  g.edges = {{"input", "fc1"}, {"fc1", "lif1"}, {"lif1", "rec1"}, {"rec1", "lif1"},
             {"lif1", "fc2"}, {"fc2", "li2"}, {"li2", "output"}};
  g.metadata.text["source"] = "test_nir";
  g.metadata.numbers["dt"] = nir::Array::scalar(1e-3);
  return g;
}

// Input(1) → Affine(1×1, weight 1, bias 0) → LIF(tau, r, v_leak 0, v_threshold) → Output.
nir::Node one_lif_graph(double tau, double r, double threshold) {
  nir::Node g = node("", "NIRGraph");
  nir::Node in = node("input", "Input");
  in.params["shape"] = shape(1);
  nir::Node w = node("w", "Affine");
  w.params["weight"] = nir::Array::matrix(1, 1, {1.0});
  w.params["bias"] = nir::Array::filled(1, 0.0);
  nir::Node lif = node("lif", "LIF");
  lif.params["tau"] = nir::Array::filled(1, tau);
  lif.params["r"] = nir::Array::filled(1, r);
  lif.params["v_leak"] = nir::Array::filled(1, 0.0);
  lif.params["v_threshold"] = nir::Array::filled(1, threshold);
  nir::Node out = node("output", "Output");
  out.params["shape"] = shape(1);
  g.nodes = {in, w, lif, out};
  g.edges = {{"input", "w"}, {"w", "lif"}, {"lif", "output"}};
  return g;
}

nir::Node* child(nir::Node& g, const std::string& name) {
  for (auto& n : g.nodes)
    if (n.name == name) return &n;
  ADD_FAILURE() << "no node " << name;
  return &g.nodes.front();
}

// ---- comparisons ----

std::vector<std::uint32_t> bits(const std::vector<float>& v) {
  std::vector<std::uint32_t> b;
  for (float x : v) b.push_back(std::bit_cast<std::uint32_t>(x));
  return b;
}

// A weight parameter as a dense pre-major matrix (a sparse layer's missing synapses are 0).
std::vector<float> dense(const vt::Net& net, const vt::WeightLayout& W) {
  const auto& v = net.params()[W.param].value;
  if (W.dense) return v;
  std::vector<float> d(W.n_pre * W.n_post, 0.0f);
  for (std::size_t i = 0; i < W.n_pre; ++i)
    for (std::size_t k = W.row_ptr[i]; k < W.row_ptr[i + 1]; ++k) d[i * W.n_post + W.cols[k]] = v[k];
  return d;
}

// Every layer's spikes (spiking layers) and outputs (readout) of two networks on the same data;
// returns the number of spikes.
std::size_t expect_same_forward(const vt::Net& a, const vt::Net& b,
                                const volley::data::EventSource& data) {
  vt::Workspace wa, wb;
  vt::SampleRecord ra, rb;
  volley::data::SampleEvents ev;
  std::size_t spikes = 0;
  for (std::size_t s = 0; s < data.size(); ++s) {
    data.fill(s, 0, ev);
    a.forward(ev, ra, wa, false);
    b.forward(ev, rb, wb, false);
    for (std::size_t l = 0; l < a.config().layers.size(); ++l) {
      if (a.spiking(l)) {
        EXPECT_EQ(ra.layers[l].off, rb.layers[l].off) << "sample " << s << " layer " << l;
        EXPECT_TRUE(ra.layers[l].idx == rb.layers[l].idx) << "sample " << s << " layer " << l;
        spikes += ra.layers[l].idx.size();
      } else {
        EXPECT_EQ(bits(ra.layers[l].y), bits(rb.layers[l].y)) << "sample " << s;
      }
    }
  }
  return spikes;
}

// ---- raw HDF5, to make files volley's writer would never write ----

void edit(const std::string& path, const std::function<void(hid_t)>& f) {
  volley::io::hdf5::quiet();
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose, "open " + path);
  f(file);
}

Handle open_group(hid_t loc, const std::string& path) {
  return Handle(H5Gopen2(loc, path.c_str(), H5P_DEFAULT), H5Gclose, "open group " + path);
}

void put_string(hid_t g, const std::string& name, const std::string& value, bool fixed = false) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose, "string type");
  H5Tset_size(type, fixed ? value.size() : H5T_VARIABLE);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose, "space");
  Handle ds(H5Dcreate2(g, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
            H5Dclose, "create " + name);
  const char* raw = value.c_str();
  ASSERT_GE(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, fixed ? static_cast<const void*>(raw)
                                                                  : static_cast<const void*>(&raw)),
            0);
}

void put_edges(hid_t g, const std::vector<std::pair<std::string, std::string>>& edges) {
  std::vector<const char*> raw;
  for (const auto& [a, b] : edges) {
    raw.push_back(a.c_str());
    raw.push_back(b.c_str());
  }
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose, "string type");
  H5Tset_size(type, H5T_VARIABLE);
  const hsize_t dims[2] = {edges.size(), 2};
  Handle space(H5Screate_simple(2, dims, nullptr), H5Sclose, "space");
  Handle ds(H5Dcreate2(g, "edges", type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose,
            "create edges");
  ASSERT_GE(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()), 0);
}

// Numbers stored as `file_type` (e.g. H5T_IEEE_F32LE, H5T_STD_I32LE), optionally gzip-compressed;
// dims {} is a scalar.
void put_numbers(hid_t g, const std::string& name, const std::vector<double>& v,
                 std::vector<hsize_t> dims, hid_t file_type, bool gzip = false) {
  Handle space(dims.empty() ? H5Screate(H5S_SCALAR)
                            : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
               H5Sclose, "space");
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "dcpl");
  if (gzip) {
    H5Pset_chunk(dcpl, static_cast<int>(dims.size()), dims.data());
    H5Pset_deflate(dcpl, 4);
  }
  Handle ds(H5Dcreate2(g, name.c_str(), file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose,
            "create " + name);
  ASSERT_GE(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), 0);
}

void remove(hid_t loc, const std::string& path) { ASSERT_GE(H5Ldelete(loc, path.c_str(), H5P_DEFAULT), 0); }

// The error a call throws: its kind and message.
struct Failure {
  std::string kind, message;
};
Failure failure(const std::function<void()>& f) {
  try {
    f();
  } catch (const volley::ConfigError& e) {
    return {"ConfigError", e.what()};
  } catch (const volley::IoError& e) {
    return {"IoError", e.what()};
  } catch (const volley::Error& e) {
    return {"Error", e.what()};
  }
  return {"none", "no error"};
}

#define EXPECT_HAS(text, fragment) \
  EXPECT_NE(std::string(text).find(fragment), std::string::npos) << (text)

struct Variant {
  const char* name;
  void (*edit)(vt::NetConfig&);
  void (*params)(vt::Net&) = nullptr;
};

const Variant kVariants[] = {
    {"cuba_lif", [](vt::NetConfig&) {}},
    {"recurrent", [](vt::NetConfig& c) { c.layers[0].recurrent = true; }},
    {"lif_without_synapse",
     [](vt::NetConfig& c) {
       c.layers[0].tau_syn = 0.0;
       c.layers[1].tau_syn = 0.0;
       c.layers[0].recurrent = true;
     }},
    {"reset_none_threshold_node",
     [](vt::NetConfig& c) {
       c.layers[0].reset = vt::ResetMode::none;
       c.layers[0].recurrent = true;
       c.layers[0].threshold = 0.8;
     }},
    {"sparse_two_hidden",
     [](vt::NetConfig& c) {
       c.layers[0].density = 0.3;
       vt::LayerConfig h2 = c.layers[0];
       h2.size = 12;
       h2.recurrent = true;
       h2.recurrent_density = 0.5;
       h2.tau_syn = 0.0;
       c.layers.insert(c.layers.begin() + 1, h2);
     }},
    {"spiking_output",
     [](vt::NetConfig& c) {
       c.layers[1].kind = vt::LayerKind::lif;
       c.layers[1].size = 4;
     }},
    {"learned_time_constants", [](vt::NetConfig& c) { c.layers[0].learn_tau = true; },
     [](vt::Net& net) {
       auto& beta = net.params()[net.beta_param(0)].value;
       auto& alpha = net.params()[net.alpha_param(0)].value;
       for (std::size_t j = 0; j < beta.size(); j += 3) beta[j] *= 0.97f;
       for (std::size_t j = 1; j < alpha.size(); j += 4) alpha[j] *= 1.01f;
     }},
};

}  // namespace

// (a) A trained network written as NIR and imported again has the same configuration, the same
// float weights and decay factors bit for bit, and the same spikes and outputs on toy data.
TEST(NirRoundTrip, ExportImportGivesIdenticalWeightsAndSpikes) {
  const auto data = volley::test::toy_data(40, 3);
  for (const Variant& v : kVariants) {
    SCOPED_TRACE(v.name);
    vt::NetConfig c = volley::test::toy_net(30);
    v.edit(c);
    vt::Net net(c);
    if (v.params) v.params(net);
    TempDir dir;
    const nir::Node g = nir::to_nir(net);
    nir::write(dir / "net.nir", g);
    std::string version;
    const nir::Node back = nir::read(dir / "net.nir", &version);
    EXPECT_EQ(version, nir::kFormatVersion);
    EXPECT_TRUE(back == g) << "the graph changed through the file";
    ASSERT_EQ(back.metadata.numbers.count("dt"), 1u);
    EXPECT_EQ(back.metadata.numbers.at("dt").values[0], c.dt);

    nir::ImportOptions o;
    o.dt = c.dt;
    o.steps = c.n_steps;
    o.base = c;
    const nir::Imported imp = nir::from_nir(back, o, "test");
    const auto net2 = imp.make_net();
    const vt::NetConfig& c2 = net2->config();
    ASSERT_EQ(c2.layers.size(), c.layers.size());
    EXPECT_EQ(c2.n_inputs, c.n_inputs);
    for (std::size_t l = 0; l < c.layers.size(); ++l) {
      SCOPED_TRACE(l);
      EXPECT_EQ(c2.layers[l].kind, c.layers[l].kind);
      EXPECT_EQ(c2.layers[l].size, c.layers[l].size);
      EXPECT_EQ(c2.layers[l].tau_syn > 0.0, c.layers[l].tau_syn > 0.0);
      EXPECT_EQ(c2.layers[l].recurrent, c.layers[l].recurrent);
      if (c.layers[l].kind != vt::LayerKind::readout) {
        EXPECT_EQ(c2.layers[l].threshold, c.layers[l].threshold);
        EXPECT_EQ(c2.layers[l].reset, c.layers[l].reset);
      }
      if (!c.layers[l].learn_tau) {
        EXPECT_EQ(c2.layers[l].tau_mem, c.layers[l].tau_mem);
        EXPECT_EQ(c2.layers[l].tau_syn, c.layers[l].tau_syn);
      }
      EXPECT_EQ(bits(dense(*net2, net2->input_weights(l))), bits(dense(net, net.input_weights(l))));
      if (c.layers[l].recurrent) {
        EXPECT_EQ(bits(dense(*net2, net2->recurrent_weights(l))),
                  bits(dense(net, net.recurrent_weights(l))));
      }
      EXPECT_EQ(bits(net2->params()[net2->beta_param(l)].value),
                bits(net.params()[net.beta_param(l)].value));
      EXPECT_EQ(bits(net2->params()[net2->alpha_param(l)].value),
                bits(net.params()[net.alpha_param(l)].value));
    }
    const std::size_t spikes = expect_same_forward(net, *net2, data);
    EXPECT_GT(spikes, 300u) << "too quiet to compare anything";
  }
}

// The comparison is not blind: one weight changed in the file changes the imported spikes.
TEST(NirRoundTrip, AChangedWeightChangesTheSpikes) {
  const auto data = volley::test::toy_data(20, 3);
  const vt::Net net(volley::test::toy_net(30, true));
  nir::Node g = nir::to_nir(net);
  auto& w = child(g, "layer0_w")->params["weight"].values;
  for (std::size_t k = 0; k < w.size(); k += 7) w[k] *= 1.5;
  nir::ImportOptions o;
  o.dt = net.config().dt;
  o.steps = net.config().n_steps;
  const auto net2 = nir::from_nir(g, o, "test").make_net();
  vt::Workspace wa, wb;
  vt::SampleRecord ra, rb;
  volley::data::SampleEvents ev;
  std::size_t differ = 0;
  for (std::size_t s = 0; s < data.size(); ++s) {
    data.fill(s, 0, ev);
    net.forward(ev, ra, wa, false);
    net2->forward(ev, rb, wb, false);
    differ += !(ra.layers[0].idx == rb.layers[0].idx);
  }
  EXPECT_GT(differ, 0u);
}

// What NIR cannot express is refused, naming the layer.
TEST(NirExport, RefusesWhatNirCannotExpress) {
  {
    vt::NetConfig c = volley::test::toy_net(8);
    c.layers[0].kind = vt::LayerKind::alif;
    const Failure f = failure([&] { nir::to_nir(vt::Net(c)); });
    EXPECT_EQ(f.kind, "ConfigError");
    EXPECT_HAS(f.message, "layer 0 is an adaptive LIF");
  }
  {
    vt::NetConfig c = volley::test::toy_net(8);
    c.layers[0].reset = vt::ResetMode::subtract;
    const Failure f = failure([&] { nir::to_nir(vt::Net(c)); });
    EXPECT_EQ(f.kind, "ConfigError");
    EXPECT_HAS(f.message, "layer 0 resets by subtracting the threshold");
  }
  {
    vt::NetConfig c = volley::test::toy_net(8);
    c.forward = vt::ForwardMode::smooth;
    const Failure f = failure([&] { nir::to_nir(vt::Net(c)); });
    EXPECT_EQ(f.kind, "ConfigError");
    EXPECT_HAS(f.message, "smooth forward mode");
  }
}

// (c) Input → Affine (1×1, weight 1) → LIF (tau 2.5 ms, r 1, v_threshold 0.1) imported at
// dt = 0.1 ms, with an input held constant over each step: the voltage is the exact solution of
// tau dv/dt = −v + r·x over each step, v_{t+1} = v_t·e^{−dt/tau} + (1 − e^{−dt/tau})·r·x_t, set
// to 0 in the step after a threshold crossing (v_t > v_threshold at a step end), and the spikes
// come at the same steps.
TEST(NirImport, OneNeuronLifFollowsTheExactSolution) {
  const double tau = 2.5e-3, r = 1.0, theta = 0.1, dt = 1e-4;
  TempDir dir;
  nir::write(dir / "lif.nir", one_lif_graph(tau, r, theta));
  nir::ImportOptions o;
  o.dt = dt;
  o.steps = 2000;
  const nir::Imported imp = nir::from_nir(nir::read(dir / "lif.nir"), o, "test");
  ASSERT_EQ(imp.config.layers.size(), 1u);
  EXPECT_EQ(imp.config.layers[0].kind, vt::LayerKind::lif);
  EXPECT_EQ(imp.config.layers[0].tau_syn, 0.0);
  EXPECT_EQ(imp.config.layers[0].threshold, theta);
  const auto net = imp.make_net();
  vt::LayerState s;
  net->reset_state(0, s);
  const double e = std::exp(-dt / tau);
  double v = 0.0;
  std::size_t spikes = 0, crossings = 0;
  double worst = 0.0;
  const std::uint32_t idx[] = {0};
  for (std::size_t t = 0; t < o.steps; ++t) {
    const float x = static_cast<float>(0.12 + 0.1 * std::sin(0.013 * static_cast<double>(t)));
    const float val[] = {x};
    net->step_layer(0, idx, val, s);
    const bool crossing = v > theta;  // v_t, the voltage at the end of the step before
    v = crossing ? 0.0 : v * e + (1.0 - e) * r * static_cast<double>(x);
    crossings += crossing;
    spikes += s.spike[0] > 0.5f;
    ASSERT_EQ(s.spike[0] > 0.5f, crossing) << "step " << t;
    worst = std::max(worst, std::abs(static_cast<double>(s.mem[0]) - v));
  }
  EXPECT_LT(worst, 1e-5);
  EXPECT_EQ(spikes, crossings);
  EXPECT_GT(spikes, 20u) << "the test needs threshold crossings";
}

// (d) The Braille network's shape (12 → 38 recurrent CubaLIF → 7 CubaLI, per-neuron time
// constants): write → read gives the same graph; imported, it runs in the trainer, and the
// simulator files `volley import` writes load and run; exported for the simulator with test
// inputs, the simulator reproduces the imported network's trainer forward pass spike for spike.
TEST(NirFormat, BrailleSizedRecurrentNetworkRoundTripsAndRuns) {
  TempDir dir;
  const nir::Node g = braille_graph(11);
  nir::write(dir / "braille.nir", g);
  const nir::Node back = nir::read(dir / "braille.nir");
  EXPECT_TRUE(back == g);
  // Writing the same graph again gives the same bytes.
  nir::write(dir / "again.nir", back);
  std::ifstream f1(dir / "braille.nir", std::ios::binary), f2(dir / "again.nir", std::ios::binary);
  const std::string b1((std::istreambuf_iterator<char>(f1)), {}), b2((std::istreambuf_iterator<char>(f2)), {});
  EXPECT_TRUE(b1 == b2) << "the same graph should give the same file";

  nir::ImportOptions o;
  o.dt = 1e-3;
  o.steps = 50;
  const nir::Imported imp = nir::from_nir(back, o, "test");
  ASSERT_EQ(imp.config.layers.size(), 2u);
  EXPECT_EQ(imp.config.n_inputs, 12u);
  EXPECT_TRUE(imp.config.layers[0].recurrent);
  EXPECT_EQ(imp.config.layers[0].size, 38u);
  EXPECT_EQ(imp.config.layers[1].kind, vt::LayerKind::readout);
  EXPECT_EQ(imp.config.layers[1].size, 7u);
  const auto net = imp.make_net();
  // The mapping, element by element: W_volley[i, j] = (1 − α_j)(1 − β_j)·W_nir[j, i].
  {
    const auto& lif = back.nodes[2];
    const auto& w = back.nodes[1].params.at("weight").values;
    const auto& got = net->params()[net->input_weights(0).param].value;
    for (std::size_t j = 0; j < 38; ++j) {
      const float a = static_cast<float>(std::exp(-1e-3 / lif.params.at("tau_syn").values[j]));
      const float b = static_cast<float>(std::exp(-1e-3 / lif.params.at("tau_mem").values[j]));
      for (std::size_t i = 0; i < 12; ++i) {
        const double factor = (1.0 - static_cast<double>(b)) * (1.0 - static_cast<double>(a));
        ASSERT_EQ(got[i * 38 + j], static_cast<float>(w[j * 12 + i] * factor)) << i << " " << j;
      }
    }
  }
  const auto data = volley::test::bernoulli_data(12, 50, 7, 20, 5);
  vt::Workspace ws;
  vt::SampleRecord rec;
  volley::data::SampleEvents ev;
  std::size_t spikes = 0;
  for (std::size_t s = 0; s < data.size(); ++s) {
    data.fill(s, 0, ev);
    net->forward(ev, rec, ws, false);
    spikes += rec.layers[0].idx.size();
    for (float y : rec.layers[1].y) ASSERT_TRUE(std::isfinite(y));
  }
  EXPECT_GT(spikes, 500u) << "the imported network should be active";

  // The simulator: the files of `volley import` (no input), then an export with test inputs.
  nir::ImportDirOptions d;
  d.nir_path = dir / "braille.nir";
  d.out_dir = dir / "imported";
  d.dt = 1e-3;
  d.steps = 50;
  const nir::ImportReport rep = nir::import_to_directory(d);
  for (const char* file : {"network.toml", "model.toml", "synapses.h5"})
    EXPECT_TRUE(std::filesystem::exists(dir / ("imported/" + std::string(file)))) << file;
  {
    io::LoadedModel m = io::load_model_file(dir / "imported/model.toml");
    m.network->run(m.duration);
  }
  io::ExportOptions eo;
  eo.count = 20;
  const io::ExportLayout layout = io::export_network(*net, data, eo, dir / "sim");
  const io::ExportCheck check = io::check_export(*net, {}, data, layout, dir / "sim");
  EXPECT_EQ(check.samples_identical, 20u);
  EXPECT_EQ(check.spike_mismatches, 0u);
  EXPECT_GT(check.simulator_spikes, 500u);
}

// `volley import --train`: training.toml (the training file with the imported network) and a
// checkpoint that `volley eval` restores and `volley train --resume` fine-tunes.
TEST(NirImport, WritesACheckpointForEvalAndFineTuning) {
  TempDir dir;
  nir::write(dir / "braille.nir", braille_graph(3));
  {
    std::ofstream t(dir / "ipd.toml");
    t << "[data]\ndataset = \"ipd\"\nfibres = 6\nclasses = 7\ntrain_samples = 64\n"
         "test_samples = 16\n\n[network]\ndt = \"1 ms\"\nsteps = 40\nseed = 1\n\n"
         "[[layers]]\ntype = \"lif\"\nsize = 10\ntau_mem = \"20 ms\"\ntau_syn = \"0 ms\"\n\n"
         "[[layers]]\ntype = \"readout\"\nsize = 7\ntau_mem = \"20 ms\"\ntau_syn = \"0 ms\"\n\n"
         "[loss]\nkind = \"mean_ce\"\n\n[optimizer]\nkind = \"adam\"\nlr = 0.001\n\n"
         "[training]\nepochs = 1\nbatch_size = 16\nthreads = 1\n";
  }
  nir::ImportDirOptions d;
  d.nir_path = dir / "braille.nir";
  d.out_dir = dir / "out";
  d.train_path = dir / "ipd.toml";
  const nir::ImportReport rep = nir::import_to_directory(d);
  EXPECT_EQ(rep.imported.config.dt, 1e-3);
  EXPECT_EQ(rep.imported.config.n_steps, 40u);
  for (const auto& n : rep.notes) EXPECT_EQ(n.find("could not be loaded"), std::string::npos) << n;
  ASSERT_TRUE(std::filesystem::exists(dir / "out/checkpoint.bin"));
  ASSERT_TRUE(std::filesystem::exists(dir / "out/training.toml"));

  // As `volley eval` restores it.
  const vt::Checkpoint ck = vt::read_checkpoint(dir / "out/checkpoint.bin");
  const io::TrainConfig cfg = io::load_train_string(ck.config_text, ck.config_name);
  ASSERT_EQ(cfg.net.layers.size(), 2u);
  EXPECT_EQ(cfg.net.layers[0].size, 38u);
  EXPECT_TRUE(cfg.net.layers[0].recurrent);
  EXPECT_EQ(cfg.net.layers[1].kind, vt::LayerKind::readout);
  io::TrainConfig small = cfg;
  small.data.train_limit = 1;
  const io::DataSets data = io::load_data(small);
  vt::NetConfig nc = cfg.net;
  nc.n_inputs = data.test->n_inputs();
  vt::Net net(nc);
  vt::restore(ck, net, nullptr, "checkpoint");
  const auto imported = rep.imported.make_net();
  for (std::size_t k = 0; k < net.params().size(); ++k)
    EXPECT_EQ(bits(net.params()[k].value), bits(imported->params()[k].value)) << net.params()[k].name;
  vt::Trainer trainer(net, cfg.loss, cfg.optimizer, cfg.training);
  const vt::EvalStats st = trainer.evaluate(*data.test);
  EXPECT_EQ(st.samples, 16u);

  // As `volley train OUT/training.toml --out OUT --resume` continues it.
  io::TrainConfig tc = io::load_train_config(dir / "out/training.toml");
  io::FitOptions fo;
  fo.out_dir = dir / "out";
  fo.resume = true;
  std::FILE* log = std::tmpfile();
  fo.log = log;
  const vt::FitResult r = io::fit(tc, fo);
  std::fclose(log);
  EXPECT_FALSE(r.stopped);
  EXPECT_EQ(r.epochs_done, 1);
  // A second import into the directory would replace the fine-tuned checkpoint: refused.
  const Failure again = failure([&] { nir::import_to_directory(d); });
  EXPECT_EQ(again.kind, "IoError");
  EXPECT_HAS(again.message, "holds a training run");
}

// (e) Files that are not NIR graphs volley can read: errors of the right kind naming the file
// and the node, never a crash.
TEST(NirFormat, RejectsInvalidFilesNamingFileAndNode) {
  TempDir dir;
  const vt::Net net(volley::test::toy_net(38, true));
  const std::string good = dir / "good.nir";
  nir::write(good, nir::to_nir(net));
  auto variant = [&](const std::string& name, const std::function<void(hid_t)>& change) {
    const std::string path = dir / name;
    std::filesystem::copy_file(good, path);
    edit(path, change);
    return failure([&] { nir::read(path); });
  };
  {
    const Failure f = variant("conv.nir", [](hid_t file) {
      Handle g = open_group(file, "node/nodes/layer0_w");
      remove(g, "type");
      put_string(g, "type", "Conv2d");
    });
    EXPECT_EQ(f.kind, "ConfigError");
    EXPECT_HAS(f.message, "conv.nir");
    EXPECT_HAS(f.message, "node 'layer0_w'");
    EXPECT_HAS(f.message, "type 'Conv2d' is not supported");
    EXPECT_HAS(f.message, "Input, Output, Affine, Linear, Scale, LIF, CubaLIF, LI, CubaLI, IF, I, "
                          "Threshold, Delay, Flatten, NIRGraph");
  }
  {
    const Failure f = variant("missing.nir", [](hid_t file) { remove(file, "node/nodes/layer0/tau_syn"); });
    EXPECT_EQ(f.kind, "ConfigError");
    EXPECT_HAS(f.message, "missing.nir");
    EXPECT_HAS(f.message, "node 'layer0' (CubaLIF): missing parameter 'tau_syn'");
  }
  {
    const Failure f = variant("shapes.nir", [](hid_t file) {
      Handle g = open_group(file, "node/nodes/layer0_w");
      remove(g, "weight");
      remove(g, "bias");
      put_numbers(g, "weight", std::vector<double>(40 * 20, 0.5), {40, 20}, H5T_IEEE_F64LE);
      put_numbers(g, "bias", std::vector<double>(40, 0.0), {40}, H5T_IEEE_F64LE);
    });
    EXPECT_EQ(f.kind, "ConfigError");
    EXPECT_HAS(f.message, "shapes.nir");
    EXPECT_HAS(f.message, "the edge 'layer0_w' -> 'layer0' connects node 'layer0_w' (Affine) with "
                          "40 outputs to node 'layer0' (CubaLIF) with 38 inputs");
  }
  {
    const Failure f = variant("dangling.nir", [](hid_t file) {
      Handle g = open_group(file, "node");
      remove(g, "edges");
      put_edges(g, {{"input", "layer0_w"}, {"layer0_w", "layer0"}, {"layer0", "nowhere"}});
    });
    EXPECT_EQ(f.kind, "ConfigError");
    EXPECT_HAS(f.message, "dangling.nir");
    EXPECT_HAS(f.message, "the edge 'layer0' -> 'nowhere' names node 'nowhere', which does not exist");
  }
  {
    const Failure f = variant("edges.nir", [](hid_t file) {
      Handle g = open_group(file, "node");
      remove(g, "edges");
      put_string(g, "edges", "input layer0_w");
    });
    EXPECT_EQ(f.kind, "ConfigError");
    EXPECT_HAS(f.message, "edges must be n × 2");
  }
  {
    const Failure f = variant("nan.nir", [](hid_t file) {
      Handle g = open_group(file, "node/nodes/layer0");
      remove(g, "r");
      std::vector<double> r(38, 1.0);
      r[5] = std::nan("");
      put_numbers(g, "r", r, {38}, H5T_IEEE_F32LE);
    });
    EXPECT_EQ(f.kind, "ConfigError");
    EXPECT_HAS(f.message, "node 'layer0' (CubaLIF): parameter 'r' has a value that is not a finite number (element 5)");
  }
  {
    std::ofstream(dir / "text.nir") << "not an HDF5 file\n";
    const Failure f = failure([&] { nir::read(dir / "text.nir"); });
    EXPECT_EQ(f.kind, "IoError");
    EXPECT_HAS(f.message, "NIR file '" + (dir / "text.nir") + "': not an HDF5 file");
  }
  {
    const Failure f = failure([&] { nir::read(dir / "absent.nir"); });
    EXPECT_EQ(f.kind, "IoError");
    EXPECT_HAS(f.message, "absent.nir': cannot open (no such file)");
  }
  {
    const std::string path = dir / "other.h5";
    {
      Handle file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose, "create");
      Handle g(H5Gcreate2(file, "spikes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, "group");
    }
    const Failure f = failure([&] { nir::read(path); });
    EXPECT_EQ(f.kind, "ConfigError");
    EXPECT_HAS(f.message, "other.h5': no group /node, so this is not a NIR graph");
    EXPECT_HAS(f.message, "holds 'spikes'");
  }
  // The writer refuses an invalid graph before writing anything.
  {
    nir::Node g = nir::to_nir(net);
    g.edges.emplace_back("layer0", "ghost");
    const Failure f = failure([&] { nir::write(dir / "never.nir", g); });
    EXPECT_EQ(f.kind, "ConfigError");
    EXPECT_HAS(f.message, "names node 'ghost'");
    EXPECT_FALSE(std::filesystem::exists(dir / "never.nir"));
  }
}

// Files laid out the way h5py stores what nir.write gives it, with what other writers use:
// fixed-length strings, float32 gzip-compressed weights, int32 shapes, scalar parameters (one
// value for all neurons), a subgraph in snnTorch's style (RSynaptic: Input → CubaLIF ⇄ Linear
// → Output) joined by its name, a Flatten and a Scale.
TEST(NirFormat, ReadsOtherWritersLayoutsAndImportsThem) {
  TempDir dir;
  const std::string path = dir / "other.nir";
  {
    Handle file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose, "create");
    put_string(file, "version", "1.0.6", true);
    Handle g(H5Gcreate2(file, "node", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, "node");
    put_string(g, "type", "NIRGraph", true);
    Handle nodes(H5Gcreate2(g, "nodes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, "nodes");
    auto make = [&](hid_t parent, const char* name, const char* type) {
      Handle n(H5Gcreate2(parent, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, name);
      put_string(n, "type", type);
      return n;
    };
    {
      Handle n = make(nodes, "in", "Input");
      put_numbers(n, "shape", {2, 2}, {2}, H5T_STD_I32LE);
    }
    {
      Handle n = make(nodes, "flat", "Flatten");
      put_numbers(n, "start_dim", {0}, {}, H5T_STD_I64LE);
      put_numbers(n, "end_dim", {-1}, {}, H5T_STD_I64LE);
      put_numbers(n, "input_type", {2, 2}, {2}, H5T_STD_I64LE);
    }
    {
      Handle n = make(nodes, "fc", "Linear");
      std::vector<double> w;
      for (int k = 0; k < 12; ++k) w.push_back((k - 5) / 10.0);
      put_numbers(n, "weight", w, {3, 4}, H5T_IEEE_F32LE, true);
    }
    {
      Handle n = make(nodes, "gain", "Scale");
      put_numbers(n, "scale", {2.0, 0.5, 1.0}, {3}, H5T_IEEE_F64LE);
    }
    {
      Handle sub = make(nodes, "rsyn", "NIRGraph");
      Handle sn(H5Gcreate2(sub, "nodes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, "nodes");
      {
        Handle n = make(sn, "input", "Input");
        put_numbers(n, "shape", {3}, {1}, H5T_STD_I64LE);
      }
      {
        Handle n = make(sn, "lif", "CubaLIF");
        put_numbers(n, "tau_mem", {10e-3, 20e-3, 15e-3}, {3}, H5T_IEEE_F32LE);
        put_numbers(n, "tau_syn", {5e-3}, {1}, H5T_IEEE_F32LE);
        put_numbers(n, "r", {100.0}, {}, H5T_IEEE_F64LE);  // a scalar: every neuron
        put_numbers(n, "v_leak", {0.0}, {}, H5T_IEEE_F64LE);
        put_numbers(n, "v_threshold", {1.0, 1.0, 1.0}, {3}, H5T_IEEE_F64LE);
        put_numbers(n, "w_in", {50.0}, {}, H5T_IEEE_F64LE);
      }
      {
        Handle n = make(sn, "w_rec", "Linear");
        put_numbers(n, "weight", {0, 0.1, 0, 0, 0, -0.2, 0.3, 0, 0}, {3, 3}, H5T_IEEE_F64LE);
      }
      {
        Handle n = make(sn, "output", "Output");
        put_numbers(n, "shape", {3}, {1}, H5T_STD_I64LE);
      }
      put_edges(sub, {{"input", "lif"}, {"lif", "w_rec"}, {"w_rec", "lif"}, {"lif", "output"}});
    }
    {
      Handle n = make(nodes, "fc2", "Affine");
      put_numbers(n, "weight", {1, -1, 0.5, 0, 2, 1}, {2, 3}, H5T_IEEE_F64LE, true);
      put_numbers(n, "bias", {0.0}, {1}, H5T_IEEE_F32LE);
    }
    {
      Handle n = make(nodes, "li", "LI");
      put_numbers(n, "tau", {20e-3, 30e-3}, {2}, H5T_IEEE_F64LE);
      put_numbers(n, "r", {1.0, 1.0}, {2}, H5T_IEEE_F64LE);
      put_numbers(n, "v_leak", {0.0, 0.0}, {2}, H5T_IEEE_F64LE);
    }
    {
      Handle n = make(nodes, "out", "Output");
      put_numbers(n, "shape", {2}, {1}, H5T_STD_I32LE);
    }
    put_edges(g, {{"in", "flat"}, {"flat", "fc"}, {"fc", "gain"}, {"gain", "rsyn"},
                  {"rsyn", "fc2"}, {"fc2", "li"}, {"li", "out"}});
    Handle meta(H5Gcreate2(g, "metadata", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, "meta");
    put_string(meta, "source", "handmade", true);
    put_numbers(meta, "dt", {1e-4}, {}, H5T_IEEE_F64LE);
  }
  std::string version;
  const nir::Node g = nir::read(path, &version);
  EXPECT_EQ(version, "1.0.6");
  EXPECT_EQ(g.metadata.text.at("source"), "handmade");
  EXPECT_EQ(g.metadata.numbers.at("dt").values, std::vector<double>{1e-4});
  const nir::Node* fc = g.find("fc");
  ASSERT_NE(fc, nullptr);
  EXPECT_EQ(fc->params.at("weight").type, nir::Array::Type::float32);
  EXPECT_EQ(fc->params.at("weight").shape, (std::vector<std::size_t>{3, 4}));
  EXPECT_EQ(fc->params.at("weight").values[0], static_cast<double>(static_cast<float>(-0.5)));
  EXPECT_EQ(g.find("in")->params.at("shape").type, nir::Array::Type::int64);
  ASSERT_NE(g.find("rsyn"), nullptr);
  EXPECT_EQ(g.find("rsyn")->nodes.size(), 4u);

  const double dt = 1e-4;
  nir::ImportOptions o;
  o.dt = dt;
  o.steps = 20;
  const nir::Imported imp = nir::from_nir(g, o, "test");
  ASSERT_EQ(imp.config.layers.size(), 2u);
  EXPECT_EQ(imp.config.n_inputs, 4u);
  EXPECT_TRUE(imp.config.layers[0].recurrent);
  EXPECT_EQ(imp.config.layers[0].size, 3u);
  EXPECT_EQ(imp.config.layers[1].kind, vt::LayerKind::readout);
  const auto net = imp.make_net();
  const auto& lif = g.find("rsyn")->find("lif")->params;
  const std::vector<double> scale = {2.0, 0.5, 1.0};
  auto factor = [&](std::size_t j) {
    const float a = static_cast<float>(std::exp(-dt / lif.at("tau_syn").values[0]));
    const float b = static_cast<float>(std::exp(-dt / lif.at("tau_mem").values[j]));
    return (1.0 - static_cast<double>(b)) * 100.0 * (1.0 - static_cast<double>(a)) * 50.0;
  };
  const auto& w = net->params()[net->input_weights(0).param].value;
  const auto& fw = fc->params.at("weight").values;
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      EXPECT_EQ(w[i * 3 + j], static_cast<float>(fw[j * 4 + i] * scale[j] * factor(j))) << i << j;
  const auto& v = net->params()[net->recurrent_weights(0).param].value;
  const auto& rw = g.find("rsyn")->find("w_rec")->params.at("weight").values;
  for (std::size_t k = 0; k < 3; ++k)
    for (std::size_t j = 0; j < 3; ++j)
      EXPECT_EQ(v[k * 3 + j], static_cast<float>(rw[j * 3 + k] * factor(j)));
  const auto& out = net->params()[net->input_weights(1).param].value;
  const auto& f2 = g.find("fc2")->params.at("weight").values;
  const auto& tau = g.find("li")->params.at("tau").values;
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 2; ++j)
      EXPECT_EQ(out[i * 2 + j], static_cast<float>(
                                    f2[j * 3 + i] * (1.0 - static_cast<double>(static_cast<float>(
                                                               std::exp(-dt / tau[j]))))));
  EXPECT_FALSE(imp.notes.empty());  // the Scale was folded
}

// A recurrent layer inside a subgraph (as snnTorch exports RSynaptic), joined by the subgraph's
// name or by a dotted "subgraph.node" name, imports exactly as the flat graph does.
TEST(NirImport, SubgraphsImportLikeTheFlatGraph) {
  const nir::Node flat = braille_graph(5);
  nir::Node sub = node("rec", "NIRGraph");
  nir::Node in = node("in", "Input");
  in.params["shape"] = shape(38);
  nir::Node out = node("out", "Output");
  out.params["shape"] = shape(38);
  sub.nodes = {in, flat.nodes[2], flat.nodes[3], out};
  sub.edges = {{"in", "lif1"}, {"lif1", "rec1"}, {"rec1", "lif1"}, {"lif1", "out"}};
  nir::Node g = node("", "NIRGraph");
  g.nodes = {flat.nodes[0], flat.nodes[1], sub, flat.nodes[4], flat.nodes[5], flat.nodes[6]};
  g.edges = {{"input", "fc1"}, {"fc1", "rec.in"}, {"rec", "fc2"}, {"fc2", "li2"}, {"li2", "output"}};
  TempDir dir;
  nir::write(dir / "nested.nir", g);
  const nir::Node back = nir::read(dir / "nested.nir");
  EXPECT_TRUE(back == g);
  nir::ImportOptions o;
  o.dt = 1e-3;
  const nir::Imported a = nir::from_nir(flat, o, "flat"), b = nir::from_nir(back, o, "nested");
  ASSERT_EQ(a.params.size(), b.params.size());
  for (std::size_t k = 0; k < a.params.size(); ++k) {
    EXPECT_EQ(a.params[k].first, b.params[k].first);
    EXPECT_EQ(bits(a.params[k].second), bits(b.params[k].second)) << a.params[k].first;
  }
  ASSERT_EQ(b.layers.size(), 2u);
  EXPECT_HAS(b.layers[0], "CubaLIF 'rec.lif1', recurrent 'rec.rec1'");
}

// What volley's layers cannot run is refused, naming the node and why.
TEST(NirImport, RefusesGraphsVolleyCannotRun) {
  nir::ImportOptions o;
  o.dt = 1e-3;
  auto message = [&](const nir::Node& g) {
    const Failure f = failure([&] { nir::from_nir(g, o, "NIR file 'x.nir'"); });
    EXPECT_EQ(f.kind, "ConfigError") << f.message;
    EXPECT_HAS(f.message, "NIR file 'x.nir'");
    return f.message;
  };
  const nir::Node base = braille_graph(1);
  {
    nir::Node g = base;
    child(g, "lif1")->params["v_leak"].values[4] = 0.1;
    EXPECT_HAS(message(g), "node 'lif1' (CubaLIF): v_leak is 0.1 at neuron 4");
  }
  {
    nir::Node g = base;
    child(g, "lif1")->params["v_reset"].values[2] = -0.5;
    EXPECT_HAS(message(g), "v_reset is -0.5 at neuron 2");
  }
  {
    nir::Node g = base;
    child(g, "fc1")->params["bias"].values[0] = 0.25;
    EXPECT_HAS(message(g), "node 'fc1' (Affine) has a bias of 0.25");
  }
  {
    nir::Node g = base;
    nir::Node* lif = child(g, "lif1");
    lif->type = "IF";
    for (const char* p : {"tau_mem", "tau_syn", "v_leak", "w_in"}) lif->params.erase(p);
    EXPECT_HAS(message(g), "node 'lif1' (IF) follows the weights 'fc1'");
    EXPECT_HAS(message(g), "volley's neurons are leaky");
  }
  {
    nir::Node g = base;
    nir::Node d = node("delay", "Delay");
    d.params["delay"] = nir::Array::filled(38, 2e-3);
    g.nodes.push_back(d);
    g.edges[1] = {"fc1", "delay"};
    g.edges.push_back({"delay", "lif1"});
    EXPECT_HAS(message(g), "node 'delay' (Delay) follows the weights 'fc1'");
    EXPECT_HAS(message(g), "no synaptic delays");
  }
  {
    nir::Node g = base;  // the hidden layer feeds a second, parallel readout
    nir::Node extra = *child(g, "fc2");
    extra.name = "side";
    g.nodes.push_back(extra);
    g.edges.push_back({"lif1", "side"});
    EXPECT_HAS(message(g), "node 'lif1' (CubaLIF) feeds 2 nodes ('fc2', 'side')");
  }
  {
    nir::Node g = base;  // a leaky integrator in the middle
    nir::Node* lif = child(g, "lif1");
    lif->type = "CubaLI";
    lif->params.erase("v_threshold");
    lif->params.erase("v_reset");
    g.edges.erase(g.edges.begin() + 2, g.edges.begin() + 4);  // and no recurrence
    g.nodes.erase(g.nodes.begin() + 3);
    EXPECT_HAS(message(g), "node 'lif1' (CubaLI) gives a voltage, not spikes, and feeds 'fc2'");
  }
  {
    nir::Node g = base;  // the readout with recurrent weights
    nir::Node rec = node("rec2", "Linear");
    rec.params["weight"] = nir::Array::matrix(7, 7, std::vector<double>(49, 0.1));
    g.nodes.push_back(rec);
    g.edges.push_back({"li2", "rec2"});
    g.edges.push_back({"rec2", "li2"});
    EXPECT_HAS(message(g), "is the readout (a leaky integrator without spikes) and has recurrent");
  }
  {
    nir::Node g = base;
    nir::Node in2 = node("input2", "Input");
    in2.params["shape"] = shape(38);
    g.nodes.push_back(in2);
    g.edges.push_back({"input2", "fc2"});
    EXPECT_HAS(message(g), "more than one Input");
  }
  {
    nir::Node g = base;  // weights straight into neurons without a weight node
    g.nodes.erase(g.nodes.begin() + 1);
    g.edges[0] = {"input", "lif1"};
    g.edges.erase(g.edges.begin() + 1);
    child(g, "input")->params["shape"] = shape(38);
    EXPECT_HAS(message(g), "node 'lif1' (CubaLIF) follows 'input', where volley expects a layer's "
                           "weights");
  }
  // Without a time step, the import says where one could come from.
  {
    TempDir dir;
    nir::write(dir / "b.nir", base);
    nir::ImportDirOptions d;
    d.nir_path = dir / "b.nir";
    d.out_dir = dir / "out";
    const Failure f = failure([&] { nir::import_to_directory(d); });
    EXPECT_EQ(f.kind, "ConfigError");
    EXPECT_HAS(f.message, "--dt");
    EXPECT_HAS(f.message, "metadata suggests dt = 0.001 s");
    EXPECT_FALSE(std::filesystem::exists(dir / "out"));
  }
}

// Files for tests/io/nir_h5py_check.py (ctest nir_h5py_check, which runs this test first as
// nir_files_write): graphs volley writes, and one made invalid the way a broken writer would
// (ctest nir_h5py_check_detects_errors).
TEST(NirFiles, WriteForH5py) {
  const std::filesystem::path out = VOLLEY_NIR_OUT;
  std::filesystem::create_directories(out / "broken");
  {
    vt::NetConfig c = volley::test::toy_net(30, true);
    nir::write((out / "toy_recurrent.nir").string(), nir::to_nir(vt::Net(c)));
    c.layers[0].reset = vt::ResetMode::none;
    c.layers[0].tau_syn = 0.0;
    c.layers[1].kind = vt::LayerKind::lif;
    nir::write((out / "toy_reset_none_lif.nir").string(), nir::to_nir(vt::Net(c)));
  }
  nir::write((out / "braille.nir").string(), braille_graph(7));
  const std::string broken = (out / "broken" / "missing_tau_syn.nir").string();
  nir::write(broken, braille_graph(7));
  edit(broken, [](hid_t file) { remove(file, "node/nodes/lif1/tau_syn"); });
  for (const char* f : {"toy_recurrent.nir", "toy_reset_none_lif.nir", "braille.nir"})
    EXPECT_TRUE(std::filesystem::exists(out / f));
}

// A file laid out by h5py as nir.write lays one out (tests/io/nir_h5py_check.py `write`: an
// snnTorch-style RSynaptic subgraph, float32 gzip-compressed weights, int32 and int64 shapes,
// metadata), read and imported by volley.
TEST(NirFiles, ReadsAFileWrittenByH5py) {
#ifndef VOLLEY_NIR_H5PY_SCRIPT
  GTEST_SKIP() << "no python3 with h5py and numpy at configure time";
#else
  TempDir dir;
  const std::string path = dir / "h5py.nir";
  const std::string command = fmt::format("'{}' '{}' write '{}' > /dev/null", VOLLEY_NIR_PYTHON,
                                          VOLLEY_NIR_H5PY_SCRIPT, path);
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::string version;
  const nir::Node g = nir::read(path, &version);
  EXPECT_EQ(version, "1.0.6");
  EXPECT_EQ(g.metadata.text.at("source"), "h5py");
  ASSERT_NE(g.find("rsyn"), nullptr);
  ASSERT_NE(g.find("rsyn")->find("lif"), nullptr);
  EXPECT_EQ(g.find("rsyn")->find("lif")->type, "CubaLIF");
  EXPECT_EQ(g.find("fc")->params.at("weight").type, nir::Array::Type::float32);
  for (std::size_t k = 0; k < 12; ++k)
    EXPECT_EQ(g.find("fc")->params.at("weight").values[k],
              static_cast<double>(static_cast<float>((static_cast<double>(k) - 5) / 10)));
  EXPECT_EQ(g.find("output")->params.at("shape").values, std::vector<double>{2});
  EXPECT_EQ(g.edges.size(), 5u);

  const double dt = 1e-4;
  nir::ImportOptions o;
  o.dt = dt;
  o.steps = 20;
  const nir::Imported imp = nir::from_nir(g, o, "h5py file");
  ASSERT_EQ(imp.config.layers.size(), 2u);
  EXPECT_TRUE(imp.config.layers[0].recurrent);
  EXPECT_EQ(imp.config.layers[1].kind, vt::LayerKind::readout);
  const auto net = imp.make_net();
  const auto& lif = g.find("rsyn")->find("lif")->params;
  const auto& fw = g.find("fc")->params.at("weight").values;
  const auto& w = net->params()[net->input_weights(0).param].value;
  for (std::size_t j = 0; j < 3; ++j) {
    const float a = static_cast<float>(std::exp(-dt / lif.at("tau_syn").values[j]));
    const float b = static_cast<float>(std::exp(-dt / lif.at("tau_mem").values[j]));
    const double factor = (1.0 - static_cast<double>(b)) * lif.at("r").values[j] *
                          (1.0 - static_cast<double>(a)) * lif.at("w_in").values[j];
    for (std::size_t i = 0; i < 4; ++i)
      EXPECT_EQ(w[i * 3 + j], static_cast<float>(fw[j * 4 + i] * factor));
  }
  // snnTorch's convention (r = tau_mem/dt, w_in = tau_syn/dt) makes the factor close to 1.
  const double f0 = (1.0 - std::exp(-dt / 0.01)) * (0.01 / dt) * (1.0 - std::exp(-dt / 0.005)) *
                    (0.005 / dt);
  EXPECT_NEAR(f0, 1.0, 0.02);
#endif
}

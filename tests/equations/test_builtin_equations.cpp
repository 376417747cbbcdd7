// The built-in neuron models written as equations (issue 18): lif_cond, adex, izhikevich and hh,
// each run beside its built-in model for 10 s of the same driven network, give the same spikes.
// (lif is in test_equations.cpp.)
//
// Every neuron gets its own Poisson train (one_to_one from a Poisson group of the population's
// size) into the excitatory channel and a train shared by all neurons (all_to_all) into the
// inhibitory one, so both populations receive identical events and each neuron a different
// input. There is no recurrent projection: the equation kernels cannot reproduce the built-in
// kernels' rounding bit for bit (see each test), so a spike may move by one step where the
// membrane passes within rounding of the threshold at a step boundary, and recurrent
// connections would carry such a move to other neurons and amplify it, as in any chaotic
// network. Without them the comparison is per neuron and exact up to those moves.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "support/temp_dir.hpp"
#include "volley/io/model_file.hpp"
#include "volley/monitors.hpp"
#include "volley/network.hpp"

using namespace volley;

namespace {

constexpr double kDt = 1e-4;
constexpr std::size_t kSteps = 100000;  // 10 s

// A kernel cache private to this test process.
class BuiltinEquationsTest : public ::testing::Test {
 protected:
  void SetUp() override { ::setenv("VOLLEY_KERNEL_CACHE", (dir_ / "cache").c_str(), 1); }
  test::TempDir dir_;
};

// The network: populations B (built-in) and E (equations), the TOML text of each given, driven
// by Poisson group X (one train per neuron, into channels bx/ex) and Y (shared, into by/ey).
std::string network(std::size_t n, const std::string& builtin, const std::string& equations,
                    double x_rate, const std::string& bx, const std::string& ex, const std::string& wx,
                    const std::string& by, const std::string& ey, const std::string& wy) {
  return fmt::format(R"(
[simulation]
dt = "0.1 ms"
duration = "10 s"
seed = 7
[populations.X]
model = "poisson"
size = {n}
rate = "{x_rate} Hz"
[populations.Y]
model = "poisson"
size = 10
rate = "20 Hz"
[populations.B]
size = {n}
{builtin}
[populations.E]
size = {n}
model = "equations"
{equations}
[projections.xb]
source = "X"
target = "B"
channel = "{bx}"
connect = {{ rule = "one_to_one" }}
weight = "{wx}"
[projections.xe]
source = "X"
target = "E"
channel = "{ex}"
connect = {{ rule = "one_to_one" }}
weight = "{wx}"
[projections.yb]
source = "Y"
target = "B"
channel = "{by}"
connect = {{ rule = "all_to_all" }}
weight = "{wy}"
[projections.ye]
source = "Y"
target = "E"
channel = "{ey}"
connect = {{ rule = "all_to_all" }}
weight = "{wy}"
[monitors.b]
type = "spikes"
population = "B"
[monitors.e]
type = "spikes"
population = "E"
)",
                     fmt::arg("n", n), fmt::arg("builtin", builtin), fmt::arg("equations", equations),
                     fmt::arg("x_rate", x_rate), fmt::arg("bx", bx), fmt::arg("ex", ex),
                     fmt::arg("wx", wx), fmt::arg("by", by), fmt::arg("ey", ey), fmt::arg("wy", wy));
}

// Spike steps per neuron.
std::vector<std::vector<long>> trains(const SpikeMonitor& m, std::size_t n) {
  std::vector<std::vector<long>> out(n);
  for (std::size_t k = 0; k < m.times.size(); ++k)
    out.at(m.units[k]).push_back(std::lround(m.times[k] / kDt));
  return out;
}

struct Compared {
  std::size_t spikes = 0;  // built-in
  std::size_t moved = 0;   // spikes of the equations one step away from the built-in one's
};

// Runs the network and checks that every neuron of E spikes as often as its twin in B and each
// spike within `tolerance` steps of its twin's.
Compared run_and_compare(const std::string& text, std::size_t n, long tolerance) {
  auto loaded = io::load_model_string(text, "builtin_equations.toml");
  Network& net = *loaded.network;
  net.run(loaded.duration);
  const auto b = trains(*net.spike_monitors()[0], n);
  const auto e = trains(*net.spike_monitors()[1], n);
  Compared c;
  for (std::size_t i = 0; i < n; ++i) {
    c.spikes += b[i].size();
    EXPECT_EQ(e[i].size(), b[i].size()) << "neuron " << i;
    if (e[i].size() != b[i].size()) continue;
    for (std::size_t k = 0; k < b[i].size(); ++k) {
      const long d = std::labs(e[i][k] - b[i][k]);
      EXPECT_LE(d, tolerance) << "neuron " << i << ", spike " << k << " at step " << b[i][k];
      c.moved += d != 0;
    }
  }
  std::printf("%zu spikes of %zu neurons in 10 s (%.1f Hz), %zu moved\n", c.spikes, n,
              static_cast<double>(c.spikes) / static_cast<double>(n) / (kSteps * kDt), c.moved);
  return c;
}

}  // namespace

// lif_cond (exponential Euler in single precision, conductances decayed after the membrane
// update, v held for round(t_ref/dt) - 1 steps) as Brian2's COBA equations with
// method = "exponential_euler", precision = "single": the membrane sees the conductances at the
// start of the step, as the built-in kernel does. Within one step, not identical: the built-in
// kernel computes v_inf + (v - v_inf) exp(-G dt/C), the generated one v + (A v + B) dt exprel(A dt)
// (and decays g by g + (-g/tau) dt exprel(-dt/tau), not by a stored factor), which round
// differently in float.
TEST_F(BuiltinEquationsTest, LifCondEquationsGiveTheBuiltInSpikes) {
  const std::size_t n = 50;
  const std::string builtin = R"(model = "lif_cond"
v_init = { dist = "ramp", from = "-60 mV", to = "-50 mV" })";
  const std::string equations = R"(equations = '''
dv/dt  = (gL*(El - v) + ge*(Ee - v) + gi*(Ei - v))/C : volt (unless refractory)
dge/dt = -ge/taue : siemens
dgi/dt = -gi/taui : siemens
'''
threshold = "v > Vt"
reset = "v = Vr"
refractory = "5 ms"
method = "exponential_euler"
precision = "single"
constants = { C = "200 pF", gL = "10 nS", El = "-60 mV", Vt = "-50 mV", Vr = "-60 mV", Ee = "0 mV", Ei = "-80 mV", taue = "5 ms", taui = "10 ms" }
initial = { v = { dist = "ramp", from = "-60 mV", to = "-50 mV" } })";
  const Compared c = run_and_compare(network(n, builtin, equations, 1000, "exc", "ge", "1 nS",
                                             "inh", "gi", "4 nS"),
                                     n, 1);
  EXPECT_GT(c.spikes, n * 10 * 5);  // above 5 Hz
  EXPECT_LE(c.moved, c.spikes / 100);  // moves are rare
}

// adex (rk4 in 10 us substeps of double precision, inputs held over the step and decayed after
// it, reset at v >= v_peak in the substep where it is reached, at most one spike per step) with
// method = "rk4", max_step = "10 us" and the channels '(per step)'. Within one step, not
// identical: the built-in kernel is compiled with -ffast-math (vector exp, reassociation) and
// stores the channels in single precision.
TEST_F(BuiltinEquationsTest, AdexEquationsGiveTheBuiltInSpikes) {
  const std::size_t n = 20;
  const std::string builtin = R"(model = "adex"
v_init = { dist = "ramp", from = "-70.6 mV", to = "-50 mV" }
[populations.B.channels.exc]
tau = "5 ms"
e_rev = "0 mV"
[populations.B.channels.inh]
tau = "10 ms")";
  const std::string equations = R"(equations = '''
dv/dt = (gL*(EL - v) + gL*DeltaT*exp(clip((v - VT)/DeltaT, -1000, (Vpeak - VT)/DeltaT + 10))
         - w + ge*(Ee - v) + ii)/C : volt
dw/dt = (a*(v - EL) - w)/tauw : amp
dge/dt = -ge/taue : siemens (per step)
dii/dt = -ii/taui : amp (per step)
'''
threshold = "v >= Vpeak"
reset = "v = Vr; w += b"
method = "rk4"
max_step = "10 us"
constants = { C = "281 pF", gL = "30 nS", EL = "-70.6 mV", VT = "-50.4 mV", DeltaT = "2 mV", tauw = "144 ms", a = "4 nS", b = "0.0805 nA", Vr = "-70.6 mV", Vpeak = "-40.4 mV", Ee = "0 mV", taue = "5 ms", taui = "10 ms" }
initial = { v = { dist = "ramp", from = "-70.6 mV", to = "-50 mV" } })";
  const Compared c = run_and_compare(network(n, builtin, equations, 1000, "exc", "ge", "3 nS",
                                             "inh", "ii", "-20 pA"),
                                     n, 1);
  EXPECT_GT(c.spikes, n * 10 * 5);
  EXPECT_LE(c.moved, c.spikes / 100);
}

// izhikevich (forward Euler in 5 us substeps of double precision, v and u stored in single
// precision between steps, exponential channels held over the step and decayed by a float
// factor, delta channels jumping v) with method = "euler", max_step = "5 us", precision = "mixed"
// (stored in float, computed in double, as the built-in kernel does), the exponential channel
// '(per step)' (a pure decay: multiplied by exp(-dt/tau) rounded to float, as the built-in) and
// the delta channel a projection into v. Within one step, not guaranteed identical: the built-in
// multiplies by the substep in ms (h/ms * (...)) where the generated code divides by ms and
// multiplies by h. In this network no spike moves. (With precision = "double" 20 of 12429 spikes
// moved, by up to 2 steps; with "single" far more: the model amplifies float-level differences
// while a neuron passes slowly near its saddle-node.)
TEST_F(BuiltinEquationsTest, IzhikevichEquationsGiveTheBuiltInSpikes) {
  const std::size_t n = 50;
  const std::string builtin = R"(model = "izhikevich"
v_init = { dist = "ramp", from = "-65 mV", to = "-50 mV" }
u_init = { dist = "ramp", from = "-13 mV", to = "-10 mV" }
[populations.B.channels.exc]
tau = "5 ms"
[populations.B.channels.inh]
tau = "0 ms")";
  const std::string equations = R"(equations = '''
dv/dt = (40*v**2/volt + k1*v + k0 - u + I)/ms : volt
du/dt = a*(b*v - u) : volt
dI/dt = -I/taue : volt (per step)
'''
threshold = "v >= vpeak"
reset = "v = c; u += d"
method = "euler"
max_step = "5 us"
precision = "mixed"
constants = { a = "20 Hz", b = 0.2, c = "-65 mV", d = "8 mV", vpeak = "30 mV", k1 = 5, k0 = "140 mV", taue = "5 ms" }
initial = { v = { dist = "ramp", from = "-65 mV", to = "-50 mV" }, u = { dist = "ramp", from = "-13 mV", to = "-10 mV" } })";
  const Compared c = run_and_compare(network(n, builtin, equations, 1000, "exc", "I", "2 mV",
                                             "inh", "v", "-1 mV"),
                                     n, 1);
  EXPECT_GT(c.spikes, n * 10 * 5);
  EXPECT_LE(c.moved, c.spikes / 100);
}

// hh (rk4 in 10 us substeps of double precision, conductance channels held over the step, a
// spike at an upward crossing of 0 mV within the step, at most one per step) with
// method = "rk4", max_step = "10 us", the channels '(per step)', threshold and refractory
// condition "v >= 0*mV" (the condition is taken at the start of each substep, so the threshold
// fires only on an upward crossing) and the rate functions' removable singularities written
// with exprel; fast_math = true, as the built-in ODE kernels are compiled (a quarter faster
// here). Within one step, not identical: the expressions differ in form (and so does what
// -ffast-math does with them), and the built-in kernel stores the channels in single precision.
TEST_F(BuiltinEquationsTest, HodgkinHuxleyEquationsGiveTheBuiltInSpikes) {
  const std::size_t n = 12;
  const std::string builtin = R"(model = "hh"
v_init = { dist = "ramp", from = "-70 mV", to = "-60 mV" }
initial = { m = 0.05, h = 0.6, n = 0.32 }
[populations.B.channels.exc]
tau = "5 ms"
e_rev = "0 mV"
[populations.B.channels.inh]
tau = "10 ms"
e_rev = "-80 mV")";
  const std::string equations = R"(equations = '''
dv/dt = (gNa*m**3*h*(ENa - v) + gK*n**4*(EK - v) + gL*(EL - v) + ge*(Ee - v) + gi*(Ei - v))/C : volt
dm/dt = alpha_m*(1 - m) - beta_m*m : 1
dh/dt = alpha_h*(1 - h) - beta_h*h : 1
dn/dt = alpha_n*(1 - n) - beta_n*n : 1
alpha_m = 1/ms/exprel(-(v/mV + 40)/10) : hertz
beta_m = 4/ms*exp(-(v/mV + 65)/18) : hertz
alpha_h = 0.07/ms*exp(-(v/mV + 65)/20) : hertz
beta_h = 1/ms/(1 + exp(-(v/mV + 35)/10)) : hertz
alpha_n = 0.1/ms/exprel(-(v/mV + 55)/10) : hertz
beta_n = 0.125/ms*exp(-(v/mV + 65)/80) : hertz
dge/dt = -ge/taue : siemens (per step)
dgi/dt = -gi/taui : siemens (per step)
'''
threshold = "v >= Vspike"
refractory = "v >= Vspike"
fast_math = true
method = "rk4"
max_step = "10 us"
constants = { C = "1 uF", gNa = "120 mS", gK = "36 mS", gL = "0.3 mS", ENa = "50 mV", EK = "-77 mV", EL = "-54.387 mV", Ee = "0 mV", Ei = "-80 mV", Vspike = "0 mV", taue = "5 ms", taui = "10 ms" }
initial = { v = { dist = "ramp", from = "-70 mV", to = "-60 mV" }, m = 0.05, h = 0.6, n = 0.32 })";
  const Compared c = run_and_compare(network(n, builtin, equations, 1000, "exc", "ge", "20 uS",
                                             "inh", "gi", "20 uS"),
                                     n, 1);
  EXPECT_GT(c.spikes, n * 10 * 5);
  EXPECT_LE(c.moved, c.spikes / 100);
}

// Adversarial attacks (train/attack.hpp): the pixel input encodes exactly as the data source;
// input gradients match central finite differences in the smooth-forward mode; the latency
// encoder's time gradient is the difference of the value gradients one step apart; FGSM on a
// network without hidden layer is the closed form; PGD stays in the ε-ball and [0, 1]; ε = 0
// gives the clean accuracy of Trainer::evaluate; results do not depend on the thread count; bad
// settings are refused by name.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "volley/error.hpp"
#include "volley/train/attack.hpp"
#include "volley/train/trainer.hpp"

namespace vt = volley::train;
namespace vd = volley::data;

namespace {

constexpr std::size_t kSide = 6, kPix = kSide * kSide, kClasses = 3;

vd::ImageSet images(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  vd::ImageSet s;
  s.n = n;
  s.rows = s.cols = kSide;
  s.pixels.resize(n * kPix);
  for (auto& p : s.pixels) p = static_cast<std::uint8_t>(rng() % 256);
  for (std::size_t i = 0; i < n; ++i) s.labels.push_back(static_cast<std::uint8_t>(i % kClasses));
  return s;
}

vd::EncoderConfig encoder(vd::EncoderConfig::Kind kind, std::size_t steps) {
  vd::EncoderConfig e;
  e.kind = kind;
  e.n_steps = steps;
  e.tau_eff = 5.0;
  e.threshold = 0.2;
  return e;
}

vt::NetConfig net_config(std::size_t steps, bool hidden, vt::ForwardMode fwd) {
  vt::NetConfig c;
  c.n_inputs = kPix;
  c.n_steps = steps;
  c.dt = 1e-3;
  c.forward = fwd;
  c.backward = vt::BackwardMode::dense;
  c.seed = 7;
  if (hidden) {
    vt::LayerConfig h;
    h.size = 12;
    h.weight_scale = 40.0;
    c.layers.push_back(h);
  }
  vt::LayerConfig r;
  r.kind = vt::LayerKind::readout;
  r.size = kClasses;
  r.weight_scale = 20.0;
  if (!hidden) r.tau_syn = 0.0;
  c.layers.push_back(r);
  return c;
}

vt::LossConfig loss(vt::LossKind k = vt::LossKind::max_ce) {
  vt::LossConfig l;
  l.kind = k;
  return l;
}

}  // namespace

TEST(PixelInput, EncodesExactlyAsTheSource) {
  for (auto kind : {vd::EncoderConfig::Kind::latency, vd::EncoderConfig::Kind::analog}) {
    const vd::ImageSource src(images(20, 1), encoder(kind, 30), "toy");
    const vt::PixelInput in(src);
    std::vector<float> x(kPix);
    vd::SampleEvents a, b;
    for (std::size_t i = 0; i < src.size(); ++i) {
      src.fill(i, 0, a);
      in.clean(i, x);
      in.encode(x, b);
      EXPECT_EQ(a.offsets, b.offsets);
      EXPECT_EQ(a.units, b.units);
      EXPECT_EQ(a.values, b.values);
    }
  }
  // Every grey level, as the attacks store it (a float).
  const vd::EncoderConfig e = encoder(vd::EncoderConfig::Kind::latency, 100);
  const vd::ImageSource src(images(1, 1), e, "toy");
  for (int v = 0; v < 256; ++v)
    EXPECT_EQ(vd::ImageSource::latency_step_of(static_cast<float>(v / 255.0), e),
              src.latency_step(static_cast<std::uint8_t>(v)))
        << v;
}

TEST(PixelInput, PoissonIsRefused) {
  const vd::ImageSource src(images(2, 1), encoder(vd::EncoderConfig::Kind::poisson, 10), "toy");
  EXPECT_THROW(vt::PixelInput{src}, volley::ParameterError);
}

// dL/dx through the analog encoder and a smooth-forward network is the exact derivative.
TEST(AttackGradients, AnalogMatchesCentralFiniteDifferences) {
  const vd::ImageSource src(images(4, 2), encoder(vd::EncoderConfig::Kind::analog, 8), "toy");
  const vt::PixelInput in(src);
  vt::NetConfig c = net_config(8, true, vt::ForwardMode::smooth);
  c.smooth_scale = 4.0;
  c.layers[0].detach_reset = false;  // else the reset is not differentiated: not exact
  const vt::Net net(c);
  const vt::AttackTarget target(net, loss(vt::LossKind::mean_ce), in);
  vt::AttackTarget::Scratch s;
  std::vector<float> x(kPix), dx(kPix), xp(kPix);
  double worst = 0.0, largest = 0.0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    in.clean(i, x);
    target.gradient(x, in.label(i), dx, s);
    for (std::size_t p = 0; p < kPix; ++p) {
      const float h = 2e-3f;
      xp = x;
      xp[p] = x[p] + h;
      const double lp = target.probe(xp, in.label(i), s).loss;
      xp[p] = x[p] - h;
      const double lm = target.probe(xp, in.label(i), s).loss;
      const double fd = (lp - lm) / (2.0 * h);
      largest = std::max(largest, std::abs(fd));
      worst = std::max(worst, std::abs(fd - dx[p]));
    }
  }
  EXPECT_GT(largest, 1e-3) << "gradients too small for the test to mean anything";
  EXPECT_LE(worst, 1e-3 * largest);
}

// The latency encoder's surrogate: dL/dt of an event is x·(value gradient one step later − value
// gradient now), checked by adding a zero-valued twin event one step later.
TEST(AttackGradients, TimeGradientIsTheValueGradientOneStepLaterMinusNow) {
  const vt::Net net(net_config(20, true, vt::ForwardMode::heaviside));
  vd::SampleEvents ev;
  ev.reset(20);
  std::vector<std::uint32_t> steps = {2, 5, 5, 9}, units = {1, 3, 7, 20};
  std::vector<float> vals = {1.0f, 1.0f, 0.5f, 1.0f};
  vd::build_sample(steps, units, vals, 20, ev);
  vt::Workspace ws;
  vt::SampleRecord rec;
  std::vector<float> dy;
  auto grads = net.zero_grads();
  net.forward(ev, rec, ws, true);
  vt::sample_loss(loss(), net, rec, 1, 1.0f, &dy);
  vt::InputGradients g;
  net.backward(ev, rec, dy, nullptr, grads, ws, &g);
  // The same sample with zero-valued events one step later: the forward pass is unchanged.
  std::vector<std::uint32_t> steps2 = steps, units2 = units;
  std::vector<float> vals2 = vals;
  for (std::size_t k = 0; k < steps.size(); ++k) {
    steps2.push_back(steps[k] + 1);
    units2.push_back(units[k]);
    vals2.push_back(0.0f);
  }
  vd::SampleEvents ev2;
  vd::build_sample(steps2, units2, vals2, 20, ev2);
  net.forward(ev2, rec, ws, true);
  vt::sample_loss(loss(), net, rec, 1, 1.0f, &dy);
  vt::InputGradients g2;
  net.backward(ev2, rec, dy, nullptr, grads, ws, &g2);
  double any = 0.0;
  for (std::size_t k = 0; k < steps.size(); ++k) {
    // Find the event k and its later twin in ev2.
    float now = 0.0f, later = 0.0f;
    for (std::size_t t = 0; t < 20; ++t)
      for (std::uint32_t e = ev2.offsets[t]; e < ev2.offsets[t + 1]; ++e) {
        if (ev2.units[e] != units[k]) continue;
        if (t == steps[k] && ev2.values[e] != 0.0f) now = g2.value[e];
        if (t == steps[k] + 1 && ev2.values[e] == 0.0f) later = g2.value[e];
      }
    std::size_t e1 = 0;
    for (std::uint32_t e = ev.offsets[steps[k]]; e < ev.offsets[steps[k] + 1]; ++e)
      if (ev.units[e] == units[k]) e1 = e;
    EXPECT_NEAR(g.value[e1], now, 1e-6);
    EXPECT_NEAR(g.time[e1], vals[k] * (later - now), 1e-6);
    any = std::max(any, double(std::abs(g.time[e1])));
  }
  EXPECT_GT(any, 0.0);
}

// Without a hidden layer and with one step, y = Wᵀx and dL/dx = W·(softmax(y) − onehot): FGSM is
// clip(x + ε·sign(W·(p − e_y))).
TEST(Attacks, FgsmWithoutHiddenLayerIsTheClosedForm) {
  const vd::ImageSource src(images(12, 3), encoder(vd::EncoderConfig::Kind::analog, 1), "toy");
  const vt::PixelInput in(src);
  const vt::Net net(net_config(1, false, vt::ForwardMode::heaviside));
  const vt::AttackTarget target(net, loss(), in);
  vt::AttackConfig cfg;
  cfg.kind = vt::AttackKind::fgsm;
  cfg.eps = 0.1;
  std::vector<float> adv;
  const vt::AttackResult r = vt::run_attack(target, cfg, 0, 1, &adv);
  const std::vector<float>& W = net.params()[net.input_weights(0).param].value;
  std::vector<float> x(kPix);
  std::size_t checked = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    in.clean(i, x);
    std::vector<double> y(kClasses, 0.0);
    for (std::size_t p = 0; p < kPix; ++p)
      for (std::size_t j = 0; j < kClasses; ++j) y[j] += double(x[p]) * W[p * kClasses + j];
    const double mx = *std::max_element(y.begin(), y.end());
    double z = 0.0;
    for (double v : y) z += std::exp(v - mx);
    const int label = in.label(i);
    const auto pred = static_cast<int>(std::max_element(y.begin(), y.end()) - y.begin());
    if (pred != label) {  // misclassified samples are not attacked
      for (std::size_t p = 0; p < kPix; ++p) EXPECT_EQ(adv[i * kPix + p], x[p]);
      continue;
    }
    for (std::size_t p = 0; p < kPix; ++p) {
      double g = 0.0;
      for (std::size_t j = 0; j < kClasses; ++j)
        g += W[p * kClasses + j] * (std::exp(y[j] - mx) / z - (int(j) == label ? 1.0 : 0.0));
      const double want = std::clamp(x[p] + 0.1 * ((g > 0) - (g < 0)), 0.0, 1.0);
      EXPECT_NEAR(adv[i * kPix + p], want, 1e-6) << "sample " << i << " pixel " << p;
      ++checked;
    }
  }
  EXPECT_GT(checked, 0u);
  EXPECT_LE(r.accuracy, r.clean_accuracy);
}

TEST(Attacks, PgdStaysInTheBallAndTheRange) {
  const vd::ImageSource src(images(24, 4), encoder(vd::EncoderConfig::Kind::latency, 20), "toy");
  const vt::PixelInput in(src);
  const vt::Net net(net_config(20, true, vt::ForwardMode::heaviside));
  const vt::AttackTarget target(net, loss(), in);
  for (auto norm : {vt::AttackNorm::linf, vt::AttackNorm::l2}) {
    vt::AttackConfig cfg;
    cfg.norm = norm;
    cfg.eps = norm == vt::AttackNorm::linf ? 0.05 : 0.5;
    cfg.steps = 5;
    std::vector<float> adv;
    const vt::AttackResult r = vt::run_attack(target, cfg, 0, 2, &adv);
    std::vector<float> x(kPix);
    double moved = 0.0;
    for (std::size_t i = 0; i < in.size(); ++i) {
      in.clean(i, x);
      double sq = 0.0;
      for (std::size_t p = 0; p < kPix; ++p) {
        const float a = adv[i * kPix + p];
        EXPECT_GE(a, 0.0f);
        EXPECT_LE(a, 1.0f);
        const double d = double(a) - double(x[p]);
        if (norm == vt::AttackNorm::linf) EXPECT_LE(std::abs(d), cfg.eps + 1e-6);
        sq += d * d;
        moved = std::max(moved, std::abs(d));
      }
      if (norm == vt::AttackNorm::l2) EXPECT_LE(std::sqrt(sq), cfg.eps + 1e-5);
    }
    EXPECT_GT(moved, 0.0);
    EXPECT_LE(r.accuracy, r.clean_accuracy);
  }
}

TEST(Attacks, EpsilonZeroIsTheCleanAccuracyOfEvaluate) {
  const vd::ImageSource src(images(40, 5), encoder(vd::EncoderConfig::Kind::latency, 20), "toy");
  const vt::PixelInput in(src);
  vt::Net net(net_config(20, true, vt::ForwardMode::heaviside));
  const vt::AttackTarget target(net, loss(), in);
  vt::TrainSettings st;
  vt::Trainer trainer(net, loss(), vt::OptimizerConfig{}, st);
  const double clean = trainer.evaluate(src).accuracy;
  for (auto kind : {vt::AttackKind::fgsm, vt::AttackKind::pgd, vt::AttackKind::square}) {
    vt::AttackConfig cfg;
    cfg.kind = kind;
    cfg.eps = 0.0;
    EXPECT_DOUBLE_EQ(vt::run_attack(target, cfg, 0, 1).accuracy, clean);
  }
}

TEST(Attacks, SameResultsForOneAndTwoThreads) {
  const vd::ImageSource src(images(30, 6), encoder(vd::EncoderConfig::Kind::latency, 20), "toy");
  const vt::PixelInput in(src);
  const vt::Net net(net_config(20, true, vt::ForwardMode::heaviside));
  const vt::AttackTarget target(net, loss(), in);
  for (auto kind : {vt::AttackKind::pgd, vt::AttackKind::square}) {
    vt::AttackConfig cfg;
    cfg.kind = kind;
    cfg.eps = 0.1;
    cfg.queries = 50;
    std::vector<float> a1, a2;
    const auto r1 = vt::run_attack(target, cfg, 0, 1, &a1);
    const auto r2 = vt::run_attack(target, cfg, 0, 2, &a2);
    EXPECT_EQ(a1, a2);
    EXPECT_EQ(r1.correct, r2.correct);
    EXPECT_EQ(r1.mean_queries, r2.mean_queries);
  }
}

TEST(Attacks, BadSettingsAreRefusedByName) {
  auto message = [](const vt::AttackConfig& c) {
    try {
      c.validate();
    } catch (const volley::ParameterError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  vt::AttackConfig c;
  c.eps = -0.1;
  EXPECT_NE(message(c).find("eps"), std::string::npos);
  c = {};
  c.steps = 0;
  EXPECT_NE(message(c).find("steps"), std::string::npos);
  c = {};
  c.kind = vt::AttackKind::square;
  c.norm = vt::AttackNorm::l2;
  EXPECT_NE(message(c).find("square"), std::string::npos);
  EXPECT_EQ(vt::attack_kinds().find("deepfool"), nullptr);
}

// Event-space attacks (train/event_attack.hpp): the adversarial samples are valid event data that
// differ from the clean ones in at most ⌈ε·n⌉ single events; the dense input gradient is the
// value gradient at the events; ε = 0 gives Trainer::evaluate's accuracy; results do not depend
// on the thread count; the one-shot attack takes the changes of largest first-order gain.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "support/toy_events.hpp"
#include "volley/error.hpp"
#include "volley/train/event_attack.hpp"
#include "volley/train/trainer.hpp"

namespace vt = volley::train;
namespace vd = volley::data;

namespace {

constexpr std::size_t kIn = 16, kT = 25, kClasses = 3;

vt::NetConfig config() {
  vt::NetConfig c;
  c.n_inputs = kIn;
  c.n_steps = kT;
  c.seed = 3;
  c.backward = vt::BackwardMode::dense;
  vt::LayerConfig h;
  h.size = 20;
  h.weight_scale = 30.0;
  vt::LayerConfig r;
  r.kind = vt::LayerKind::readout;
  r.size = kClasses;
  r.weight_scale = 20.0;
  c.layers = {h, r};
  return c;
}

vt::LossConfig loss() {
  vt::LossConfig l;
  l.kind = vt::LossKind::mean_ce;
  return l;
}

std::map<std::pair<std::size_t, std::uint32_t>, float> counts(const vd::SampleEvents& ev) {
  std::map<std::pair<std::size_t, std::uint32_t>, float> m;
  for (std::size_t t = 0; t + 1 < ev.offsets.size(); ++t)
    for (std::uint32_t e = ev.offsets[t]; e < ev.offsets[t + 1]; ++e) m[{t, ev.units[e]}] += ev.values[e];
  return m;
}

}  // namespace

TEST(EventAttacks, AdversarialSamplesAreValidEventsWithinTheBudget) {
  const auto data = volley::test::bernoulli_data(kIn, kT, kClasses, 30, 5);
  const vt::Net net(config());
  const vt::EventAttackTarget target(net, loss(), data);
  for (auto kind : {vt::AttackKind::fgsm, vt::AttackKind::pgd, vt::AttackKind::square}) {
    vt::AttackConfig cfg;
    cfg.kind = kind;
    cfg.eps = 0.1;
    cfg.queries = 40;
    std::vector<vd::SampleEvents> adv;
    const vt::AttackResult r = vt::run_event_attack(target, cfg, 0, 2, &adv);
    ASSERT_EQ(adv.size(), data.size());
    std::size_t changed_total = 0;
    vd::SampleEvents clean;
    for (std::size_t i = 0; i < data.size(); ++i) {
      data.fill(i, 0, clean);
      const auto a = counts(adv[i]), c = counts(clean);
      double n = 0.0;
      for (float v : clean.values) n += v;
      std::size_t changed = 0;
      for (const auto& [cell, v] : a) {
        EXPECT_GE(v, 1.0f);
        EXPECT_EQ(v, std::round(v));
        const float before = c.count(cell) ? c.at(cell) : 0.0f;
        EXPECT_LE(std::abs(v - before), 1.0f);
        changed += v != before;
      }
      for (const auto& [cell, v] : c) changed += a.count(cell) == 0;  // removed entirely
      EXPECT_LE(changed, static_cast<std::size_t>(std::ceil(cfg.eps * n)));
      changed_total += changed;
    }
    EXPECT_GT(changed_total, 0u) << vt::attack_kinds().name_of(kind);
    EXPECT_LE(r.accuracy, r.clean_accuracy);
  }
}

TEST(EventAttacks, GridGradientIsTheValueGradientAtTheEvents) {
  const auto data = volley::test::bernoulli_data(kIn, kT, kClasses, 4, 6);
  const vt::Net net(config());
  const vt::EventAttackTarget target(net, loss(), data);
  vt::EventAttackTarget::Scratch s;
  vd::SampleEvents ev;
  for (std::size_t i = 0; i < data.size(); ++i) {
    data.fill(i, 0, ev);
    target.gradient(ev, data.label(i), s);
    ASSERT_EQ(s.ig.grid.size(), kT * kIn);
    for (std::size_t t = 0; t < kT; ++t)
      for (std::uint32_t e = ev.offsets[t]; e < ev.offsets[t + 1]; ++e)
        EXPECT_FLOAT_EQ(s.ig.grid[t * kIn + ev.units[e]], s.ig.value[e]);
  }
}

TEST(EventAttacks, EpsilonZeroIsTheCleanAccuracyAndThreadsDoNotMatter) {
  const auto data = volley::test::bernoulli_data(kIn, kT, kClasses, 40, 7);
  vt::Net net(config());
  const vt::EventAttackTarget target(net, loss(), data);
  vt::TrainSettings st;
  vt::Trainer trainer(net, loss(), vt::OptimizerConfig{}, st);
  const double clean = trainer.evaluate(data).accuracy;
  vt::AttackConfig cfg;
  cfg.eps = 0.0;
  EXPECT_DOUBLE_EQ(vt::run_event_attack(target, cfg, 0, 1).accuracy, clean);
  for (auto kind : {vt::AttackKind::pgd, vt::AttackKind::square}) {
    cfg.kind = kind;
    cfg.eps = 0.1;
    cfg.queries = 30;
    std::vector<vd::SampleEvents> a1, a2;
    const auto r1 = vt::run_event_attack(target, cfg, 0, 1, &a1);
    const auto r2 = vt::run_event_attack(target, cfg, 0, 2, &a2);
    EXPECT_EQ(r1.correct, r2.correct);
    for (std::size_t i = 0; i < a1.size(); ++i) {
      EXPECT_EQ(a1[i].units, a2[i].units);
      EXPECT_EQ(a1[i].values, a2[i].values);
    }
  }
  cfg.norm = vt::AttackNorm::l2;
  EXPECT_THROW(vt::run_event_attack(target, cfg, 0, 1), volley::ParameterError);
}

// The one-shot attack's changes are the k cells of largest first-order gain.
TEST(EventAttacks, FgsmTakesTheLargestGains) {
  const auto data = volley::test::bernoulli_data(kIn, kT, kClasses, 10, 8);
  const vt::Net net(config());
  const vt::EventAttackTarget target(net, loss(), data);
  vt::AttackConfig cfg;
  cfg.kind = vt::AttackKind::fgsm;
  cfg.eps = 0.05;
  std::vector<vd::SampleEvents> adv;
  vt::run_event_attack(target, cfg, 0, 1, &adv);
  vt::EventAttackTarget::Scratch s;
  vd::SampleEvents ev;
  std::size_t checked = 0;
  for (std::size_t i = 0; i < data.size(); ++i) {
    data.fill(i, 0, ev);
    if (target.probe(ev, data.label(i), s).predicted != data.label(i)) continue;
    target.gradient(ev, data.label(i), s);
    const auto c = counts(ev), a = counts(adv[i]);
    // The smallest gain taken must be at least the largest gain left.
    float min_taken = INFINITY, max_left = 0.0f;
    for (std::size_t t = 0; t < kT; ++t)
      for (std::uint32_t u = 0; u < kIn; ++u) {
        const float before = c.count({t, u}) ? c.at({t, u}) : 0.0f;
        const float after = a.count({t, u}) ? a.at({t, u}) : 0.0f;
        const float g = s.ig.grid[t * kIn + u];
        const float gain = std::max(g, before >= 1.0f ? -g : 0.0f);
        if (after != before) {
          min_taken = std::min(min_taken, (after - before) * g);
        } else {
          max_left = std::max(max_left, gain);
        }
      }
    if (min_taken == INFINITY) continue;
    EXPECT_GE(min_taken, max_left) << "sample " << i;
    ++checked;
  }
  EXPECT_GT(checked, 0u);
}

// Adversarial attacks on event data (event_attack.hpp).
#include "volley/train/event_attack.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "volley/error.hpp"
#include "volley/rng.hpp"

namespace volley::train {

namespace {

constexpr std::uint32_t kStreamEventAttack = 0x7600;

// One change: the (step, input) cell `cell` gains `delta` (+1 or −1) events.
struct Change {
  std::uint32_t cell;
  float delta;
};

// The counts of a sample on the (step, input) grid, and back.
void to_grid(const data::SampleEvents& ev, std::size_t n_inputs, std::vector<float>& grid) {
  std::fill(grid.begin(), grid.end(), 0.0f);
  for (std::size_t t = 0; t + 1 < ev.offsets.size(); ++t)
    for (std::uint32_t e = ev.offsets[t]; e < ev.offsets[t + 1]; ++e)
      grid[t * n_inputs + ev.units[e]] += ev.values[e];
}

void from_grid(const std::vector<float>& grid, std::size_t n_steps, std::size_t n_inputs,
               data::SampleEvents& out) {
  out.reset(n_steps);
  for (std::size_t t = 0; t < n_steps; ++t) {
    const float* row = grid.data() + t * n_inputs;
    for (std::size_t i = 0; i < n_inputs; ++i)
      if (row[i] != 0.0f) {
        out.units.push_back(static_cast<std::uint32_t>(i));
        out.values.push_back(row[i]);
      }
    out.offsets[t + 1] = static_cast<std::uint32_t>(out.units.size());
  }
}

// The best changes by first-order gain (g for an added event, −g for a removed one), at most
// `m`, only on unchanged cells and with a positive gain; ties go to the lower cell.
std::vector<Change> best_changes(const std::vector<float>& grid, const std::vector<float>& g,
                                 const std::vector<std::uint8_t>& changed, std::size_t m) {
  std::vector<std::pair<float, Change>> cand;
  for (std::size_t c = 0; c < grid.size(); ++c) {
    if (changed[c]) continue;
    const float add = g[c], remove = grid[c] >= 1.0f ? -g[c] : 0.0f;
    if (add > 0.0f && add >= remove) cand.push_back({add, {static_cast<std::uint32_t>(c), 1.0f}});
    else if (remove > 0.0f) cand.push_back({remove, {static_cast<std::uint32_t>(c), -1.0f}});
  }
  auto better = [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second.cell < b.second.cell;
  };
  m = std::min(m, cand.size());
  std::partial_sort(cand.begin(), cand.begin() + static_cast<std::ptrdiff_t>(m), cand.end(), better);
  std::vector<Change> out;
  for (std::size_t k = 0; k < m; ++k) out.push_back(cand[k].second);
  return out;
}

// A random change on a cell not yet changed (and not in `taken`).
Change random_change(const std::vector<float>& grid, const std::vector<std::uint8_t>& taken,
                     CounterRng& rng) {
  for (;;) {
    const auto c = static_cast<std::uint32_t>(rng.uniform() * static_cast<double>(grid.size()));
    if (c >= grid.size() || taken[c]) continue;
    const float delta = grid[c] >= 1.0f && rng.uniform() < 0.5 ? -1.0f : 1.0f;
    return {c, delta};
  }
}

struct Outcome {
  bool clean_correct = false, correct = false;
  std::size_t queries = 0, changes = 0;
};

Outcome attack_sample(const EventAttackTarget& target, const AttackConfig& cfg, std::size_t index,
                      std::vector<float>& grid, std::vector<std::uint8_t>& changed,
                      data::SampleEvents& adv, EventAttackTarget::Scratch& s) {
  const data::EventSource& d = target.data();
  const std::size_t N = d.n_inputs(), T = d.n_steps();
  const int label = d.label(index);
  d.fill(index, 0, adv);
  Outcome out;
  const Probe clean = target.probe(adv, label, s);
  out.queries = 1;
  out.clean_correct = clean.predicted == label;
  double n_events = 0.0;
  for (float v : adv.values) n_events += v;
  const auto k = static_cast<std::size_t>(std::ceil(cfg.eps * n_events - 1e-9));
  if (!out.clean_correct || k == 0) {
    out.correct = out.clean_correct;
    return out;
  }
  grid.resize(T * N);
  changed.assign(T * N, 0);
  to_grid(adv, N, grid);
  auto apply = [&](const std::vector<Change>& cs) {
    for (const Change& c : cs) {
      grid[c.cell] += c.delta;
      changed[c.cell] = 1;
    }
    out.changes += cs.size();
  };
  CounterRng rng(cfg.seed, kStreamEventAttack + static_cast<std::uint32_t>(cfg.kind),
                 static_cast<std::uint32_t>(index), 0);
  switch (cfg.kind) {
    case AttackKind::fgsm:
    case AttackKind::pgd: {
      const std::size_t rounds = cfg.kind == AttackKind::fgsm ? 1 : static_cast<std::size_t>(cfg.steps);
      const std::size_t per_round = (k + rounds - 1) / rounds;
      for (std::size_t r = 0; r < rounds && out.changes < k; ++r) {
        const Probe p = target.gradient(adv, label, s);
        ++out.queries;
        if (p.predicted != label) return out;
        const auto cs = best_changes(grid, s.ig.grid, changed, std::min(per_round, k - out.changes));
        if (cs.empty()) break;
        apply(cs);
        from_grid(grid, T, N, adv);
      }
      break;
    }
    case AttackKind::square: {
      // Sparse-RS: k random changes, a fraction of them redrawn at every query.
      std::vector<Change> set;
      for (std::size_t j = 0; j < k; ++j) {
        const Change c = random_change(grid, changed, rng);
        changed[c.cell] = 1;
        set.push_back(c);
      }
      for (const Change& c : set) grid[c.cell] += c.delta;
      out.changes = k;
      from_grid(grid, T, N, adv);
      Probe best = target.probe(adv, label, s);
      ++out.queries;
      if (best.predicted != label) return out;
      const std::size_t n_iters = cfg.queries > out.queries ? cfg.queries - out.queries : 0;
      std::vector<std::pair<std::size_t, Change>> redrawn;
      for (std::size_t it = 0; it < n_iters; ++it) {
        const auto m = std::clamp<std::size_t>(
            static_cast<std::size_t>(std::lround(square_fraction(cfg.p_init, it, n_iters) * static_cast<double>(k))), 1, k);
        redrawn.clear();
        for (std::size_t j = 0; j < m; ++j) {
          const auto slot = static_cast<std::size_t>(rng.uniform() * static_cast<double>(k)) % k;
          const Change old = set[slot];
          grid[old.cell] -= old.delta;
          const Change c = random_change(grid, changed, rng);
          changed[c.cell] = 1;
          grid[c.cell] += c.delta;
          set[slot] = c;
          redrawn.push_back({slot, old});
        }
        from_grid(grid, T, N, adv);
        const Probe q = target.probe(adv, label, s);
        ++out.queries;
        if (q.predicted != label) return out;
        if (q.loss > best.loss) {
          best = q;
          for (const auto& [slot, old] : redrawn) changed[old.cell] = 0;
          // A cell freed here may have been drawn again in the same query: keep it marked.
          for (const Change& c : set) changed[c.cell] = 1;
        } else {
          for (std::size_t j = redrawn.size(); j-- > 0;) {
            const auto& [slot, old] = redrawn[j];
            const Change now = set[slot];
            grid[now.cell] -= now.delta;
            changed[now.cell] = 0;
            grid[old.cell] += old.delta;
            set[slot] = old;
          }
          for (const Change& c : set) changed[c.cell] = 1;
        }
      }
      from_grid(grid, T, N, adv);
      out.correct = true;
      return out;
    }
  }
  const Probe final = target.probe(adv, label, s);
  ++out.queries;
  out.correct = final.predicted == label;
  return out;
}

}  // namespace

EventAttackTarget::EventAttackTarget(const Net& net, const LossConfig& loss,
                                     const data::EventSource& data)
    : net_(net), loss_(loss), data_(data) {
  const NetConfig& c = net.config();
  if (data.n_inputs() != c.n_inputs || data.n_steps() != c.n_steps)
    throw ParameterError(fmt::format("the data ({} inputs, {} steps) do not fit the network ({} "
                                     "inputs, {} steps)",
                                     data.n_inputs(), data.n_steps(), c.n_inputs, c.n_steps));
}

Probe EventAttackTarget::probe(const data::SampleEvents& ev, int label, Scratch& s) const {
  net_.forward(ev, s.rec, s.ws, false);
  const SampleLoss l = sample_loss(loss_, net_, s.rec, label, 1.0f, nullptr);
  return {l.loss, l.predicted};
}

Probe EventAttackTarget::gradient(const data::SampleEvents& ev, int label, Scratch& s) const {
  net_.forward(ev, s.rec, s.ws, true);
  const SampleLoss l = sample_loss(loss_, net_, s.rec, label, 1.0f, &s.dy);
  if (s.grads.empty() || ++s.grads_age > 256) {
    s.grads = net_.zero_grads();
    s.grads_age = 0;
  }
  s.ig.want_grid = true;
  net_.backward(ev, s.rec, s.dy, nullptr, s.grads, s.ws, &s.ig);
  return {l.loss, l.predicted};
}

AttackResult run_event_attack(const EventAttackTarget& target, const AttackConfig& config,
                              std::size_t n, int threads,
                              std::vector<data::SampleEvents>* adversarial) {
  config.validate();
  if (config.norm != AttackNorm::linf)
    throw ParameterError("attack: event data have an L0 budget (ε = fraction of the events); "
                         "norm must be linf");
  const auto t0 = std::chrono::steady_clock::now();
  const data::EventSource& d = target.data();
  n = n == 0 ? d.size() : std::min(n, d.size());
  std::vector<Outcome> outcomes(n);
  if (adversarial) adversarial->assign(n, {});
  const auto ns = static_cast<std::ptrdiff_t>(n);
#pragma omp parallel num_threads(std::max(1, threads))
  {
    EventAttackTarget::Scratch s;
    std::vector<float> grid;
    std::vector<std::uint8_t> changed;
    data::SampleEvents adv;
#pragma omp for schedule(dynamic, 2)
    for (std::ptrdiff_t k = 0; k < ns; ++k) {
      const auto i = static_cast<std::size_t>(k);
      outcomes[i] = attack_sample(target, config, i, grid, changed, adv, s);
      if (adversarial) (*adversarial)[i] = adv;
    }
  }
  std::vector<SampleOutcome> results(n);
  for (std::size_t i = 0; i < n; ++i)
    results[i] = {outcomes[i].clean_correct, outcomes[i].correct, outcomes[i].queries, 1.0,
                  static_cast<double>(outcomes[i].changes)};  // L∞ 1 event, L2: events changed
  return tally(results, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

AttackResult evaluate_events(const EventAttackTarget& target,
                             const std::vector<data::SampleEvents>& samples, int threads) {
  const auto t0 = std::chrono::steady_clock::now();
  const data::EventSource& d = target.data();
  if (samples.size() > d.size())
    throw ParameterError(fmt::format("{} samples, but the data have {}", samples.size(), d.size()));
  const std::size_t n = samples.size();
  std::vector<SampleOutcome> outcomes(n);
  const auto ns = static_cast<std::ptrdiff_t>(n);
#pragma omp parallel num_threads(std::max(1, threads))
  {
    EventAttackTarget::Scratch s;
    data::SampleEvents ev;
#pragma omp for schedule(dynamic, 8)
    for (std::ptrdiff_t k = 0; k < ns; ++k) {
      const auto i = static_cast<std::size_t>(k);
      const int label = d.label(i);
      d.fill(i, 0, ev);
      SampleOutcome& o = outcomes[i];
      o.clean_correct = target.probe(ev, label, s).predicted == label;
      o.correct = target.probe(samples[i], label, s).predicted == label;
      o.queries = 2;
    }
  }
  return tally(outcomes, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

}  // namespace volley::train

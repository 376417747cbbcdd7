// Adversarial attacks on static images (attack.hpp).
#include "volley/train/attack.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "volley/error.hpp"
#include "volley/rng.hpp"

namespace volley::train {

namespace {

constexpr std::uint32_t kStreamAttack = 0x7500;

using Kind = data::EncoderConfig::Kind;

// Projects x onto the ε-ball around x0 and onto [0, 1].
void project(std::span<float> x, std::span<const float> x0, AttackNorm norm, double eps) {
  const std::size_t n = x.size();
  if (norm == AttackNorm::linf) {
    const auto e = static_cast<float>(eps);
    for (std::size_t i = 0; i < n; ++i)
      x[i] = std::clamp(std::clamp(x[i], x0[i] - e, x0[i] + e), 0.0f, 1.0f);
    return;
  }
  double norm2 = 0.0;
  for (std::size_t i = 0; i < n; ++i) norm2 += double(x[i] - x0[i]) * double(x[i] - x0[i]);
  const double len = std::sqrt(norm2);
  const double scale = len > eps ? eps / len : 1.0;
  // Clipping into [0, 1] only shrinks |x − x0| (x0 is in [0, 1]), so the result stays in the ball.
  for (std::size_t i = 0; i < n; ++i)
    x[i] = std::clamp(static_cast<float>(x0[i] + scale * double(x[i] - x0[i])), 0.0f, 1.0f);
}

// x += size · (sign(g) for L∞ | g/‖g‖₂ for L2).
void ascend(std::span<float> x, std::span<const float> g, AttackNorm norm, double size) {
  const std::size_t n = x.size();
  if (norm == AttackNorm::linf) {
    for (std::size_t i = 0; i < n; ++i)
      x[i] += static_cast<float>(size) * static_cast<float>((g[i] > 0.0f) - (g[i] < 0.0f));
    return;
  }
  double norm2 = 0.0;
  for (float v : g) norm2 += double(v) * double(v);
  if (norm2 == 0.0) return;
  const double k = size / std::sqrt(norm2);
  for (std::size_t i = 0; i < n; ++i) x[i] += static_cast<float>(k * g[i]);
}

}  // namespace

const Registry<Choice<AttackKind>>& attack_kinds() {
  static const Registry<Choice<AttackKind>> r(
      "attack",
      {{"fgsm", AttackKind::fgsm, "fast gradient sign method: one step of size ε (white-box)"},
       {"pgd", AttackKind::pgd,
        "projected gradient descent: random start, `steps` steps, projection onto the ε-ball and "
        "[0, 1] (white-box)"},
       {"square", AttackKind::square,
        "Square Attack (Andriushchenko et al. 2020), L∞, gradient-free, a query budget per "
        "sample (black-box)"}});
  return r;
}

const Registry<Choice<AttackNorm>>& attack_norms() {
  static const Registry<Choice<AttackNorm>> r(
      "norm", {{"linf", AttackNorm::linf, "every pixel moves by at most ε"},
               {"l2", AttackNorm::l2, "the perturbation's Euclidean length is at most ε"}});
  return r;
}

double square_fraction(double p_init, std::size_t it, std::size_t n_iters) {
  const double i = static_cast<double>(it) * 10000.0 / static_cast<double>(std::max<std::size_t>(n_iters, 1));
  static constexpr double bounds[] = {10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000};
  double p = p_init;
  for (double b : bounds) {
    if (i <= b) return p;
    p /= 2.0;
  }
  return p;
}

void AttackConfig::validate() const {
  if (!(eps >= 0.0) || !std::isfinite(eps))
    throw ParameterError(fmt::format("attack: eps must be >= 0, got {}", eps));
  if (steps < 1) throw ParameterError(fmt::format("attack: steps must be >= 1, got {}", steps));
  if (!(step_size >= 0.0) || !std::isfinite(step_size))
    throw ParameterError(fmt::format("attack: step_size must be >= 0, got {}", step_size));
  if (kind == AttackKind::square && norm != AttackNorm::linf)
    throw ParameterError("attack: square is an L∞ attack (norm = linf)");
  if (kind == AttackKind::square && queries < 1)
    throw ParameterError("attack: square needs queries >= 1");
  if (!(p_init > 0.0 && p_init <= 1.0))
    throw ParameterError(fmt::format("attack: p_init must be in (0, 1], got {}", p_init));
}

// ---------------------------------------------------------------------------------------------

PixelInput::PixelInput(const data::ImageSource& images) : images_(images) {
  if (images.config().kind == Kind::poisson)
    throw ParameterError(fmt::format(
        "{}: attacks need a deterministic encoder (latency or analog), not poisson",
        images.description()));
}

void PixelInput::clean(std::size_t index, std::span<float> x) const {
  const std::uint8_t* px = images_.images().pixels.data() + index * dim();
  for (std::size_t i = 0; i < dim(); ++i) x[i] = static_cast<float>(px[i] / 255.0);
}

void PixelInput::encode(std::span<const float> x, data::SampleEvents& out) const {
  const data::EncoderConfig& c = images_.config();
  const std::size_t n = dim();
  if (c.kind == Kind::analog) {
    out.reset(c.n_steps);
    out.units.resize(n);
    out.values.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      out.units[i] = static_cast<std::uint32_t>(i);
      out.values[i] = x[i];
    }
    for (std::size_t t = 1; t <= c.n_steps; ++t) out.offsets[t] = static_cast<std::uint32_t>(n);
    return;
  }
  // Latency: a counting sort on the spike step, units in increasing order within a step.
  out.reset(c.n_steps);
  thread_local std::vector<int> steps;
  steps.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    steps[i] = data::ImageSource::latency_step_of(static_cast<double>(x[i]), c);
    if (steps[i] >= 0) ++out.offsets[static_cast<std::size_t>(steps[i]) + 1];
  }
  for (std::size_t t = 0; t < c.n_steps; ++t) out.offsets[t + 1] += out.offsets[t];
  out.units.resize(out.offsets[c.n_steps]);
  out.values.assign(out.offsets[c.n_steps], 1.0f);
  std::vector<std::uint32_t> pos(out.offsets.begin(), out.offsets.end() - 1);
  for (std::size_t i = 0; i < n; ++i)
    if (steps[i] >= 0) out.units[pos[static_cast<std::size_t>(steps[i])]++] = static_cast<std::uint32_t>(i);
}

void PixelInput::chain(std::span<const float> x, const data::SampleEvents& events,
                       const InputGradients& g, std::span<float> dx) const {
  const data::EncoderConfig& c = images_.config();
  std::fill(dx.begin(), dx.end(), 0.0f);
  if (c.kind == Kind::analog) {
    for (std::size_t e = 0; e < events.units.size(); ++e) dx[events.units[e]] += g.value[e];
    return;
  }
  // dt/dx of the latency code, in steps per unit x (the clipping at θ + 1e-7 as the encoder's).
  for (std::size_t e = 0; e < events.units.size(); ++e) {
    const std::uint32_t i = events.units[e];
    const double xi = std::max(static_cast<double>(x[i]), c.threshold + 1e-7);
    const double dtdx = c.tau_eff * (1.0 / xi - 1.0 / (xi - c.threshold));
    dx[i] += static_cast<float>(g.time[e] * dtdx);
  }
}

// ---------------------------------------------------------------------------------------------

AttackTarget::AttackTarget(const Net& net, const LossConfig& loss, const PixelInput& input)
    : net_(net), loss_(loss), input_(input) {
  const NetConfig& c = net.config();
  if (input.dim() != c.n_inputs || input.n_steps() != c.n_steps)
    throw ParameterError(fmt::format("the images ({} pixels, {} steps) do not fit the network ({} "
                                     "inputs, {} steps)",
                                     input.dim(), input.n_steps(), c.n_inputs, c.n_steps));
}

Probe AttackTarget::probe(std::span<const float> x, int label, Scratch& s) const {
  input_.encode(x, s.ev);
  net_.forward(s.ev, s.rec, s.ws, false);
  const SampleLoss l = sample_loss(loss_, net_, s.rec, label, 1.0f, nullptr);
  return {l.loss, l.predicted};
}

Probe AttackTarget::gradient(std::span<const float> x, int label, std::span<float> dx,
                             Scratch& s) const {
  input_.encode(x, s.ev);
  net_.forward(s.ev, s.rec, s.ws, true);
  const SampleLoss l = sample_loss(loss_, net_, s.rec, label, 1.0f, &s.dy);
  // The weight gradients are not used; the buffers are zeroed now and then so they stay finite.
  if (s.grads.empty() || ++s.grads_age > 256) {
    s.grads = net_.zero_grads();
    s.grads_age = 0;
  }
  net_.backward(s.ev, s.rec, s.dy, nullptr, s.grads, s.ws, &s.ig);
  input_.chain(x, s.ev, s.ig, dx);
  return {l.loss, l.predicted};
}

// ---------------------------------------------------------------------------------------------

namespace {

SampleOutcome attack_sample(const AttackTarget& target, const AttackConfig& cfg, std::size_t index,
                            std::span<float> x, std::span<float> x0, std::span<float> g,
                            AttackTarget::Scratch& s) {
  const PixelInput& in = target.input();
  const int label = in.label(index);
  in.clean(index, x0);
  std::copy(x0.begin(), x0.end(), x.begin());
  SampleOutcome out;
  CounterRng rng(cfg.seed, kStreamAttack + static_cast<std::uint32_t>(cfg.kind),
                 static_cast<std::uint32_t>(index), 0);
  const Probe clean = target.probe(x0, label, s);
  out.queries = 1;
  out.clean_correct = clean.predicted == label;
  if (!out.clean_correct || cfg.eps == 0.0) {
    out.correct = out.clean_correct;
    return out;
  }
  switch (cfg.kind) {
    case AttackKind::fgsm: {
      const Probe p = target.gradient(x0, label, g, s);
      ++out.queries;
      (void)p;
      ascend(x, g, cfg.norm, cfg.eps);
      project(x, x0, cfg.norm, cfg.eps);
      break;
    }
    case AttackKind::pgd: {
      if (cfg.random_start) {
        if (cfg.norm == AttackNorm::linf) {
          for (float& v : x) v += static_cast<float>(cfg.eps * (2.0 * rng.uniform() - 1.0));
        } else {
          double n2 = 0.0;
          for (float& v : g) {
            v = static_cast<float>(rng.normal());
            n2 += double(v) * double(v);
          }
          const double r = cfg.eps * rng.uniform() / std::max(std::sqrt(n2), 1e-30);
          for (std::size_t i = 0; i < x.size(); ++i) x[i] += static_cast<float>(r * g[i]);
        }
        project(x, x0, cfg.norm, cfg.eps);
      }
      const double alpha = cfg.step_size > 0.0 ? cfg.step_size : 2.5 * cfg.eps / cfg.steps;
      for (int k = 0; k < cfg.steps; ++k) {
        const Probe p = target.gradient(x, label, g, s);
        ++out.queries;
        if (p.predicted != label) return out;  // broken at this iterate
        ascend(x, g, cfg.norm, alpha);
        project(x, x0, cfg.norm, cfg.eps);
      }
      break;
    }
    case AttackKind::square: {
      const std::size_t h = in.rows(), w = in.cols();
      const auto e = static_cast<float>(cfg.eps);
      for (std::size_t c = 0; c < w; ++c) {
        const float sign = rng.uniform() < 0.5 ? -e : e;
        for (std::size_t r = 0; r < h; ++r) x[r * w + c] += sign;
      }
      project(x, x0, AttackNorm::linf, cfg.eps);
      Probe best = target.probe(x, label, s);
      ++out.queries;
      if (best.predicted != label) return out;
      std::vector<float>& cand = s.candidate;
      cand.assign(x.begin(), x.end());
      // Every iteration spends one query: a square that would change nothing is drawn again
      // (at most 100 times).
      const std::size_t n_iters = cfg.queries > out.queries ? cfg.queries - out.queries : 0;
      std::size_t redraws = 0;
      for (std::size_t it = 0; it < n_iters;) {
        const double p = square_fraction(cfg.p_init, it, n_iters);
        const auto side = std::clamp<std::size_t>(
            static_cast<std::size_t>(std::lround(std::sqrt(p * static_cast<double>(h * w)))), 1,
            std::max<std::size_t>(std::min(h, w) - 1, 1));
        const auto r0 = static_cast<std::size_t>(rng.uniform() * static_cast<double>(h - side + 1));
        const auto c0 = static_cast<std::size_t>(rng.uniform() * static_cast<double>(w - side + 1));
        const float sign = rng.uniform() < 0.5 ? -e : e;
        bool changed = false;
        for (std::size_t r = r0; r < r0 + side; ++r)
          for (std::size_t c = c0; c < c0 + side; ++c) {
            const std::size_t i = r * w + c;
            cand[i] = std::clamp(x0[i] + sign, 0.0f, 1.0f);
            changed = changed || cand[i] != x[i];
          }
        if (!changed && ++redraws <= 100) continue;
        redraws = 0;
        ++it;
        if (!changed) continue;
        const Probe q = target.probe(cand, label, s);
        ++out.queries;
        if (q.predicted != label || q.loss > best.loss) {
          for (std::size_t r = r0; r < r0 + side; ++r)
            std::copy_n(cand.begin() + static_cast<std::ptrdiff_t>(r * w + c0), side,
                        x.begin() + static_cast<std::ptrdiff_t>(r * w + c0));
          best = q;
          if (q.predicted != label) return out;
        } else {
          for (std::size_t r = r0; r < r0 + side; ++r)
            std::copy_n(x.begin() + static_cast<std::ptrdiff_t>(r * w + c0), side,
                        cand.begin() + static_cast<std::ptrdiff_t>(r * w + c0));
        }
      }
      out.correct = true;  // no query was misclassified
      return out;
    }
  }
  const Probe final = target.probe(x, label, s);
  ++out.queries;
  out.correct = final.predicted == label;
  return out;
}

}  // namespace

AttackResult run_attack(const AttackTarget& target, const AttackConfig& config, std::size_t n,
                        int threads, std::vector<float>* adversarial) {
  config.validate();
  const auto t0 = std::chrono::steady_clock::now();
  const PixelInput& in = target.input();
  n = n == 0 ? in.size() : std::min(n, in.size());
  const std::size_t d = in.dim();
  std::vector<SampleOutcome> outcomes(n);
  if (adversarial) adversarial->assign(n * d, 0.0f);
  const auto ns = static_cast<std::ptrdiff_t>(n);
#pragma omp parallel num_threads(std::max(1, threads))
  {
    AttackTarget::Scratch s;
    std::vector<float> x(d), x0(d), g(d);
#pragma omp for schedule(dynamic, 4)
    for (std::ptrdiff_t k = 0; k < ns; ++k) {
      const auto i = static_cast<std::size_t>(k);
      outcomes[i] = attack_sample(target, config, i, x, x0, g, s);
      double mx = 0.0, sq = 0.0;
      for (std::size_t j = 0; j < d; ++j) {
        const double dlt = double(x[j]) - double(x0[j]);
        mx = std::max(mx, std::abs(dlt));
        sq += dlt * dlt;
      }
      outcomes[i].linf = mx;
      outcomes[i].l2 = std::sqrt(sq);
      if (adversarial) std::copy(x.begin(), x.end(), adversarial->begin() + static_cast<std::ptrdiff_t>(i * d));
    }
  }
  return tally(outcomes, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

AttackResult tally(const std::vector<SampleOutcome>& outcomes, double seconds) {
  const std::size_t n = outcomes.size();
  AttackResult r;
  r.samples = n;
  r.correct.resize(n);
  std::size_t correct = 0, clean = 0;
  double queries = 0.0, sum_linf = 0.0, sum_l2 = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    r.correct[i] = outcomes[i].correct ? 1 : 0;
    correct += outcomes[i].correct;
    clean += outcomes[i].clean_correct;
    queries += static_cast<double>(outcomes[i].queries);
    sum_linf += outcomes[i].linf;
    sum_l2 += outcomes[i].l2;
  }
  if (n > 0) {
    const double dn = static_cast<double>(n);
    r.accuracy = static_cast<double>(correct) / dn;
    r.clean_accuracy = static_cast<double>(clean) / dn;
    r.mean_queries = queries / dn;
    r.mean_linf = sum_linf / dn;
    r.mean_l2 = sum_l2 / dn;
  }
  r.seconds = seconds;
  return r;
}

AttackResult evaluate_inputs(const AttackTarget& target, std::span<const float> x, int threads) {
  const auto t0 = std::chrono::steady_clock::now();
  const PixelInput& in = target.input();
  const std::size_t d = in.dim();
  if (x.size() % d != 0 || x.size() / d > in.size())
    throw ParameterError(fmt::format("{} values are not a whole number of the {} samples' {} pixels",
                                     x.size(), in.size(), d));
  const std::size_t n = x.size() / d;
  std::vector<SampleOutcome> outcomes(n);
  const auto ns = static_cast<std::ptrdiff_t>(n);
#pragma omp parallel num_threads(std::max(1, threads))
  {
    AttackTarget::Scratch s;
    std::vector<float> x0(d);
#pragma omp for schedule(dynamic, 16)
    for (std::ptrdiff_t k = 0; k < ns; ++k) {
      const auto i = static_cast<std::size_t>(k);
      const int label = in.label(i);
      in.clean(i, x0);
      SampleOutcome& o = outcomes[i];
      o.clean_correct = target.probe(x0, label, s).predicted == label;
      o.correct = target.probe(x.subspan(i * d, d), label, s).predicted == label;
      o.queries = 2;
    }
  }
  return tally(outcomes, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

Net with_surrogate_scale(const Net& net, double scale) {
  NetConfig c = net.config();
  c.surrogate.scale = scale;
  Net out(c);
  out.params() = net.params();
  return out;
}

}  // namespace volley::train

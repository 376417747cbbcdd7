#include "volley/structural_plasticity.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "volley/error.hpp"
#include "volley/network.hpp"
#include "volley/rng.hpp"
#include "draws.hpp"

namespace volley {
namespace {

using detail::Draws;

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

std::size_t pop_index(const Network& net, const std::string& name, const std::string& where) {
  const auto& pops = net.populations();
  for (std::size_t i = 0; i < pops.size(); ++i)
    if (pops[i]->name() == name) return i;
  throw ParameterError(fmt::format("{}: unknown population '{}'", where, name));
}

}  // namespace

// ---- growth curves ---------------------------------------------------------------------------

void GrowthCurve::validate(const std::string& where) const {
  if (!std::isfinite(growth_rate))
    throw ParameterError(fmt::format("{}.growth_rate must be finite", where));
  if (!std::isfinite(eps)) throw ParameterError(fmt::format("{}.eps must be finite", where));
  if (kind == GrowthCurveKind::kLinear && !(eps > 0.0))
    throw ParameterError(fmt::format("{}.eps must be > 0 for a linear growth curve, got {}",
                                     where, eps));
  if (kind == GrowthCurveKind::kGaussian && !(eta < eps))
    throw ParameterError(fmt::format(
        "{}: a gaussian growth curve needs eta < eps, got eta = {} and eps = {}", where, eta, eps));
  if (kind == GrowthCurveKind::kSigmoid && !(psi > 0.0))
    throw ParameterError(fmt::format("{}.psi must be > 0, got {}", where, psi));
}

double GrowthCurve::shape(double ca) const {
  switch (kind) {
    case GrowthCurveKind::kLinear:
      return 1.0 - ca / eps;
    case GrowthCurveKind::kGaussian: {
      const double xi = 0.5 * (eta + eps);
      const double zeta = (eps - eta) / (2.0 * std::sqrt(std::log(2.0)));
      const double u = (ca - xi) / zeta;
      return 2.0 * std::exp(-u * u) - 1.0;
    }
    case GrowthCurveKind::kSigmoid:
      return 2.0 / (1.0 + std::exp((ca - eps) / psi)) - 1.0;
  }
  return 0.0;
}

double GrowthCurve::advance(double z, double ca, double span, double tau) const {
  if (!(span > 0.0)) return z;
  if (kind == GrowthCurveKind::kLinear) {
    const double ca_end = ca * std::exp(-span / tau);
    return std::max(0.0, z + growth_rate * (tau * (ca_end - ca) / eps + span));
  }
  // Composite 3-point Gauss-Legendre over panels of at most tau / 16.
  static const double kNode = std::sqrt(0.6);
  const auto panels = static_cast<std::size_t>(std::max(1.0, std::ceil(span * 16.0 / tau)));
  const double h = span / static_cast<double>(panels);
  double integral = 0.0;
  for (std::size_t k = 0; k < panels; ++k) {
    const double mid = (static_cast<double>(k) + 0.5) * h;
    const double off = 0.5 * h * kNode;
    integral += 5.0 * shape(ca * std::exp(-(mid - off) / tau)) +
                8.0 * shape(ca * std::exp(-mid / tau)) +
                5.0 * shape(ca * std::exp(-(mid + off) / tau));
  }
  return std::max(0.0, z + growth_rate * integral * h / 18.0);
}

// ---- setup -----------------------------------------------------------------------------------

StructuralPlasticity::StructuralPlasticity(const StructuralPlasticitySpec& spec, Network& net)
    : spec_(spec), net_(&net) {
  const std::string where = "structural_plasticity";
  if (!(spec.update_interval > 0.0) || !std::isfinite(spec.update_interval))
    throw ParameterError(fmt::format("{}.update_interval must be > 0 s, got {} s", where,
                                     spec.update_interval));
  if (!(spec.record_interval >= 0.0) || !std::isfinite(spec.record_interval))
    throw ParameterError(fmt::format("{}.record_interval must be >= 0 s, got {} s", where,
                                     spec.record_interval));
  if (spec.calcium.empty())
    throw ParameterError(fmt::format("{} needs a calcium table for at least one population", where));
  for (const auto& c : spec.calcium) {
    const std::string w = fmt::format("{}.calcium.{}", where, c.population);
    const std::size_t p = pop_index(net, c.population, w);
    if (std::find(ca_pop_.begin(), ca_pop_.end(), p) != ca_pop_.end())
      throw ParameterError(fmt::format("{} is given twice", w));
    if (!(c.tau > 0.0) || !std::isfinite(c.tau))
      throw ParameterError(fmt::format("{}.tau must be > 0 s, got {} s", w, c.tau));
    if (!(c.beta >= 0.0) || !std::isfinite(c.beta))
      throw ParameterError(fmt::format("{}.beta must be >= 0, got {}", w, c.beta));
    Calcium ca;
    ca.pop = p;
    ca.tau = c.tau;
    ca.beta = c.beta;
    ca_.push_back(std::move(ca));
    ca_pop_.push_back(p);
    ca_names_.push_back(c.population);
  }
  for (const auto& e : spec.elements) {
    const std::string w = fmt::format("{}.elements.{}.{}", where, e.population, e.name);
    if (e.name.empty()) throw ParameterError(fmt::format("{}: an element needs a name", where));
    const std::size_t c = calcium_index(pop_index(net, e.population, w));
    if (c == kNone)
      throw ParameterError(fmt::format("{}: population '{}' has no calcium table "
                                       "([structural_plasticity.calcium.{}])",
                                       w, e.population, e.population));
    const std::string full = e.population + "." + e.name;
    if (std::find(element_names_.begin(), element_names_.end(), full) != element_names_.end())
      throw ParameterError(fmt::format("{} is given twice", w));
    e.curve.validate(w);
    if (!(e.tau_vacant >= 0.0 && e.tau_vacant <= 1.0))
      throw ParameterError(fmt::format("{}.tau_vacant must be in [0, 1], got {}", w, e.tau_vacant));
    if (!(e.z_init >= 0.0) || !std::isfinite(e.z_init))
      throw ParameterError(fmt::format("{}.z_init must be >= 0, got {}", w, e.z_init));
    Element el;
    el.ca = c;
    el.curve = e.curve;
    el.tau_vacant = e.tau_vacant;
    el.z_init = e.z_init;
    ca_[c].elements.push_back(elements_.size());
    elements_.push_back(std::move(el));
    element_names_.push_back(full);
  }
  auto element_of = [&](std::size_t c, const std::string& name) {
    const std::string full = ca_names_[c] + "." + name;
    const auto it = std::find(element_names_.begin(), element_names_.end(), full);
    return it == element_names_.end() ? kNone
                                      : static_cast<std::size_t>(it - element_names_.begin());
  };
  std::vector<const Projection*> used;
  for (const auto& rs : spec.rules) {
    const std::string w = fmt::format("{}.rules.{}", where, rs.name);
    if (rs.name.empty()) throw ParameterError(fmt::format("{}: a rule needs a name", where));
    Rule r;
    r.spec = rs;
    bool any_pre = false, any_post = false;
    for (std::size_t c = 0; c < ca_.size(); ++c) {
      r.pre_elements.push_back(element_of(c, rs.pre_element));
      r.post_elements.push_back(element_of(c, rs.post_element));
      any_pre = any_pre || r.pre_elements.back() != kNone;
      any_post = any_post || r.post_elements.back() != kNone;
    }
    if (!any_pre)
      throw ParameterError(fmt::format("{}: no population has the pre element '{}'", w,
                                       rs.pre_element));
    if (!any_post)
      throw ParameterError(fmt::format("{}: no population has the post element '{}'", w,
                                       rs.post_element));
    if (rs.projections.empty())
      throw ParameterError(fmt::format("{}: list the projections the rule creates synapses in", w));
    for (const auto& name : rs.projections) {
      Projection* pr = nullptr;
      try {
        pr = &net.projection(name);
      } catch (const ParameterError& e) {
        throw ParameterError(fmt::format("{}: {}", w, e.what()));
      }
      const std::string pw = fmt::format("{}: projection '{}'", w, name);
      if (std::find(used.begin(), used.end(), pr) != used.end())
        throw ParameterError(fmt::format("{} is fed by another rule already", pw));
      used.push_back(pr);
      if (pr->plastic())
        throw ParameterError(fmt::format("{} has plasticity; structural plasticity creates "
                                         "static synapses only", pw));
      if (!std::isfinite(pr->constant_weight_si()))
        throw ParameterError(fmt::format("{} needs one constant weight for its new synapses", pw));
      if (!pr->homogeneous_delay())
        throw ParameterError(fmt::format("{} needs one constant delay for its new synapses", pw));
      RuleProjection rp;
      rp.proj = pr;
      rp.pre_ca = calcium_index(pop_index(net, pr->source().name(), pw));
      rp.post_ca = calcium_index(pop_index(net, pr->target().name(), pw));
      if (rp.pre_ca == kNone || r.pre_elements[rp.pre_ca] == kNone)
        throw ParameterError(fmt::format("{}: its source '{}' has no element '{}'", pw,
                                         pr->source().name(), rs.pre_element));
      if (rp.post_ca == kNone || r.post_elements[rp.post_ca] == kNone)
        throw ParameterError(fmt::format("{}: its target '{}' has no element '{}'", pw,
                                         pr->target().name(), rs.post_element));
      for (const auto& q : r.projs)
        if (q.pre_ca == rp.pre_ca && q.post_ca == rp.post_ca)
          throw ParameterError(fmt::format("{} and '{}' both join '{}' to '{}'", pw,
                                           q.proj->name(), pr->source().name(),
                                           pr->target().name()));
      rp.weight_si = pr->constant_weight_si();
      r.projs.push_back(rp);
      proj_names_.push_back(name);
      rec_projs_.push_back(pr);
    }
    for (std::size_t a = 0; a < ca_.size(); ++a)
      for (std::size_t b = 0; b < ca_.size(); ++b) {
        if (r.pre_elements[a] == kNone || r.post_elements[b] == kNone) continue;
        const bool found = std::any_of(r.projs.begin(), r.projs.end(), [&](const RuleProjection& q) {
          return q.pre_ca == a && q.post_ca == b;
        });
        if (!found)
          throw ParameterError(fmt::format(
              "{}: no projection from '{}' (has {}) to '{}' (has {}); list one for every pair",
              w, ca_names_[a], rs.pre_element, ca_names_[b], rs.post_element));
      }
    rules_.push_back(std::move(r));
  }
  rec_.mean_ca.resize(ca_.size());
  rec_.mean_z.resize(elements_.size());
  rec_.connected.resize(elements_.size());
  rec_.synapses.resize(proj_names_.size());
}

std::size_t StructuralPlasticity::calcium_index(std::size_t population) const {
  const auto it = std::find(ca_pop_.begin(), ca_pop_.end(), population);
  return it == ca_pop_.end() ? kNone : static_cast<std::size_t>(it - ca_pop_.begin());
}

void StructuralPlasticity::prepare(double dt, std::uint64_t step) {
  const std::string where = "structural_plasticity";
  auto steps_of = [&](double interval, const char* name) {
    const double n = std::round(interval / dt);
    if (n < 1.0 || std::abs(n * dt - interval) > 1e-6 * interval)
      throw ParameterError(fmt::format("{}.{} = {} s is not a whole number of steps of {} s",
                                       where, name, interval, dt));
    return static_cast<std::uint64_t>(n);
  };
  dt_ = dt;
  update_steps_ = steps_of(spec_.update_interval, "update_interval");
  record_steps_ = spec_.record_interval > 0.0 ? steps_of(spec_.record_interval, "record_interval")
                                              : update_steps_;
  for (auto& c : ca_) {
    const std::size_t n = net_->populations()[c.pop]->size();
    c.ca.resize(n, 0.0);
    c.last.resize(n, step);
    for (auto e : c.elements) {
      elements_[e].z.resize(n, elements_[e].z_init);
      elements_[e].connected.resize(n, 0);
    }
  }
  for (const auto& r : rules_)
    for (const auto& rp : r.projs)
      if (rp.proj->pre_begin() != 0 || rp.proj->pre_count() != rp.proj->source().size() ||
          rp.proj->post_begin() != 0 || rp.proj->post_count() != rp.proj->target().size())
        throw ParameterError(fmt::format("{}.rules.{}: projection '{}' must span its populations "
                                         "whole",
                                         where, r.spec.name, rp.proj->name()));
  for (auto& r : rules_)
    for (auto& rp : r.projs) rp.delay_s = static_cast<double>(rp.proj->max_delay_steps()) * dt;
  count_connected();
}

void StructuralPlasticity::count_connected() {
  for (auto& e : elements_) std::fill(e.connected.begin(), e.connected.end(), 0);
  for (const auto& r : rules_)
    for (const auto& rp : r.projs) {
      auto& pre = elements_[r.pre_elements[rp.pre_ca]].connected;
      auto& post = elements_[r.post_elements[rp.post_ca]].connected;
      const auto& row = rp.proj->row_ptr();
      const auto& cols = rp.proj->targets();
      for (std::size_t i = 0; i + 1 < row.size(); ++i) {
        pre[i] += static_cast<std::int64_t>(row[i + 1] - row[i]);
        for (std::uint64_t s = row[i]; s < row[i + 1]; ++s) ++post[cols[s]];
      }
    }
  for (auto& e : elements_)
    for (std::size_t i = 0; i < e.z.size(); ++i) {
      const double fl = std::floor(e.z[i]);
      if (static_cast<double>(e.connected[i]) > fl)
        e.z[i] = static_cast<double>(e.connected[i]) + (e.z[i] - fl);
    }
}

// ---- during the run --------------------------------------------------------------------------

void StructuralPlasticity::advance_neuron(Calcium& c, std::size_t i, std::uint64_t now) {
  if (now <= c.last[i]) return;
  const double span = static_cast<double>(now - c.last[i]) * dt_;
  for (auto e : c.elements) {
    Element& el = elements_[e];
    el.z[i] = el.curve.advance(el.z[i], c.ca[i], span, c.tau);
  }
  c.ca[i] *= std::exp(-span / c.tau);
  c.last[i] = now;
}

void StructuralPlasticity::observe(std::size_t population, const std::vector<std::uint32_t>& spikes,
                                   std::uint64_t step) {
  if (spikes.empty()) return;
  const std::size_t k = calcium_index(population);
  if (k == kNone) return;
  Calcium& c = ca_[k];
  for (const std::uint32_t i : spikes) {
    advance_neuron(c, i, step + 1);
    c.ca[i] += c.beta;
  }
}

void StructuralPlasticity::update(std::uint64_t step, std::uint64_t seed) {
  for (auto& c : ca_) {
    const Population& pop = *net_->populations()[c.pop];
    for (std::size_t i = 0; i < c.ca.size(); ++i) {
      advance_neuron(c, i, step + 1);
      if (!pop.alive(i))  // a removed neuron keeps no elements (its synapses are gone)
        for (auto e : c.elements) elements_[e].z[i] = 0.0;
    }
  }
  for (std::size_t r = 0; r < rules_.size(); ++r) apply_rule(rules_[r], step, seed, r);
  for (auto& e : elements_)
    for (std::size_t i = 0; i < e.z.size(); ++i) {
      const double vacant = std::floor(e.z[i]) - static_cast<double>(e.connected[i]);
      if (vacant > 0.0) e.z[i] -= vacant * e.tau_vacant;
    }
  ++updates_;
}

void StructuralPlasticity::apply_rule(Rule& r, std::uint64_t step, std::uint64_t seed,
                                      std::size_t rule_index) {
  auto stream = [&](std::uint32_t phase, std::size_t c) {
    return stream_id(RngStream::kStructural,
                     static_cast<std::uint32_t>((rule_index << 10) | (phase << 8) | (c & 0xFF)));
  };
  auto vacant = [](const Element& e, std::size_t i) {
    return static_cast<std::int64_t>(std::floor(e.z[i])) - e.connected[i];
  };
  const std::size_t np = r.projs.size();
  std::vector<std::vector<char>> drop(np);
  for (std::size_t k = 0; k < np; ++k) drop[k].assign(r.projs[k].proj->synapse_count(), 0);
  using Ref = std::pair<std::size_t, std::uint64_t>;  // (rule projection, CSR index)
  std::vector<Ref> refs;
  auto remove_one = [&](const Ref& ref, std::size_t pre, std::size_t post) {
    const RuleProjection& rp = r.projs[ref.first];
    drop[ref.first][ref.second] = 1;
    --elements_[r.pre_elements[rp.pre_ca]].connected[pre];
    --elements_[r.post_elements[rp.post_ca]].connected[post];
  };
  // 1a. Lost pre elements: random outgoing synapses of the neuron go.
  for (std::size_t c = 0; c < ca_.size(); ++c) {
    if (r.pre_elements[c] == kNone) continue;
    const Element& el = elements_[r.pre_elements[c]];
    for (std::size_t i = 0; i < el.z.size(); ++i) {
      const std::int64_t v = vacant(el, i);
      if (v >= 0) continue;
      refs.clear();
      for (std::size_t k = 0; k < np; ++k) {
        if (r.projs[k].pre_ca != c) continue;
        const auto& row = r.projs[k].proj->row_ptr();
        for (std::uint64_t s = row[i]; s < row[i + 1]; ++s) refs.emplace_back(k, s);
      }
      const auto m = std::min<std::size_t>(static_cast<std::size_t>(-v), refs.size());
      Draws(seed, stream(0, c), static_cast<std::uint32_t>(i), step).choose_front(refs, m);
      for (std::size_t q = 0; q < m; ++q)
        remove_one(refs[q], i, r.projs[refs[q].first].proj->targets()[refs[q].second]);
    }
  }
  // 1b. Lost post elements: random incoming synapses (of those still there) go.
  for (std::size_t c = 0; c < ca_.size(); ++c) {
    if (r.post_elements[c] == kNone) continue;
    const Element& el = elements_[r.post_elements[c]];
    bool any = false;
    for (std::size_t i = 0; i < el.z.size() && !any; ++i) any = vacant(el, i) < 0;
    if (!any) continue;
    // Incoming synapses per neuron of c, in (projection, pre) order: a counting sort.
    const std::size_t n = el.z.size();
    std::vector<std::uint64_t> start(n + 1, 0);
    std::vector<Ref> in;
    for (std::size_t k = 0; k < np; ++k) {
      if (r.projs[k].post_ca != c) continue;
      const auto& cols = r.projs[k].proj->targets();
      for (std::uint64_t s = 0; s < cols.size(); ++s)
        if (!drop[k][s]) ++start[cols[s] + 1];
    }
    for (std::size_t j = 0; j < n; ++j) start[j + 1] += start[j];
    in.resize(start[n]);
    std::vector<std::uint64_t> fill(start.begin(), start.end() - 1);
    for (std::size_t k = 0; k < np; ++k) {
      if (r.projs[k].post_ca != c) continue;
      const auto& row = r.projs[k].proj->row_ptr();
      const auto& cols = r.projs[k].proj->targets();
      for (std::size_t i = 0; i + 1 < row.size(); ++i)
        for (std::uint64_t s = row[i]; s < row[i + 1]; ++s)
          if (!drop[k][s]) in[fill[cols[s]]++] = {k, s};
    }
    for (std::size_t j = 0; j < n; ++j) {
      const std::int64_t v = vacant(el, j);
      if (v >= 0) continue;
      refs.clear();
      for (std::uint64_t q = start[j]; q < start[j + 1]; ++q) refs.push_back(in[q]);
      const auto m = std::min<std::size_t>(static_cast<std::size_t>(-v), refs.size());
      Draws(seed, stream(1, c), static_cast<std::uint32_t>(j), step).choose_front(refs, m);
      for (std::size_t q = 0; q < m; ++q) {
        const RuleProjection& rp = r.projs[refs[q].first];
        const auto& row = rp.proj->row_ptr();
        // The pre neuron of a CSR index: the row whose range holds it.
        const auto it = std::upper_bound(row.begin(), row.end(), refs[q].second);
        remove_one(refs[q], static_cast<std::size_t>(it - row.begin()) - 1, j);
      }
    }
  }
  for (std::size_t k = 0; k < np; ++k) {
    const auto n = static_cast<std::uint64_t>(std::count(drop[k].begin(), drop[k].end(), 1));
    if (n == 0) continue;
    r.projs[k].proj->remove_synapses_at(drop[k]);
    deleted_ += n;
  }
  // 2. Vacant elements pair up at random.
  struct Slot {
    std::uint32_t ca, neuron;
  };
  std::vector<Slot> pre, post;
  for (std::size_t c = 0; c < ca_.size(); ++c) {
    if (r.pre_elements[c] != kNone) {
      const Element& el = elements_[r.pre_elements[c]];
      for (std::size_t i = 0; i < el.z.size(); ++i)
        for (std::int64_t v = vacant(el, i); v > 0; --v)
          pre.push_back({static_cast<std::uint32_t>(c), static_cast<std::uint32_t>(i)});
    }
    if (r.post_elements[c] != kNone) {
      const Element& el = elements_[r.post_elements[c]];
      for (std::size_t i = 0; i < el.z.size(); ++i)
        for (std::int64_t v = vacant(el, i); v > 0; --v)
          post.push_back({static_cast<std::uint32_t>(c), static_cast<std::uint32_t>(i)});
    }
  }
  const std::size_t m = std::min(pre.size(), post.size());
  Draws pairing(seed, stream(2, 0), 0, step);
  if (pre.size() > post.size()) {
    pairing.choose_front(pre, m);
    pre.resize(m);
  } else {
    pairing.choose_front(post, m);
    post.resize(m);
  }
  std::vector<std::vector<std::pair<std::uint32_t, std::uint32_t>>> pairs(np);
  for (std::size_t q = 0; q < m; ++q) {
    std::size_t k = 0;
    while (r.projs[k].pre_ca != pre[q].ca || r.projs[k].post_ca != post[q].ca) ++k;
    const RuleProjection& rp = r.projs[k];
    if (!r.spec.allow_autapses && &rp.proj->source() == &rp.proj->target() &&
        pre[q].neuron == post[q].neuron)
      continue;
    pairs[k].emplace_back(pre[q].neuron, post[q].neuron);
    ++elements_[r.pre_elements[rp.pre_ca]].connected[pre[q].neuron];
    ++elements_[r.post_elements[rp.post_ca]].connected[post[q].neuron];
  }
  for (std::size_t k = 0; k < np; ++k) {
    if (pairs[k].empty()) continue;
    r.projs[k].proj->add_synapses(pairs[k], r.projs[k].weight_si, r.projs[k].delay_s);
    created_ += pairs[k].size();
  }
}

std::vector<double> StructuralPlasticity::calcium(std::size_t k, std::uint64_t step) const {
  const Calcium& c = ca_[k];
  std::vector<double> out(c.ca.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double span = static_cast<double>(step > c.last[i] ? step - c.last[i] : 0) * dt_;
    out[i] = c.ca[i] * std::exp(-span / c.tau);
  }
  return out;
}

void StructuralPlasticity::record(std::uint64_t step) {
  const std::uint64_t now = step + 1;
  rec_.t.push_back(static_cast<double>(now) * dt_);
  // Means over the living neurons.
  for (std::size_t k = 0; k < ca_.size(); ++k) {
    const Population& pop = *net_->populations()[ca_[k].pop];
    const auto v = calcium(k, now);
    double sum = 0.0;
    for (std::size_t i = 0; i < v.size(); ++i)
      if (pop.alive(i)) sum += v[i];
    rec_.mean_ca[k].push_back(pop.living() ? sum / static_cast<double>(pop.living()) : 0.0);
  }
  for (std::size_t e = 0; e < elements_.size(); ++e) {
    const Element& el = elements_[e];
    const Calcium& c = ca_[el.ca];
    const Population& pop = *net_->populations()[c.pop];
    double sum = 0.0;
    std::uint64_t conn = 0;
    for (std::size_t i = 0; i < el.z.size(); ++i) {
      if (!pop.alive(i)) continue;
      const double span = static_cast<double>(now > c.last[i] ? now - c.last[i] : 0) * dt_;
      sum += el.curve.advance(el.z[i], c.ca[i], span, c.tau);
      conn += static_cast<std::uint64_t>(el.connected[i]);
    }
    rec_.mean_z[e].push_back(pop.living() ? sum / static_cast<double>(pop.living()) : 0.0);
    rec_.connected[e].push_back(conn);
  }
  for (std::size_t k = 0; k < rec_projs_.size(); ++k)
    rec_.synapses[k].push_back(rec_projs_[k]->synapse_count());
}

}  // namespace volley

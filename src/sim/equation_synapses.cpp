// Projections whose synapses are written as equations (ProjectionSpec::synapse_equations): the
// per-synapse variables, the compiled on_pre / on_post kernels and their execution. A spike's
// on_pre runs when it arrives: in the step of the spike for the minimal (one-step) delay, as
// Brian2 runs a zero delay, and D - 1 steps later for a delay of D steps (the spikes wait in a
// ring of D lists). Each thread runs the synapses whose targets lie in its slice of the
// target population, so every synapse and every postsynaptic neuron is touched by one thread,
// in the order of the spike lists, whatever the thread count.
#include <fmt/format.h>

#include <algorithm>

#include "equation_synapses.hpp"
#include "volley/equations/jit.hpp"
#include "volley/equations/synapse_codegen.hpp"
#include "volley/error.hpp"
#include "volley/population.hpp"
#include "volley/projection.hpp"
#include "volley/rng.hpp"

namespace volley {


namespace {

std::vector<eq::NeuronVariable> neuron_variables(Population& p) {
  std::vector<eq::NeuronVariable> out;
  for (const auto& n : p.variable_names()) out.push_back({n, p.variable(n).dim});
  return out;
}

}  // namespace

void Projection::setup_equations(const ProjectionSpec& spec, std::uint64_t seed, std::uint32_t id) {
  const std::string where = fmt::format("projection '{}'", name_);
  eq_ = std::make_unique<Equations>();
  Equations& e = *eq_;
  e.text = spec.synapse_equations;
  e.seed = seed;
  e.stream_pre = stream_id(RngStream::kSynapsePre, id);
  e.stream_post = stream_id(RngStream::kSynapsePost, id);
  try {
    e.model = eq::parse_synapse_model(*e.text, neuron_variables(*source_), neuron_variables(*target_));
  } catch (const ParameterError& err) {
    throw ParameterError(fmt::format("{}: {}", where, err.what()));
  }
  if (!delays_.empty())
    throw ParameterError(fmt::format("{}: synapses written as equations need one delay for every "
                                     "synapse", where));
  const eq::Model& m = e.model.model;
  const std::size_t n = cols_.size(), nq = e.model.synaptic.size();
  for (std::size_t q = 0; q < nq; ++q)
    if (m.variables[e.model.synaptic[q]].name == "w") e.w = static_cast<int>(q);
  if (e.w >= 0) {
    const Dimension d = m.variables[e.model.synaptic[static_cast<std::size_t>(e.w)]].dim;
    const bool given = !(spec.weight.is_constant() && spec.weight.a == 0.0);
    if (given && !(d == spec.weight_dim))
      throw ParameterError(fmt::format("{}: weight is {}, but the synapse variable w is {}", where,
                                       eq::dimension_words(spec.weight_dim), eq::dimension_words(d)));
    weight_dim_ = d;
  } else if (!(spec.weight.is_constant() && spec.weight.a == 0.0)) {
    throw ParameterError(fmt::format("{}: 'weight' is given, but the synapse model has no variable "
                                     "w (declare 'w : <unit>' or give its values under 'initial')", where));
  }
  // Initial values: w from `weight` (already in weights_), the others from synapse_initial.
  std::vector<const Distribution*> init(nq, nullptr);
  for (const auto& [key, d] : spec.synapse_initial) {
    std::size_t q = 0;
    while (q < nq && m.variables[e.model.synaptic[q]].name != key) ++q;
    if (q == nq || static_cast<int>(q) == e.w) {
      std::string known;
      for (std::size_t k : e.model.synaptic)
        if (m.variables[k].name != "w") known += (known.empty() ? "" : ", ") + m.variables[k].name;
      throw ParameterError(fmt::format("{}.initial: '{}' is not a synapse variable{} (known: {})",
                                       where, key, key == "w" ? " here: w is set by 'weight'" : "",
                                       known.empty() ? "none" : known));
    }
    d.validate(fmt::format("{}.initial.{}", where, key));
    init[q] = &d;
  }
  const bool single = m.single_precision;
  e.f64.resize(single ? 0 : nq);
  e.f32.resize(single ? nq : 0);
  const std::uint32_t stream = stream_id(RngStream::kWeights, id);
  for (std::size_t q = 0; q < nq; ++q) {
    e.syn_layout.push_back({single || static_cast<int>(q) == e.w, 1.0});
    if (static_cast<int>(q) == e.w) continue;
    if (single) e.f32[q].assign(n, 0.0f); else e.f64[q].assign(n, 0.0);
    if (!init[q]) continue;
    const Distribution& d = *init[q];
    for (std::size_t i = 0; i < n_pre_; ++i)
      for (std::uint64_t s = row_ptr_[i]; s < row_ptr_[i + 1]; ++s) {
        double x;
        if (d.is_ramp()) {
          x = d.over == Distribution::Over::kSource ? d.at(i, n_pre_) : d.at(cols_[s] - post_lo_, n_post_);
        } else if (d.is_constant()) {
          x = d.a;
        } else {
          CounterRng rng(seed, stream, static_cast<std::uint32_t>(i),
                         (static_cast<std::uint64_t>(q + 1) << 32) | (s - row_ptr_[i]));
          x = d.sample(rng);
        }
        if (single) e.f32[q][s] = static_cast<float>(x); else e.f64[q][s] = x;
      }
  }
  e.lastupdate.assign(n, 0.0);
  for (const auto& x : e.model.external) {
    Population& p = x.post ? *target_ : *source_;
    const VariableView v = p.variable(x.neuron_variable);
    e.ext_layout.push_back({v.data64 == nullptr, v.to_si});
  }
  if (!e.model.on_post.empty()) build_post_index();
}

void Projection::prepare_equations(double dt) {
  Equations& e = *eq_;
  if (e.on_pre && e.kernel_dt == dt) return;
  const std::string source = eq::generate_synapse_kernel(e.model, dt, e.syn_layout, e.ext_layout);
  const eq::CompiledKernel k = eq::compile_kernel(source, name_);
  e.on_pre = reinterpret_cast<eq::SynapseFunction>(k.symbol(eq::kOnPreSymbol));
  e.on_post = reinterpret_cast<eq::SynapseFunction>(k.symbol(eq::kOnPostSymbol));
  e.kernel_dt = dt;
  e.compile_seconds += k.compile_seconds;
  e.pending.assign(max_delay_ > 1 ? max_delay_ : 0, {});
}

double Projection::compile_seconds() const { return eq_ ? eq_->compile_seconds : 0.0; }

std::size_t Projection::equation_bytes_per_synapse() const {
  std::size_t b = sizeof(double);  // lastupdate
  const std::size_t per = eq_->model.model.single_precision ? sizeof(float) : sizeof(double);
  for (std::size_t q = 0; q < eq_->model.synaptic.size(); ++q)
    if (static_cast<int>(q) != eq_->w) b += per;
  if (!col_ptr_.empty()) b += sizeof(std::uint64_t) + sizeof(std::uint32_t);
  return b;
}

std::vector<double> Projection::synapse_variable(const std::string& name) const {
  if (!eq_) throw ParameterError(fmt::format("projection '{}' has no synapse equations", name_));
  const Equations& e = *eq_;
  std::string known;
  for (std::size_t q = 0; q < e.model.synaptic.size(); ++q) {
    const std::string& n = e.model.model.variables[e.model.synaptic[q]].name;
    known += (known.empty() ? "" : ", ") + n;
    if (n != name) continue;
    if (static_cast<int>(q) == e.w) return {weights_.begin(), weights_.end()};
    if (e.model.model.single_precision) return {e.f32[q].begin(), e.f32[q].end()};
    return e.f64[q];
  }
  throw ParameterError(fmt::format("projection '{}': no synapse variable '{}' (known: {})", name_, name, known));
}

namespace {

// The argument block for one call, with the neuron arrays as they are now (populations may
// grow between runs, which moves them).
struct CallArgs {
  eq::SynapseArgs a;
  std::vector<void*> syn, ext;
};

}  // namespace

const eq::SynapseArgs* Projection::Equations::args(Projection& p, std::uint64_t step) {
  thread_local CallArgs c;
  c.syn.resize(model.synaptic.size());
  c.ext.resize(model.external.size());
  for (std::size_t q = 0; q < c.syn.size(); ++q) c.syn[q] = array(q, p);
  for (std::size_t x = 0; x < c.ext.size(); ++x) {
    const auto& ex = model.external[x];
    const VariableView v = (ex.post ? p.target_ : p.source_)->variable(ex.neuron_variable);
    c.ext[x] = v.data64 ? static_cast<void*>(const_cast<double*>(v.data64)) : static_cast<void*>(v.data);
  }
  eq::SynapseArgs& a = c.a;
  a.step = step;
  a.seed = seed;
  a.n_synapses = p.cols_.size();
  a.synaptic = c.syn.data();
  a.lastupdate = lastupdate.data();
  a.external = c.ext.data();
  a.cols = p.cols_.data();
  a.col_syn = p.col_syn_.data();
  a.col_pre = p.col_pre_.data();
  a.pre_lo = p.pre_lo_;
  a.stream_pre = stream_pre;
  a.stream_post = stream_post;
  return &a;
}

std::uint64_t Projection::deliver_equations(SpikeList spikes, std::uint64_t step,
                                            std::size_t post_lo, std::size_t post_hi) {
  Equations& e = *eq_;
  const std::size_t lo = std::max(post_lo, post_lo_), hi = std::min(post_hi, post_lo_ + n_post_);
  // The spikes due now: this step's for a one-step delay; otherwise those of step - (D - 1),
  // kept in a ring of D lists. This step's spikes go to slot step % D, written by the thread
  // whose slice holds the first target; every thread reads slot (step + 1) % D, which nobody
  // writes this step (the barriers between steps order the rest).
  const std::size_t D = e.pending.size();
  SpikeList due = spikes;
  if (D > 1) {
    if (post_lo <= post_lo_ && post_lo_ < post_hi) {
      std::vector<std::uint32_t>& slot = e.pending[step % D];
      slot.clear();
      for_each_spike(spikes, pre_lo_, pre_lo_ + n_pre_, [&](std::uint32_t pre) { slot.push_back(pre); });
    }
    due = SpikeList(&e.pending[(step + 1) % D], 1);
  }
  if (lo >= hi || !e.on_pre) return 0;
  const eq::SynapseArgs* a = nullptr;  // built at the first spike due (most steps have none)
  const RowCut cut = row_cut(lo, hi);
  std::uint64_t delivered = 0;
  for_each_spike(due, pre_lo_, pre_lo_ + n_pre_, [&](std::uint32_t pre) {
    const auto [b, en] = row_range(cut, pre - pre_lo_);
    if (b < en) {
      if (!a) a = e.args(*this, step);
      e.on_pre(a, pre, b, en);
    }
    delivered += en - b;
  });
  return delivered;
}

void Projection::post_equations(SpikeList target_spikes, std::uint64_t step, std::size_t post_lo,
                                std::size_t post_hi) {
  Equations& e = *eq_;
  if (e.model.on_post.empty() || !e.on_post) return;
  const std::size_t lo = std::max(post_lo, post_lo_), hi = std::min(post_hi, post_lo_ + n_post_);
  if (lo >= hi) return;
  const eq::SynapseArgs* a = nullptr;
  for_each_spike(target_spikes, lo, hi, [&](std::uint32_t post) {
    const std::size_t c = post - post_lo_;
    if (col_ptr_[c] == col_ptr_[c + 1]) return;
    if (!a) a = e.args(*this, step);
    e.on_post(a, post, col_ptr_[c], col_ptr_[c + 1]);
  });
}

}  // namespace volley

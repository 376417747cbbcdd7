#include "volley/equations/synapse_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "volley/error.hpp"

namespace volley::eq {

const SynapseModel::External* SynapseModel::external_of(std::size_t variable) const {
  for (const auto& e : external)
    if (e.variable == variable) return &e;
  return nullptr;
}

namespace {

// parse_model calls the equations "equations"; a synapse's are its "model".
[[noreturn]] void rethrow_as_model(const ParameterError& e) {
  std::string m = e.what();
  if (m.rfind("equations line", 0) == 0) m = "model line" + m.substr(14);
  throw ParameterError(m);
}

bool random_in(const ExprPtr& e) {
  if (e->op == Op::kCall && (e->name == "rand" || e->name == "randn")) return true;
  return std::any_of(e->args.begin(), e->args.end(), random_in);
}

}  // namespace

SynapseModel parse_synapse_model(const SynapseText& text, const std::vector<NeuronVariable>& pre,
                                 const std::vector<NeuronVariable>& post) {
  ModelText mt;
  mt.equations = text.model;
  mt.constants = text.constants;
  mt.single_precision = text.single_precision;
  mt.synaptic = true;
  mt.method = "euler";  // never used: synapse states are event-driven
  // Context names, in the order the code generator addresses them.
  struct Ctx {
    std::string name, neuron_variable;
    bool post;
  };
  std::vector<Ctx> ctx;
  for (const auto& v : post) ctx.push_back({v.name + "_post", v.name, true});
  for (const auto& v : pre) ctx.push_back({v.name + "_pre", v.name, false});
  for (const auto& v : post) ctx.push_back({v.name, v.name, true});  // Brian2: post by default
  auto dim_of = [&](const Ctx& c) {
    for (const auto& v : c.post ? post : pre)
      if (v.name == c.neuron_variable) return v.dim;
    return Dimension::none();
  };
  for (const auto& c : ctx) mt.context.emplace_back(c.name, dim_of(c));
  mt.context.emplace_back("lastupdate", Dimension::seconds());
  mt.context.emplace_back("j", Dimension::none());
  if (mt.equations.find_first_not_of(" \t\r\n") == std::string::npos)
    mt.equations.clear();  // only context names

  SynapseModel sm;
  try {
    mt.reset = text.on_pre;
    mt.reset_name = "on_pre";
    sm.model = parse_model(mt);
    sm.on_pre = sm.model.reset;
    mt.reset = text.on_post;
    mt.reset_name = "on_post";
    sm.on_post = parse_model(mt).reset;
  } catch (const ParameterError& e) {
    rethrow_as_model(e);
  }
  Model& m = sm.model;
  if (sm.on_pre.empty() && sm.on_post.empty())
    throw ParameterError("the synapse model has neither on_pre nor on_post statements (a synapse "
                         "that does nothing: write e.g. on_pre = 'v_post += w')");

  // Which variables are the user's (per synapse) and which the context's.
  const std::set<std::string> user_names = [&] {
    std::set<std::string> s;
    for (const auto& v : m.variables)
      if (v.line > 0) s.insert(v.name);
    return s;
  }();
  for (std::size_t k = 0; k < m.variables.size(); ++k) {
    const Variable& v = m.variables[k];
    if (v.line > 0) {
      if (v.kind != VarKind::kSubexpression) sm.synaptic.push_back(k);
      continue;
    }
    for (const auto& c : ctx)
      if (c.name == v.name) {
        sm.external.push_back({k, c.neuron_variable, c.post, false});
        break;
      }
  }
  for (const std::string reserved : {"lastupdate", "j"})
    if (user_names.count(reserved))
      throw ParameterError(fmt::format("model: '{}' is defined by volley for every synapse; choose "
                                       "another name", reserved));

  // Event-driven states only: dx/dt = a x + b, a and b free of every state.
  for (std::size_t k : m.states) {
    const Variable& v = m.variables[k];
    if (!v.event_driven)
      throw ParameterError(fmt::format("model line {}: d{}/dt is clock-driven, which volley's synapses "
                                       "do not support; mark it (event-driven) if it changes only "
                                       "through its own decay between events", v.line, v.name));
    const ExprPtr a = derivative(v.rhs, v.name);
    const ExprPtr b = substitute(v.rhs, [&](const std::string& n) { return n == v.name ? number(0.0) : nullptr; });
    for (std::size_t q : m.states)
      if ((a && depends_on(a, m.variables[q].name)) || depends_on(b, m.variables[q].name) || !a)
        throw ParameterError(fmt::format(
            "model line {}: event-driven d{}/dt must be linear in {} alone (dx/dt = a*x + b with a "
            "and b free of the synapse's states), so that it can be solved exactly between events",
            v.line, v.name, v.name));
    for (const auto& e : sm.external)
      if ((a && depends_on(a, m.variables[e.variable].name)) || depends_on(b, m.variables[e.variable].name))
        throw ParameterError(fmt::format("model line {}: event-driven d{}/dt reads the neuron variable "
                                         "'{}', which changes between events", v.line, v.name,
                                         m.variables[e.variable].name));
    if (random_in(v.rhs))
      throw ParameterError(fmt::format("model line {}: event-driven d{}/dt cannot use random numbers",
                                       v.line, v.name));
  }

  // Statement targets.
  for (auto* list : {&sm.on_pre, &sm.on_post}) {
    const char* which = list == &sm.on_pre ? "on_pre" : "on_post";
    for (const Statement& st : *list) {
      const std::size_t k = static_cast<std::size_t>(m.find(st.target) - m.variables.data());
      if (st.target == "lastupdate" || st.target == "j")
        throw ParameterError(fmt::format("{} statement for '{}': it is maintained by volley and cannot "
                                         "be assigned", which, st.target));
      for (auto& e : sm.external) {
        if (e.variable != k) continue;
        if (!e.post)
          throw ParameterError(fmt::format(
              "{} statement for '{}': presynaptic neuron variables can be read but not written "
              "(volley delivers a spike to each range of targets in parallel)", which, st.target));
        e.written = true;
      }
      if (random_in(st.value)) sm.uses_random = true;
    }
  }
  return sm;
}

}  // namespace volley::eq

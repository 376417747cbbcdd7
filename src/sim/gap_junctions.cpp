#include "volley/gap_junctions.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <span>

#include "volley/error.hpp"
#include "volley/rng.hpp"

namespace volley {

GapJunctions::GapJunctions(const GapJunctionSpec& spec, Population& pop, std::uint64_t seed,
                           std::uint32_t id)
    : Input(spec.name, pop, Slice{}), g_(spec.g) {
  const std::string where = fmt::format("gap junctions '{}'", spec.name);
  if (!(spec.g >= 0.0) || !std::isfinite(spec.g))
    throw ParameterError(fmt::format("{}: conductance must be >= 0 S, got {} S", where, spec.g));
  const auto [src_lo, n_src] = resolve_slice(spec.source_slice, pop, where);
  const auto [tgt_lo, n_tgt] = resolve_slice(spec.target_slice, pop, where);
  ConnectGeometry geo;
  geo.n_pre = n_src;
  geo.n_post = n_tgt;
  geo.same_population = true;
  geo.self_offset = static_cast<std::int64_t>(tgt_lo) - static_cast<std::int64_t>(src_lo);
  const SparsityPattern sp =
      build_pattern(spec.connector, geo, seed, stream_id(RngStream::kConnectivity, id));
  // Undirected edges {a, b}, a != b, each once, then both directions as CSR rows.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
  for (std::size_t i = 0; i < n_src; ++i)
    for (std::uint64_t s = sp.row_ptr[i]; s < sp.row_ptr[i + 1]; ++s) {
      const auto a = static_cast<std::uint32_t>(src_lo + i);
      const auto b = static_cast<std::uint32_t>(tgt_lo + sp.cols[s]);
      if (a != b) edges.emplace_back(std::min(a, b), std::max(a, b));
    }
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  row_ptr_.assign(pop.size() + 1, 0);
  for (const auto& [a, b] : edges) {
    ++row_ptr_[a + 1];
    ++row_ptr_[b + 1];
  }
  for (std::size_t i = 0; i < pop.size(); ++i) row_ptr_[i + 1] += row_ptr_[i];
  partners_.resize(2 * edges.size());
  std::vector<std::uint64_t> fill(row_ptr_.begin(), row_ptr_.end() - 1);
  for (const auto& [a, b] : edges) {
    partners_[fill[a]++] = b;
    partners_[fill[b]++] = a;
  }
  for (std::size_t i = 0; i < pop.size(); ++i)
    std::sort(partners_.begin() + static_cast<std::ptrdiff_t>(row_ptr_[i]),
              partners_.begin() + static_cast<std::ptrdiff_t>(row_ptr_[i + 1]));
  n_ = pop.size();
  try {
    factor_ = pop.injection_factor(Dimension::amperes());
  } catch (const ParameterError& e) {
    throw ParameterError(fmt::format("{}: {}", where, e.what()));
  }
  try {
    pop.variable("v");
  } catch (const ParameterError& e) {
    throw ParameterError(fmt::format("{}: needs a membrane potential: {}", where, e.what()));
  }
}

std::span<const std::uint32_t> GapJunctions::partners(std::size_t i) const {
  if (i + 1 >= row_ptr_.size()) return {};
  return {partners_.data() + row_ptr_[i], partners_.data() + row_ptr_[i + 1]};
}

void GapJunctions::prepare(double /*dt*/) {
  // Neurons added since construction have no junctions.
  if (target_->size() + 1 > row_ptr_.size()) row_ptr_.resize(target_->size() + 1, row_ptr_.back());
  n_ = target_->size();
  v0_.assign(n_, 0.0);
  v_ = target_->variable("v");
  factor_ = target_->injection_factor(Dimension::amperes());
}

void GapJunctions::snapshot(std::size_t lo, std::size_t hi) {
  hi = std::min(hi, n_);
  for (std::size_t i = lo; i < hi; ++i) v0_[i] = v_.at(i);
}

void GapJunctions::apply(const StepContext& /*ctx*/, std::size_t lo, std::size_t hi) {
  hi = std::min(hi, n_);
  float* drive = target_->drive();
  const double k = g_ * factor_;
  for (std::size_t i = lo; i < hi; ++i) {
    const std::uint64_t b = row_ptr_[i], e = row_ptr_[i + 1];
    if (b == e) continue;
    double sum = 0.0;
    for (std::uint64_t s = b; s < e; ++s) sum += v0_[partners_[s]];
    sum -= static_cast<double>(e - b) * v0_[i];
    drive[i] += static_cast<float>(k * sum);
  }
}

}  // namespace volley

#include "volley/connectivity.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "volley/error.hpp"
#include "volley/rng.hpp"

namespace volley {
namespace {

bool is_self(const ConnectGeometry& g, std::size_t pre, std::size_t post) {
  return g.same_population &&
         static_cast<std::int64_t>(post) + g.self_offset == static_cast<std::int64_t>(pre);
}

// Draws `k` distinct values from [0, n) excluding `skip` (if skip < n), sorted when `sorted`.
// Floyd's algorithm with a marker array (O(k)) for small k relative to n, a partial shuffle
// otherwise.
void sample_distinct(CounterRng& rng, std::size_t n, std::size_t k, std::size_t skip,
                     std::vector<std::uint32_t>& out, std::vector<char>& marked, bool sorted) {
  out.clear();
  const std::size_t m = skip < n ? n - 1 : n;
  auto map = [&](std::size_t x) { return static_cast<std::uint32_t>(skip < n && x >= skip ? x + 1 : x); };
  if (k * 4 < m) {
    if (marked.size() < m) marked.assign(m, 0);  // all zero between calls
    for (std::size_t j = m - k; j < m; ++j) {
      const auto t = static_cast<std::size_t>(rng.uniform() * static_cast<double>(j + 1));
      const std::size_t pick = marked[t] ? j : t;
      marked[pick] = 1;
      out.push_back(static_cast<std::uint32_t>(pick));
    }
    for (auto& x : out) {
      marked[x] = 0;
      x = map(x);
    }
  } else {
    std::vector<std::uint32_t> all(m);
    for (std::size_t x = 0; x < m; ++x) all[x] = static_cast<std::uint32_t>(x);
    for (std::size_t j = 0; j < k; ++j) {
      const std::size_t r = j + static_cast<std::size_t>(rng.uniform() * static_cast<double>(m - j));
      std::swap(all[j], all[r]);
    }
    for (std::size_t j = 0; j < k; ++j) out.push_back(map(all[j]));
  }
  if (sorted) std::sort(out.begin(), out.end());
}

SparsityPattern from_pairs(const ConnectGeometry& g,
                           std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs) {
  std::sort(pairs.begin(), pairs.end());
  SparsityPattern sp;
  sp.row_ptr.assign(g.n_pre + 1, 0);
  sp.cols.reserve(pairs.size());
  const bool all = g.keeps_all();
  std::uint32_t place = 0;
  for (std::size_t k = 0; k < pairs.size(); ++k) {
    const auto [pre, post] = pairs[k];
    place = (k > 0 && pairs[k - 1].first == pre) ? place + 1 : 0;
    if (!all && (post < g.keep_lo || post >= g.keep_hi)) continue;
    ++sp.row_ptr[pre + 1];
    sp.cols.push_back(post);
    if (!all) sp.slot.push_back(place);
  }
  for (std::size_t i = 0; i < g.n_pre; ++i) sp.row_ptr[i + 1] += sp.row_ptr[i];
  return sp;
}

// Appends the targets of one row that are kept, with their places in the whole row.
struct RowSink {
  const ConnectGeometry& g;
  SparsityPattern& sp;
  bool all = g.keeps_all();
  std::uint32_t place = 0;
  void start_row() { place = 0; }
  void add(std::size_t post) {
    if (all) {
      sp.cols.push_back(static_cast<std::uint32_t>(post));
    } else if (post >= g.keep_lo && post < g.keep_hi) {
      sp.cols.push_back(static_cast<std::uint32_t>(post));
      sp.slot.push_back(place);
    }
    ++place;
  }
};

}  // namespace

SparsityPattern build_pattern(const Connector& c, const ConnectGeometry& g, std::uint64_t seed,
                              std::uint32_t stream) {
  SparsityPattern sp;
  sp.row_ptr.assign(g.n_pre + 1, 0);
  auto self_target = [&](std::size_t pre) -> std::size_t {
    const std::int64_t post = static_cast<std::int64_t>(pre) - g.self_offset;
    return g.same_population && post >= 0 && post < static_cast<std::int64_t>(g.n_post)
               ? static_cast<std::size_t>(post)
               : g.n_post;  // "no self target"
  };
  RowSink row{g, sp};
  const std::size_t kept_posts = std::min(g.keep_hi, g.n_post) - std::min(g.keep_lo, g.n_post);
  if (const auto* a = std::get_if<AllToAll>(&c)) {
    sp.cols.reserve(g.n_pre * kept_posts);
    for (std::size_t i = 0; i < g.n_pre; ++i) {
      row.start_row();
      for (std::size_t j = 0; j < g.n_post; ++j)
        if (a->allow_self || !is_self(g, i, j)) row.add(j);
      sp.row_ptr[i + 1] = sp.cols.size();
    }
  } else if (std::holds_alternative<OneToOne>(c)) {
    if (g.n_pre != g.n_post)
      throw ParameterError(fmt::format("one_to_one needs equal sizes, got {} sources and {} targets",
                                       g.n_pre, g.n_post));
    for (std::size_t i = 0; i < g.n_pre; ++i) {
      row.start_row();
      row.add(i);
      sp.row_ptr[i + 1] = sp.cols.size();
    }
  } else if (const auto* f = std::get_if<FixedProbability>(&c)) {
    if (!(f->p >= 0.0 && f->p <= 1.0))
      throw ParameterError(fmt::format("connection probability p must be in [0, 1], got {}", f->p));
    sp.cols.reserve(static_cast<std::size_t>(f->p * g.n_pre * kept_posts * 1.05) + 16);
    // Geometric skipping: the gap to the next synapse is Geometric(p), one draw per synapse.
    const double log_q = f->p < 1.0 ? std::log1p(-f->p) : 0.0;
    for (std::size_t i = 0; i < g.n_pre && f->p > 0.0; ++i) {
      CounterRng rng(seed, stream, static_cast<std::uint32_t>(i), 0);
      const std::size_t skip = f->allow_self ? g.n_post : self_target(i);
      row.start_row();
      double j = -1.0;
      while (true) {
        if (f->p >= 1.0) {
          j += 1.0;
        } else {
          j += 1.0 + std::floor(std::log(rng.uniform_open0()) / log_q);
        }
        // (The rest of the row is drawn only for its places: past the kept targets, stop.)
        if (j >= static_cast<double>(std::min(g.n_post, g.keep_hi))) break;
        const auto jj = static_cast<std::size_t>(j);
        if (jj != skip) row.add(jj);
      }
      sp.row_ptr[i + 1] = sp.cols.size();
    }
  } else if (const auto* in = std::get_if<FixedInDegree>(&c)) {
    const std::size_t candidates = g.n_pre - ((!in->allow_self && g.same_population) ? 1 : 0);
    if (in->k > candidates)
      throw ParameterError(fmt::format(
          "fixed_indegree k = {} exceeds the {} available sources", in->k, candidates));
    // Draw each target's sources, then transpose column lists into rows with a counting sort;
    // visiting targets in ascending order leaves every row sorted. Keeping targets
    // [keep_lo, keep_hi) only, the targets below are drawn just to count each source's
    // synapses before them (its place in its whole row), and those above are not drawn.
    const std::size_t lo = std::min(g.keep_lo, g.n_post), hi = std::min(g.keep_hi, g.n_post);
    std::vector<std::uint32_t> sources(static_cast<std::size_t>(in->k) * (hi - lo));
    std::vector<std::uint32_t> before(g.keeps_all() ? 0 : g.n_pre, 0);
    std::vector<std::uint32_t> pick;
    std::vector<char> marked;
    for (std::size_t j = 0; j < hi; ++j) {
      CounterRng rng(seed, stream, static_cast<std::uint32_t>(j), 0);
      const std::int64_t self_pre = static_cast<std::int64_t>(j) + g.self_offset;
      const std::size_t skip = (!in->allow_self && g.same_population && self_pre >= 0 &&
                                self_pre < static_cast<std::int64_t>(g.n_pre))
                                   ? static_cast<std::size_t>(self_pre)
                                   : g.n_pre;
      // Unsorted: the transpose below orders every row (sorting 12.5 M picks was a third of
      // building Brunel's network).
      sample_distinct(rng, g.n_pre, in->k, skip, pick, marked, false);
      if (j < lo) {
        for (auto pre : pick) ++before[pre];
        continue;
      }
      std::copy(pick.begin(), pick.end(),
                sources.begin() + static_cast<std::ptrdiff_t>((j - lo) * in->k));
    }
    for (auto pre : sources) ++sp.row_ptr[pre + 1];
    for (std::size_t i = 0; i < g.n_pre; ++i) sp.row_ptr[i + 1] += sp.row_ptr[i];
    sp.cols.resize(sources.size());
    if (!g.keeps_all()) sp.slot.resize(sources.size());
    std::vector<std::uint64_t> fill(sp.row_ptr.begin(), sp.row_ptr.end() - 1);
    for (std::size_t j = lo; j < hi; ++j)
      for (std::size_t q = 0; q < in->k; ++q) {
        const std::uint32_t pre = sources[(j - lo) * in->k + q];
        const std::uint64_t at = fill[pre]++;
        sp.cols[at] = static_cast<std::uint32_t>(j);
        if (!g.keeps_all())
          sp.slot[at] = before[pre] + static_cast<std::uint32_t>(at - sp.row_ptr[pre]);
      }
    return sp;
  } else if (const auto* out = std::get_if<FixedOutDegree>(&c)) {
    const std::size_t candidates = g.n_post - ((!out->allow_self && g.same_population) ? 1 : 0);
    if (out->k > candidates)
      throw ParameterError(fmt::format(
          "fixed_outdegree k = {} exceeds the {} available targets", out->k, candidates));
    std::vector<std::uint32_t> pick;
    std::vector<char> marked;
    sp.cols.reserve(static_cast<std::size_t>(out->k) * g.n_pre * kept_posts / std::max<std::size_t>(g.n_post, 1));
    for (std::size_t i = 0; i < g.n_pre; ++i) {
      CounterRng rng(seed, stream, static_cast<std::uint32_t>(i), 0);
      sample_distinct(rng, g.n_post, out->k, out->allow_self ? g.n_post : self_target(i), pick,
                      marked, true);
      row.start_row();
      for (auto j : pick) row.add(j);
      sp.row_ptr[i + 1] = sp.cols.size();
    }
  } else if (const auto* ex = std::get_if<ExplicitList>(&c)) {
    for (std::size_t k = 0; k < ex->pairs.size(); ++k) {
      const auto [pre, post] = ex->pairs[k];
      if (pre >= g.n_pre || post >= g.n_post)
        throw ParameterError(fmt::format(
            "connection {} ({} -> {}) is outside the {} sources x {} targets", k, pre, post,
            g.n_pre, g.n_post));
    }
    return from_pairs(g, ex->pairs);
  }
  return sp;
}

std::vector<std::pair<std::uint32_t, std::uint32_t>> read_pairs(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError(fmt::format("cannot open connection file '{}'", path));
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
  std::string line;
  for (std::size_t lineno = 1; std::getline(in, line); ++lineno) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::replace(line.begin(), line.end(), ',', ' ');
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::istringstream row(line);
    long long pre, post;
    std::string extra;
    if (!(row >> pre >> post) || (row >> extra) || pre < 0 || post < 0 || pre > 0xFFFFFFFFLL ||
        post > 0xFFFFFFFFLL)
      throw IoError(fmt::format("{}:{}: expected 'pre post' (two indices >= 0), got '{}'", path,
                                lineno, line));
    pairs.emplace_back(static_cast<std::uint32_t>(pre), static_cast<std::uint32_t>(post));
  }
  return pairs;
}

}  // namespace volley

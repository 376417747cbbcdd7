#pragma once
// What a network distributed over several processes needs from its transport: the spikes every
// process emitted, gathered in process order, and a few exact reductions. The simulator knows
// only this interface; volley::mpi (include/volley/mpi/communicator.hpp) implements it with MPI,
// and a network without one runs in one process as before.
//
// Every call is collective: all processes make the same calls in the same order. Only results
// that do not depend on the order in which processes contribute are offered (concatenation in
// rank order, integer sums, bitwise or), so a distributed run is bit-identical to one process.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

namespace volley {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Every process's `mine`, concatenated in rank order, into `all`; counts[r] = rank r's length.
  virtual void allgather(std::span<const std::uint32_t> mine, std::vector<std::uint32_t>& all,
                         std::vector<int>& counts) = 0;
  // Element-wise sums over processes (integers: exact whatever the order), in place.
  virtual void sum(std::span<std::int64_t> values) = 0;
  // Element-wise bitwise or over processes, in place: merges data that exactly one process
  // holds while the others hold zero bits (a float's bits survive unchanged, -0 included).
  virtual void bitwise_or(std::span<std::uint32_t> values) = 0;
  // The smallest and the largest value over processes.
  virtual std::int64_t min(std::int64_t value) = 0;
  virtual double max(double value) = 0;
  // A sum in a fixed order across processes: rank 0 starts from its `running` value; each rank
  // in turn receives the running value from the rank before it, calls add_mine() to add its
  // terms into `running` in their order, and passes it on; every rank ends with the last
  // rank's result. Floating-point sums then round exactly as one process adding every term in
  // order would (MPI_Allreduce leaves the order open).
  virtual void fold_in_rank_order(std::span<std::byte> running,
                                  const std::function<void()>& add_mine) = 0;
};

// Merges vectors that each process filled at its own positions, zeros elsewhere (a bitwise or
// of their bytes: exact for any trivially copyable element).
template <class T>
void merge_disjoint(Communicator& comm, std::vector<T>& v) {
  static_assert(std::is_trivially_copyable_v<T>);
  if (comm.size() <= 1 || v.empty()) return;
  const std::size_t bytes = v.size() * sizeof(T);
  std::vector<std::uint32_t> words((bytes + 3) / 4, 0);
  std::memcpy(words.data(), v.data(), bytes);
  comm.bitwise_or(words);
  std::memcpy(v.data(), words.data(), bytes);
}

// [first, last) of `n` items (chunks, samples) that process `rank` of `ranks` takes: contiguous
// blocks in rank order, so a fold in rank order visits items in their order.
inline std::pair<std::size_t, std::size_t> share(std::size_t n, int rank, int ranks) {
  const auto r = static_cast<std::size_t>(rank), k = static_cast<std::size_t>(ranks);
  return {n * r / k, n * (r + 1) / k};
}

// [first, last) of the n neurons of a population that process `rank` of `ranks` owns: blocks,
// boundaries at multiples of 16 neurons (64 bytes of float state), like the thread slices
// within a process. Blocks keep a process's neurons contiguous, so its state arrays, ring rows
// and the target ranges of its synapse rows stay dense.
std::pair<std::size_t, std::size_t> owned_range(std::size_t n, int rank, int ranks);

}  // namespace volley

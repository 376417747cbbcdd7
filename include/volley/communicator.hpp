#pragma once
// What a network distributed over several processes needs from its transport: the spikes every
// process emitted, gathered in process order, and a few exact reductions. The simulator knows
// only this interface; volley::mpi (include/volley/mpi/communicator.hpp) implements it with MPI,
// and a network without one runs in one process as before.
//
// Every call is collective: all processes make the same calls in the same order. Only results
// that do not depend on the order in which processes contribute are offered (concatenation in
// rank order, integer sums, bitwise or), so a distributed run is bit-identical to one process.
#include <cstdint>
#include <span>
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
};

// [first, last) of the n neurons of a population that process `rank` of `ranks` owns: blocks,
// boundaries at multiples of 16 neurons (64 bytes of float state), like the thread slices
// within a process. Blocks keep a process's neurons contiguous, so its state arrays, ring rows
// and the target ranges of its synapse rows stay dense.
std::pair<std::size_t, std::size_t> owned_range(std::size_t n, int rank, int ranks);

}  // namespace volley

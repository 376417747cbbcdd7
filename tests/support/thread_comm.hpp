#pragma once
// A volley::Communicator whose processes are threads of one test, for testing distributed
// networks and training without mpirun: every collective call posts this rank's data, waits
// for all, and reads all.
#include <barrier>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "volley/communicator.hpp"

namespace volley::test_support {

// Ranks as threads: every collective call posts this rank's data, waits for all, reads all.
class Shared {
 public:
  explicit Shared(int n) : n_(n), sync_(n), u32_(n), i64_(n), f64_(n) {}
  int n_;
  std::barrier<> sync_;
  std::vector<std::vector<std::uint32_t>> u32_;
  std::vector<std::vector<std::int64_t>> i64_;
  std::vector<double> f64_;
  std::vector<std::byte> bytes_;
};

class ThreadComm final : public Communicator {
 public:
  ThreadComm(Shared& s, int rank) : s_(s), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return s_.n_; }
  void allgather(std::span<const std::uint32_t> mine, std::vector<std::uint32_t>& all,
                 std::vector<int>& counts) override {
    post_u32(mine);
    all.clear();
    counts.clear();
    for (const auto& v : s_.u32_) {
      all.insert(all.end(), v.begin(), v.end());
      counts.push_back(static_cast<int>(v.size()));
    }
    s_.sync_.arrive_and_wait();
  }
  void sum(std::span<std::int64_t> values) override {
    s_.i64_[static_cast<std::size_t>(rank_)].assign(values.begin(), values.end());
    s_.sync_.arrive_and_wait();
    for (std::size_t k = 0; k < values.size(); ++k) {
      std::int64_t x = 0;
      for (const auto& v : s_.i64_) x += v[k];
      values[k] = x;
    }
    s_.sync_.arrive_and_wait();
  }
  void bitwise_or(std::span<std::uint32_t> values) override {
    post_u32(values);
    for (std::size_t k = 0; k < values.size(); ++k) {
      std::uint32_t x = 0;
      for (const auto& v : s_.u32_) x |= v[k];
      values[k] = x;
    }
    s_.sync_.arrive_and_wait();
  }
  std::int64_t min(std::int64_t value) override {
    std::int64_t v[1] = {value};
    s_.i64_[static_cast<std::size_t>(rank_)].assign(v, v + 1);
    s_.sync_.arrive_and_wait();
    std::int64_t m = value;
    for (const auto& x : s_.i64_) m = std::min(m, x[0]);
    s_.sync_.arrive_and_wait();
    return m;
  }
  void fold_in_rank_order(std::span<std::byte> running,
                          const std::function<void()>& add_mine) override {
    for (int turn = 0; turn < s_.n_; ++turn) {
      if (turn == rank_) {
        if (turn > 0) std::memcpy(running.data(), s_.bytes_.data(), running.size());
        add_mine();
        s_.bytes_.assign(running.begin(), running.end());
      }
      s_.sync_.arrive_and_wait();
    }
    std::memcpy(running.data(), s_.bytes_.data(), running.size());
    s_.sync_.arrive_and_wait();
  }
  double max(double value) override {
    s_.f64_[static_cast<std::size_t>(rank_)] = value;
    s_.sync_.arrive_and_wait();
    double m = value;
    for (double x : s_.f64_) m = std::max(m, x);
    s_.sync_.arrive_and_wait();
    return m;
  }

 private:
  void post_u32(std::span<const std::uint32_t> mine) {
    s_.u32_[static_cast<std::size_t>(rank_)].assign(mine.begin(), mine.end());
    s_.sync_.arrive_and_wait();
  }
  Shared& s_;
  int rank_;
};


// Runs body(comm) on `ranks` threads, one per process; the error each rank threw (or "").
inline std::vector<std::string> run_ranks(int ranks, const std::function<void(Communicator&)>& body) {
  Shared shared(ranks);
  std::vector<std::string> errors(static_cast<std::size_t>(ranks));
  std::vector<std::thread> team;
  for (int r = 0; r < ranks; ++r)
    team.emplace_back([&, r] {
      ThreadComm comm(shared, r);
      try {
        body(comm);
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(r)] = e.what();
      }
    });
  for (auto& t : team) t.join();
  return errors;
}

}  // namespace volley::test_support

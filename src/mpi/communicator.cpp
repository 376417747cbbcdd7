#include "volley/mpi/communicator.hpp"

#include <fmt/format.h>
#include <mpi.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <stdexcept>

namespace volley::mpi {
namespace {

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw std::runtime_error(fmt::format("MPI: {} failed: {}", what, std::string(text, len)));
}

class World final : public Communicator {
 public:
  World() {
    check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void allgather(std::span<const std::uint32_t> mine, std::vector<std::uint32_t>& all,
                 std::vector<int>& counts) override {
    counts.resize(static_cast<std::size_t>(size_));
    if (mine.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
      throw std::runtime_error("MPI: one process's spikes of one exchange exceed 2^31 - 1 words");
    const int n = static_cast<int>(mine.size());
    check(MPI_Allgather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD),
          "MPI_Allgather");
    displs_.resize(counts.size());
    std::size_t total = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      displs_[r] = static_cast<int>(total);
      total += static_cast<std::size_t>(counts[r]);
    }
    // (Every process computes the same total, so all of them stop here together.)
    if (total > static_cast<std::size_t>(std::numeric_limits<int>::max()))
      throw std::runtime_error(fmt::format(
          "MPI: {} words in one spike exchange exceed MPI's int counts; use a shorter minimum "
          "delay or fewer processes",
          total));
    all.resize(total);
    check(MPI_Allgatherv(mine.data(), n, MPI_UINT32_T, all.data(), counts.data(), displs_.data(),
                         MPI_UINT32_T, MPI_COMM_WORLD),
          "MPI_Allgatherv");
  }
  void sum(std::span<std::int64_t> values) override {
    check(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_INT64_T,
                        MPI_SUM, MPI_COMM_WORLD),
          "MPI_Allreduce(sum)");
  }
  void bitwise_or(std::span<std::uint32_t> values) override {
    // In pieces, so that counts stay within int.
    constexpr std::size_t kPiece = std::size_t{1} << 28;
    for (std::size_t at = 0; at < values.size(); at += kPiece) {
      const std::size_t n = std::min(kPiece, values.size() - at);
      check(MPI_Allreduce(MPI_IN_PLACE, values.data() + at, static_cast<int>(n), MPI_UINT32_T,
                          MPI_BOR, MPI_COMM_WORLD),
            "MPI_Allreduce(bor)");
    }
  }
  std::int64_t min(std::int64_t value) override {
    check(MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_INT64_T, MPI_MIN, MPI_COMM_WORLD),
          "MPI_Allreduce(min)");
    return value;
  }
  void fold_in_rank_order(std::span<std::byte> running,
                          const std::function<void()>& add_mine) override {
    // In pieces of at most 1 GiB, so that counts stay within int.
    const auto pieces = [&](auto&& op) {
      constexpr std::size_t kPiece = std::size_t{1} << 30;
      for (std::size_t at = 0; at < running.size(); at += kPiece)
        op(running.data() + at, static_cast<int>(std::min(kPiece, running.size() - at)));
    };
    if (rank_ > 0)
      pieces([&](std::byte* p, int n) {
        check(MPI_Recv(p, n, MPI_BYTE, rank_ - 1, kFoldTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
              "MPI_Recv");
      });
    add_mine();
    if (rank_ + 1 < size_)
      pieces([&](std::byte* p, int n) {
        check(MPI_Send(p, n, MPI_BYTE, rank_ + 1, kFoldTag, MPI_COMM_WORLD), "MPI_Send");
      });
    pieces([&](std::byte* p, int n) {
      check(MPI_Bcast(p, n, MPI_BYTE, size_ - 1, MPI_COMM_WORLD), "MPI_Bcast");
    });
  }
  double max(double value) override {
    check(MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD),
          "MPI_Allreduce(max)");
    return value;
  }

 private:
  static constexpr int kFoldTag = 21;
  int rank_ = 0, size_ = 1;
  std::vector<int> displs_;
};

}  // namespace

bool launched_by_launcher() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(var) != nullptr) return true;
  return false;
}

Session::Session(int& argc, char**& argv) {
  int provided = 0;
  check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  if (provided < MPI_THREAD_FUNNELED) {
    MPI_Finalize();
    throw std::runtime_error("MPI: this MPI library does not offer MPI_THREAD_FUNNELED");
  }
  world_ = std::make_unique<World>();
}

Session::~Session() {
  world_.reset();
  MPI_Finalize();
}

Communicator& Session::world() { return *world_; }

void Session::abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

}  // namespace volley::mpi

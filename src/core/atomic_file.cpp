// Whole-file writes through a temporary file and rename (see atomic_file.hpp).
#include "core/atomic_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "volley/error.hpp"

namespace volley::detail {
namespace {

// "PATH.partial-PID-N": unique per process and call, so two writers of one destination (two
// threads, or two runs sharing an output directory) never write into the same temporary file.
std::string temporary_path(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return fmt::format("{}.partial-{}-{}", path, static_cast<long>(::getpid()), counter++);
}

[[noreturn]] void fail(const std::string& path, int error) {
  throw IoError(fmt::format("cannot write '{}': {}", path, std::strerror(error)));
}

// Writes all of `content` to `fd`, retrying short writes and interruptions; 0 or errno.
int write_all(int fd, std::string_view content) {
  const char* p = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    const ssize_t put = ::write(fd, p, left);
    if (put < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    p += put;
    left -= static_cast<std::size_t>(put);
  }
  return 0;
}

// fsync and close; 0 or the first errno (close is not retried: on Linux the descriptor is gone).
int sync_and_close(int fd) {
  int error = ::fsync(fd) == 0 ? 0 : errno;
  if (::close(fd) != 0 && error == 0) error = errno;
  return error;
}

// Renames `tmp` over `path`; on failure removes `tmp` and throws.
void commit(const std::string& tmp, const std::string& path) {
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    fail(path, error);
  }
}

}  // namespace

void write_file_atomically(const std::string& path, std::string_view content) {
  const std::string tmp = temporary_path(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) fail(path, errno);
  int error = write_all(fd, content);
  if (error != 0) {
    ::close(fd);
  } else {
    error = sync_and_close(fd);
  }
  if (error != 0) {
    ::unlink(tmp.c_str());
    fail(path, error);
  }
  commit(tmp, path);
}

void replace_file_atomically(const std::string& path,
                             const std::function<void(const std::string& tmp)>& write) {
  const std::string tmp = temporary_path(path);
  try {
    write(tmp);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  // The writer has closed its file; flush what it wrote before the rename makes it visible.
  const int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
  const int error = fd < 0 ? errno : sync_and_close(fd);
  if (error != 0) {
    ::unlink(tmp.c_str());
    fail(path, error);
  }
  commit(tmp, path);
}

void append_to_file(const std::string& path, std::string_view content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
  if (fd < 0) fail(path, errno);
  int error = write_all(fd, content);
  if (error != 0)
    ::close(fd);
  else
    error = sync_and_close(fd);
  if (error != 0) fail(path, error);
}

}  // namespace volley::detail

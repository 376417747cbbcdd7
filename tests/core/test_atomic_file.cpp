// The one whole-file writer (src/core/atomic_file.hpp): content arrives complete, failures are an
// IoError naming the destination, and a failed write leaves the previous file untouched and no
// temporary file behind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "core/atomic_file.hpp"
#include "support/error_of.hpp"
#include "support/temp_dir.hpp"
#include "volley/error.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using volley::IoError;
using volley::detail::append_to_file;
using volley::detail::replace_file_atomically;
using volley::detail::write_file_atomically;
using volley::test::error_of;
using volley::test::TempDir;

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The names in `dir`, to check that no temporary file is left behind.
std::vector<std::string> names(const std::string& dir) {
  std::vector<std::string> v;
  for (const auto& e : fs::directory_iterator(dir)) v.push_back(e.path().filename().string());
  std::sort(v.begin(), v.end());
  return v;
}

// Files larger than `bytes` cannot be written while it lives (write() fails with EFBIG, as on a
// full disk); SIGXFSZ is ignored so that the failure is an error code, not a signal.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &old_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit r = old_;
    r.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &r);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_{};
  void (*old_handler_)(int) = nullptr;
};

}  // namespace

TEST(AtomicFile, WritesAndReplacesTheWholeContent) {
  TempDir dir;
  const std::string path = dir / "summary.json";
  write_file_atomically(path, "first version, longer than the second\n");
  EXPECT_EQ(read(path), "first version, longer than the second\n");
  std::string binary("a\0b\n", 4);
  write_file_atomically(path, binary);
  EXPECT_EQ(read(path), binary);  // replaced, not overwritten in place (no tail of the first)
  write_file_atomically(dir / "empty", "");
  EXPECT_TRUE(fs::exists(dir / "empty"));
  EXPECT_EQ(fs::file_size(dir / "empty"), 0u);
  EXPECT_EQ(names(dir.str()), (std::vector<std::string>{"empty", "summary.json"}));
}

TEST(AtomicFile, AMissingOrUnwritableDirectoryIsAnIoErrorNamingTheFile) {
  TempDir dir;
  const std::string nowhere = dir / "no-such-dir/summary.json";
  EXPECT_THAT(error_of([&] { write_file_atomically(nowhere, "x"); }),
              AllOf(HasSubstr(nowhere), HasSubstr("No such file or directory")));
  // A path through a regular file.
  write_file_atomically(dir / "file", "x");
  const std::string through_file = dir / "file/summary.json";
  EXPECT_THAT(error_of([&] { write_file_atomically(through_file, "x"); }), HasSubstr(through_file));
  // A directory without write permission (root may write anywhere, so only checked for others).
  if (::geteuid() != 0) {
    const std::string locked = dir / "locked";
    fs::create_directory(locked);
    fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
    const std::string file = locked + "/summary.json";
    EXPECT_THAT(error_of([&] { write_file_atomically(file, "x"); }),
                AllOf(HasSubstr(file), HasSubstr("Permission denied")));
    fs::permissions(locked, fs::perms::owner_all);
  }
  // The destination is a directory: the rename fails, the temporary file is removed.
  fs::create_directory(dir / "a_directory");
  EXPECT_THAT(error_of([&] { write_file_atomically(dir / "a_directory", "x"); }),
              HasSubstr(dir / "a_directory"));
  EXPECT_EQ(names(dir.str()), (std::vector<std::string>{"a_directory", "file"}));
}

TEST(AtomicFile, AFailedWriteLeavesTheExistingFileIntact) {
  TempDir dir;
  const std::string path = dir / "checkpoint.bin";
  write_file_atomically(path, "good");
  const std::string big(1 << 20, 'x');
  {
    const FileSizeLimit limit(4096);  // the write fails after 4 KiB, as on a full disk
    EXPECT_THAT(error_of([&] { write_file_atomically(path, big); }),
                AllOf(HasSubstr(path), HasSubstr("too large")));
  }
  EXPECT_EQ(read(path), "good");
  EXPECT_EQ(names(dir.str()), std::vector<std::string>{"checkpoint.bin"});
}

TEST(AtomicFile, AWriterThatThrowsLeavesTheExistingFileIntact) {
  TempDir dir;
  const std::string path = dir / "spikes.h5";
  write_file_atomically(path, "good");
  std::string seen;
  EXPECT_THROW(replace_file_atomically(path,
                                       [&](const std::string& tmp) {
                                         seen = tmp;
                                         std::ofstream(tmp) << "half";
                                         throw std::runtime_error("HDF5 failed");
                                       }),
               std::runtime_error);  // the writer's own exception passes through
  EXPECT_NE(seen, path);
  EXPECT_EQ(fs::path(seen).parent_path(), fs::path(path).parent_path());  // same file system
  EXPECT_EQ(read(path), "good");
  EXPECT_EQ(names(dir.str()), std::vector<std::string>{"spikes.h5"});
  replace_file_atomically(path, [](const std::string& tmp) { std::ofstream(tmp) << "new"; });
  EXPECT_EQ(read(path), "new");
  EXPECT_EQ(names(dir.str()), std::vector<std::string>{"spikes.h5"});
  // A writer that produced no file is an error, and the old file stays.
  EXPECT_THAT(error_of([&] { replace_file_atomically(path, [](const std::string&) {}); }),
              HasSubstr(path));
  EXPECT_EQ(read(path), "new");
}

TEST(AtomicFile, AppendAddsToTheEnd) {
  TempDir dir;
  const std::string path = dir / "metrics.jsonl";
  append_to_file(path, "{\"epoch\": 1}\n");
  append_to_file(path, "{\"epoch\": 2}\n");
  EXPECT_EQ(read(path), "{\"epoch\": 1}\n{\"epoch\": 2}\n");
  EXPECT_THAT(error_of([&] { append_to_file(dir / "no-such-dir/m.jsonl", "x"); }),
              HasSubstr(dir / "no-such-dir/m.jsonl"));
}

#include "volley/equations/jit.hpp"

#include <dlfcn.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "volley/error.hpp"

namespace volley::eq {
namespace {

std::mutex g_mutex;
std::filesystem::path g_keep;
std::map<std::string, void*> g_loaded;  // key -> loaded library handle (this process)

#ifndef VOLLEY_JIT_EXTRA_FLAGS
#define VOLLEY_JIT_EXTRA_FLAGS ""
#endif
#ifdef VOLLEY_JIT_NATIVE
constexpr const char* kFlags =
    "-std=c++17 -O3 -march=native -fPIC -shared -fno-math-errno -fopenmp-simd" VOLLEY_JIT_EXTRA_FLAGS;
#else
constexpr const char* kFlags = "-std=c++17 -O3 -fPIC -shared -fno-math-errno -fopenmp-simd" VOLLEY_JIT_EXTRA_FLAGS;
#endif

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string compiler() {
  const char* env = std::getenv("VOLLEY_CXX");
  return env && *env ? env : "c++";
}

// Runs a shell command; returns its exit status and output (stdout and stderr).
std::pair<int, std::string> run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return {-1, "could not start a shell"};
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = ::pclose(p);
  return {status, out};
}

// The compiler's identity (its --version text), computed once per process.
const std::string& compiler_identity() {
  static const std::string id = [] {
    const std::string cxx = compiler();
    auto [status, out] = run(quote(cxx) + " --version");
    if (status != 0)
      throw Error(fmt::format(
          "models written as equations are compiled at run time, but the C++ compiler '{}' could not "
          "be run ({}); install one (apt-get install g++) or point VOLLEY_CXX at it",
          cxx, out.empty() ? "not found" : out.substr(0, out.find('\n'))));
    return cxx + "\n" + out;
  }();
  return id;
}

std::uint64_t fnv1a(const std::string& s, std::uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace

void set_keep_generated(const std::filesystem::path& dir) {
  std::lock_guard lock(g_mutex);
  g_keep = dir;
}

std::filesystem::path kernel_cache_dir() {
  if (const char* d = std::getenv("VOLLEY_KERNEL_CACHE"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return std::filesystem::path(x) / "volley" / "kernels";
  if (const char* h = std::getenv("HOME"); h && *h)
    return std::filesystem::path(h) / ".cache" / "volley" / "kernels";
  return std::filesystem::temp_directory_path() / fmt::format("volley-kernels-{}", ::getuid());
}

void* CompiledKernel::symbol(const char* name) const {
  void* f = handle ? ::dlsym(handle, name) : nullptr;
  if (!f) throw Error(fmt::format("the compiled kernel '{}' has no function '{}'", library.string(), name));
  return f;
}

CompiledKernel compile_kernel(const std::string& source, const std::string& label, bool fast_math) {
  std::lock_guard lock(g_mutex);
  namespace fs = std::filesystem;
  const std::string flags = std::string(kFlags) + (fast_math ? " -ffast-math" : "");
  const std::string identity = compiler_identity() + "\n" + flags + "\n";
  const std::string key = fmt::format("{:016x}{:016x}", fnv1a(identity + source, 0xcbf29ce484222325ull),
                                      fnv1a(source + identity, 0x84222325cbf29ce4ull));
  if (!g_keep.empty()) {
    std::error_code ec;
    fs::create_directories(g_keep, ec);
    std::ofstream(g_keep / (label + ".cpp")) << source;
  }
  CompiledKernel out;
  if (auto it = g_loaded.find(key); it != g_loaded.end()) {
    out.handle = it->second;
    out.step = reinterpret_cast<KernelFunction>(::dlsym(out.handle, kKernelSymbol));
    out.from_cache = true;
    return out;
  }
  const fs::path dir = kernel_cache_dir();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IoError(fmt::format("cannot create the kernel cache '{}': {}", dir.string(), ec.message()));
  const fs::path lib = dir / (key + ".so");
  auto load = [&](const fs::path& p) -> void* { return ::dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL); };
  auto found = [&](void* h) {
    g_loaded[key] = h;
    out.handle = h;
    out.step = reinterpret_cast<KernelFunction>(::dlsym(h, kKernelSymbol));
  };
  if (fs::exists(lib)) {
    if (void* h = load(lib)) {
      found(h);
      out.from_cache = true;
      out.library = lib;
      return out;
    }
  }
  // Compile under a name private to this process and call, then rename into place (atomic on
  // one file system), so concurrent runs sharing the cache never load a partial file.
  static std::atomic<unsigned> counter{0};
  const std::string tmp = fmt::format("{}.{}.{}", key, ::getpid(), counter++);
  const fs::path src = dir / (tmp + ".cpp"), tmp_lib = dir / (tmp + ".so");
  {
    std::ofstream f(src);
    f << source;
    if (!f) throw IoError(fmt::format("cannot write the generated kernel '{}'", src.string()));
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto [status, log] = run(fmt::format("{} {} -o {} {}", quote(compiler()), flags, quote(tmp_lib.string()),
                                       quote(src.string())));
  out.compile_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (status != 0) {
    const fs::path kept = dir / (key + ".failed.cpp");
    fs::rename(src, kept, ec);
    fs::remove(tmp_lib, ec);
    throw Error(fmt::format("compiling the kernel generated for '{}' failed (source kept in {}):\n{}",
                            label, kept.string(), log.substr(0, 4000)));
  }
  fs::remove(src, ec);
  fs::rename(tmp_lib, lib, ec);
  if (ec) throw IoError(fmt::format("cannot move the compiled kernel into '{}': {}", lib.string(), ec.message()));
  void* h = load(lib);
  if (!h) throw Error(fmt::format("cannot load the compiled kernel '{}': {}", lib.string(), ::dlerror()));
  found(h);
  out.library = lib;
  return out;
}

}  // namespace volley::eq

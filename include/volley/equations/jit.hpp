#pragma once
// Compiling generated kernels at run time with the system's C++ compiler and loading them.
// Libraries are cached by a hash of the source, the compiler's identity and the flags, in
// $VOLLEY_KERNEL_CACHE (default $XDG_CACHE_HOME/volley/kernels or ~/.cache/volley/kernels), so a
// second run with the same equations loads the library without compiling. Each compilation
// writes to a private temporary name and is renamed into place, so runs sharing a cache never
// see a half-written library. The compiler is $VOLLEY_CXX, else `c++` on the PATH.
#include <filesystem>
#include <string>

#include "volley/equations/codegen.hpp"

namespace volley::eq {

using KernelFunction = void (*)(const KernelArgs*);

struct CompiledKernel {
  KernelFunction step = nullptr;  // the neuron kernel's symbol (null in other libraries)
  void* handle = nullptr;         // the loaded library (never unloaded)
  double compile_seconds = 0.0;  // time spent compiling (0 when loaded from the cache)
  bool from_cache = false;
  std::filesystem::path library;
  // A function the library exports; throws volley::Error when it has none of that name.
  void* symbol(const char* name) const;
};

// Compiles (or loads from the cache) `source`; throws volley::Error with the compiler's message
// and the source's kept path when compilation fails, or when no compiler is found. `label`
// names the kept source file ("<label>.cpp") under the keep_generated directory. `fast_math`
// adds -ffast-math (glibc's vector exp/expm1/log, as volley's built-in ODE kernels and Brian2's
// cpp_standalone use; results differ from IEEE evaluation in the last bits).
CompiledKernel compile_kernel(const std::string& source, const std::string& label, bool fast_math = false);

// Where generated sources are also written (empty: not kept). Process-wide; the CLI's
// --keep-generated sets it.
void set_keep_generated(const std::filesystem::path& dir);
std::filesystem::path kernel_cache_dir();

}  // namespace volley::eq

// docs/reference.md is generated from the registries; it must say exactly what they say.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "volley/io/reference.hpp"
#include "volley/models/registry.hpp"

namespace {

const std::filesystem::path kRepo = VOLLEY_SOURCE_DIR;  // tests/CMakeLists.txt

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(Reference, DocsMatchTheRegistries) {
  const auto path = kRepo / "docs/reference.md";
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " is part of the repository";
  const std::string committed = read(path);
  const std::string generated = volley::io::reference_markdown();
  if (committed == generated) return;
  std::istringstream a(committed), b(generated);
  std::string la, lb;
  int line = 0;
  while (true) {
    ++line;
    const bool more_a = static_cast<bool>(std::getline(a, la));
    const bool more_b = static_cast<bool>(std::getline(b, lb));
    if (!more_a && !more_b) break;
    if (la != lb || more_a != more_b) {
      FAIL() << "docs/reference.md differs from the registries at line " << line
             << "\n  committed: " << (more_a ? la : "<end of file>")
             << "\n  generated: " << (more_b ? lb : "<end of file>")
             << "\nRegenerate it: cmake --build build --target reference";
    }
  }
  FAIL() << "docs/reference.md differs from the registries (line endings?)";
}

TEST(Reference, EveryNeuronModelAndParameterIsDocumented) {
  const std::string text = volley::io::reference_markdown();
  for (const auto& m : volley::neuron_models()) {
    EXPECT_NE(text.find(std::string("`") + std::string(m.name) + "`"), std::string::npos) << m.name;
    for (const auto& p : m.params) {
      EXPECT_FALSE(p.meaning.empty()) << m.name << "." << p.key << " has no meaning";
      EXPECT_NE(text.find(std::string("| `") + std::string(p.key) + "` |"), std::string::npos)
          << m.name << "." << p.key;
    }
  }
}

}  // namespace

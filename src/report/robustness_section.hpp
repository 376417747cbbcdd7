#pragma once
// Internal to volley_report: the "Robustness" section of `volley report DIR` for
// DIR/robustness.json (written by `volley robustness`). report.cpp's page implements
// SectionWriter; the section adds its headings, tables and figures through it.
#include <filesystem>
#include <string>
#include <vector>

namespace volley::report::internal {

class SectionWriter {
 public:
  virtual ~SectionWriter() = default;
  virtual void heading(const std::string& title) = 0;
  virtual void text(const std::string& html) = 0;
  virtual void table(const std::vector<std::string>& header,
                     const std::vector<std::vector<std::string>>& rows) = 0;
  // The figure inline and as figures/NAME.svg.
  virtual void figure(const std::string& name, const std::string& svg,
                      const std::string& caption) = 0;
};

// Noise curves, accuracy against ε per attack and norm, robust accuracy (the per-sample minimum
// over every attack) with the worst attack, and the energy per sample with its assumptions; both
// networks in the same figures when robustness.json holds two. Reads and checks the whole file
// before writing anything; throws IoError naming `file` and the missing or mistyped key.
void robustness_section(SectionWriter& page, const std::filesystem::path& file);

}  // namespace volley::report::internal

// `volley reference` (the generated Markdown reference of the file formats, docs/reference.md)
// and `volley models` (the neuron models, or one model's parameters), both from the registries.
#include <fmt/format.h>

#include <string>

#include "commands.hpp"
#include "core/atomic_file.hpp"
#include "errors.hpp"
#include "volley/io/reference.hpp"
#include "volley/models/registry.hpp"

namespace volley::cli {
namespace {

int print_models(const std::string& name) {
  const auto& models = neuron_models();
  if (name.empty()) {
    std::size_t width = 0;
    for (const auto& m : models) width = std::max(width, m.name.size());
    for (const auto& m : models) fmt::print("{:<{}}  {}\n", m.name, width, m.meaning);
    fmt::print("\n`volley models NAME` prints a model's parameters; docs/reference.md has them all.\n");
    return kSuccess;
  }
  const NeuronModel& m = models.get(name);  // ParameterError: unknown model, with the known ones
  fmt::print("{}: {}\n\n", m.name, m.meaning);
  if (!m.params.empty()) fmt::print("{}", markdown_params(m.params));
  if (m.presets.size() > 0) {
    fmt::print("\npresets:\n");
    for (const auto& p : m.presets) fmt::print("  {}  {}\n", p.name, p.meaning);
  }
  if (m.methods.size() > 0) {
    fmt::print("\nintegration methods (default {}):\n", m.default_method);
    for (const auto& p : m.methods) fmt::print("  {}  {}\n", p.name, p.meaning);
  }
  if (!m.states.empty()) {
    std::string states;
    for (const auto& s : m.states) states += fmt::format("{}{}", states.empty() ? "" : ", ", s.name);
    fmt::print("\nstate variables: {}\n", states);
  }
  return kSuccess;
}

}  // namespace

void add_reference_command(CLI::App& app, int& exit_code) {
  auto* ref = app.add_subcommand(
      "reference",
      "Print the reference of the model and training files (every model, parameter, default, "
      "unit and allowed range), generated from volley's registries; docs/reference.md is this text");
  auto out = std::make_shared<std::string>();
  ref->add_option("--out", *out, "Write it to this file (atomically) instead of standard output");
  ref->callback([out, &exit_code] {
    exit_code = run_command("reference", [&] {
      const std::string text = io::reference_markdown();
      if (out->empty()) {
        fmt::print("{}", text);
      } else {
        detail::write_file_atomically(*out, text);
        fmt::print("volley reference: wrote {}\n", *out);
      }
      return kSuccess;
    });
  });

  auto* models = app.add_subcommand(
      "models", "List the neuron models, or print one model's parameters (key, default, allowed "
                "range, meaning), presets and states");
  auto name = std::make_shared<std::string>();
  models->add_option("name", *name, "A model name, e.g. hh");
  models->callback([name, &exit_code] {
    exit_code = run_command("models", [&] { return print_models(*name); });
  });
}

}  // namespace volley::cli

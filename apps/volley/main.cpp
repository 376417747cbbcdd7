// volley: spiking neural networks — simulate and train from the command line.
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "errors.hpp"
#include "volley/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "volley — simulate and train spiking neural networks described in TOML files.\n"
      "Quantities carry units (\"20 ms\", \"-50 mV\", \"5 nS\", \"10 Hz\"). Results are written as\n"
      "spikes.h5 (HDF5) and summary.json. `volley fi` measures f-I curves and excitability class.\n"
      "`volley train` trains a network by surrogate-gradient descent; `volley eval` tests it.\n"
      "Run `volley SUBCOMMAND --help` for the options; docs/model-format.md describes the\n"
      "model files and docs/training-format.md the training files."};
  app.require_subcommand(1);
  app.set_version_flag("--version", fmt::format("volley {}", volley::kVersion));
  int exit_code = 0;
  volley::cli::add_sim_command(app, exit_code);
  volley::cli::add_fi_command(app, exit_code);
  volley::cli::add_train_command(app, exit_code);
  volley::cli::add_eval_command(app, exit_code);
  volley::cli::add_robustness_command(app, exit_code);
  volley::cli::add_export_command(app, exit_code);
  volley::cli::add_import_command(app, exit_code);
  volley::cli::add_evolve_command(app, exit_code);
  volley::cli::add_reservoir_command(app, exit_code);
  volley::cli::add_example_command(app, exit_code);
  volley::cli::add_dataset_command(app, exit_code);
  volley::cli::add_report_command(app, exit_code);
  volley::cli::add_reference_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version end here with status 0; a bad command line is bad input (errors.hpp).
    return app.exit(e) == 0 ? volley::cli::kSuccess : volley::cli::kBadInput;
  }
  return exit_code;
}

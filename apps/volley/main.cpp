// volley: spiking neural networks — simulate and train from the command line.
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "errors.hpp"
#include "volley/version.hpp"

#ifdef VOLLEY_HAVE_MPI
#include <memory>
#include <string_view>

#include "volley/mpi/communicator.hpp"
#endif

int main(int argc, char** argv) {
  volley::Communicator* world = nullptr;
#ifdef VOLLEY_HAVE_MPI
  // Under mpirun (and only then: a plain run needs no MPI runtime) `volley sim` distributes the
  // network over the processes, `volley train` the batches and `volley evolve` the candidates;
  // other commands are refused.
  std::unique_ptr<volley::mpi::Session> mpi;
  if (volley::mpi::launched_by_launcher()) {
    mpi = std::make_unique<volley::mpi::Session>(argc, argv);
    world = &mpi->world();
    std::string_view command;
    for (int i = 1; i < argc && command.empty(); ++i)
      if (argv[i][0] != '-') command = argv[i];
    if (world->size() > 1 && command != "sim" && command != "train" && command != "evolve") {
      if (world->rank() == 0)
        fmt::print(stderr,
                   "volley: error: only `volley sim`, `volley train` and `volley evolve` run on "
                   "several processes (mpirun -np {} was given); run `volley {}` without mpirun\n",
                   world->size(), command.empty() ? "COMMAND" : command);
      return volley::cli::kBadInput;
    }
  }
#endif
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
  volley::cli::add_sim_command(app, exit_code, world);
  volley::cli::add_fi_command(app, exit_code);
  volley::cli::add_train_command(app, exit_code, world);
  volley::cli::add_eval_command(app, exit_code);
  volley::cli::add_robustness_command(app, exit_code);
  volley::cli::add_export_command(app, exit_code);
  volley::cli::add_import_command(app, exit_code);
  volley::cli::add_evolve_command(app, exit_code, world);
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
#ifdef VOLLEY_HAVE_MPI
  // An error on one process (its share of a monitor, a file it could not write) may leave the
  // others waiting in a collective call: end them all.
  if (exit_code != 0 && world != nullptr && world->size() > 1) mpi->abort(exit_code);
#endif
  return exit_code;
}

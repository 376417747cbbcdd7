#pragma once
#include <CLI/CLI.hpp>

#include <string>

#include "volley/communicator.hpp"

namespace volley::cli {

// A whole number >= 1 (counts: threads, samples, generations), with a message that says so
// (CLI::PositiveNumber reports a range up to the largest double).
inline const CLI::Validator kCount(
    [](std::string& s) -> std::string {
      try {
        std::size_t used = 0;
        const long long v = std::stoll(s, &used);
        if (used == s.size() && v >= 1) return {};
      } catch (const std::exception&) {
      }
      return "must be a whole number >= 1, got '" + s + "'";
    },
    "INT>=1");

// Registers `volley sim` on `app`; the callback runs the simulation and sets `exit_code`.
// Under mpirun `world` holds the processes: the network is distributed over them and the first
// writes the results (nullptr: one process).
void add_sim_command(CLI::App& app, int& exit_code, Communicator* world = nullptr);
// Registers `volley fi` (f–I curve and excitability class).
void add_fi_command(CLI::App& app, int& exit_code);
// Registers `volley train` and `volley eval` (surrogate-gradient training).
// Under mpirun `world` holds the processes: `volley train` is data-parallel over them.
void add_train_command(CLI::App& app, int& exit_code, Communicator* world = nullptr);
void add_eval_command(CLI::App& app, int& exit_code);
// Registers `volley robustness` (accuracy under input noise).
void add_robustness_command(CLI::App& app, int& exit_code);
// Registers `volley export` (a trained network as a model file for `volley sim`, or as NIR).
void add_export_command(CLI::App& app, int& exit_code);
// Registers `volley import` (a NIR graph as a volley network).
void add_import_command(CLI::App& app, int& exit_code);
// Registers `volley evolve` (evolution strategies on a training file's network).
// (Under mpirun, data-parallel over `world`'s processes: candidates shared out.)
void add_evolve_command(CLI::App& app, int& exit_code, Communicator* world = nullptr);
// Registers `volley reservoir` (liquid state machine with a ridge-regression readout).
void add_reservoir_command(CLI::App& app, int& exit_code);
// Registers `volley example` (built-in experiments: sound-localization).
void add_example_command(CLI::App& app, int& exit_code);
// Registers `volley dataset` (generated datasets: spoken-digits).
void add_dataset_command(CLI::App& app, int& exit_code);
// Registers `volley report` (HTML report) and `volley analyze` (spike-train statistics).
void add_report_command(CLI::App& app, int& exit_code);
// Registers `volley reference` (docs/reference.md from the registries) and `volley models`.
void add_reference_command(CLI::App& app, int& exit_code);

}  // namespace volley::cli

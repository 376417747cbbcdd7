// `volley import`: a NIR graph (Neuromorphic Intermediate Representation) as a volley network:
// a model file for `volley sim`, the network's training-file tables and, with a training file,
// a checkpoint for `volley eval`, `volley export` and fine-tuning. docs/nir.md.
#include <fmt/format.h>

#include <memory>
#include <string>

#include "commands.hpp"
#include "errors.hpp"
#include "volley/error.hpp"
#include "volley/units.hpp"
#ifdef VOLLEY_HAVE_HDF5
#include "volley/io/nir.hpp"
#endif

namespace volley::cli {
namespace {

struct ImportArgs {
  std::string file, out, dt, train;
  long long steps = 0;
};

int run_import(const ImportArgs& a) {
  return run_command("import", [&] {
#ifndef VOLLEY_HAVE_HDF5
    throw IoError("NIR files are HDF5; rebuild with VOLLEY_HDF5=ON");
    return kFailed;
#else
    io::nir::ImportDirOptions o;
    o.nir_path = a.file;
    o.out_dir = a.out;
    o.train_path = a.train;
    o.steps = static_cast<std::size_t>(a.steps);
    if (!a.dt.empty()) o.dt = parse_quantity(a.dt, Dimension::seconds());
    const io::nir::ImportReport r = io::nir::import_to_directory(o);
    const train::NetConfig& c = r.imported.config;
    fmt::print("volley import: {}: {} inputs, {} layers, dt = {} s, {} steps per sample\n", a.file,
               c.n_inputs, c.layers.size(), c.dt, c.n_steps);
    for (const auto& line : r.imported.layers) fmt::print("  {}\n", line);
    for (const auto& note : r.notes) fmt::print(stderr, "volley import: note: {}\n", note);
    fmt::print("wrote {} in {}/\n", fmt::join(r.written, ", "), a.out);
    return kSuccess;
#endif
  });
}

}  // namespace

void add_import_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ImportArgs>();
  CLI::App* c = app.add_subcommand(
      "import",
      "Import a NIR graph (Neuromorphic Intermediate Representation, an HDF5 .nir file from\n"
      "snnTorch, Norse, Rockpool, ... or `volley export --format nir`) as a volley network:\n"
      "OUT/network.toml (its [network] and [[layers]] tables), OUT/model.toml + synapses.h5 for\n"
      "`volley sim`, and with --train OUT/training.toml + OUT/checkpoint.bin for `volley eval`,\n"
      "`volley export` and `volley train --resume`. The continuous-time graph is run at --dt with\n"
      "zero-order-hold input (docs/nir.md).");
  c->add_option("file", args->file, "NIR file (HDF5)")->required();
  c->add_option("-o,--out", args->out, "output directory")->required();
  c->add_option("--dt", args->dt,
                "time step, e.g. \"1 ms\", in the time unit of the graph's time constants "
                "(seconds by convention); default: the training file's network.dt");
  c->add_option("--steps", args->steps,
                "steps per sample (default: the training file's network.steps, else 100)")
      ->check(kCount);
  c->add_option("--train", args->train,
                "training file (TOML) whose data, loss, optimiser and training settings the "
                "imported network gets: writes training.toml and checkpoint.bin");
  c->callback([args, &exit_code] { exit_code = run_import(*args); });
}

}  // namespace volley::cli

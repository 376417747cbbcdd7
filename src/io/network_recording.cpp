// record.h5 for `volley eval --record` (see network_recording.hpp).
#include "volley/io/network_recording.hpp"

#include <fmt/format.h>
#include <hdf5.h>

#include <algorithm>
#include <filesystem>

#include "core/atomic_file.hpp"
#include "hdf5_util.hpp"
#include "volley/error.hpp"

namespace volley::io {
namespace {

using hdf5::Handle;

// Spikes of one layer over all samples, in the spikes.h5 layout plus per-spike sample indices.
struct LayerSpikes {
  std::vector<double> times;
  std::vector<std::uint32_t> units, samples;
  std::vector<float> trace;  // [trace rows × trace neurons]
  std::size_t trace_rows = 0;
};

std::string layer_name(const train::Net& net, std::size_t l) {
  return net.spiking(l) ? fmt::format("layer{}", l) : "output";
}

}  // namespace

NetworkRecordSummary record_network(const train::Net& net, const train::LossConfig& loss,
                                    const train::EventSource& data,
                                    const NetworkRecordOptions& o, const std::string& path) {
  const train::NetConfig& nc = net.config();
  if (net.is_ann())
    throw ParameterError("--record: the checkpoint is an ANN twin (relu units): it has no spikes "
                         "to record; record the spiking network");
  if (nc.backward != train::BackwardMode::dense && nc.forward != train::ForwardMode::smooth)
    throw ParameterError("record_network: build the network with the dense backward mode");
  const std::size_t L = nc.layers.size(), T = nc.n_steps, n = data.size();
  const double dt = nc.dt, span = static_cast<double>(T) * dt;
  if (data.n_steps() != T)
    throw ParameterError(fmt::format("record_network: data has {} steps, the network {}", data.n_steps(), T));

  LayerSpikes input;
  std::vector<LayerSpikes> layers(L);
  std::vector<int> labels(n), predictions(n);
  NetworkRecordSummary sum;
  sum.samples = n;
  sum.spikes_per_sample.assign(L, 0.0);
  std::size_t correct = 0;

  train::SampleEvents events;
  train::SampleRecord rec;
  train::Workspace ws;
  for (std::size_t s = 0; s < n; ++s) {
    data.fill(s, 0, events);
    const bool traced = s < o.trace_samples;
    net.forward(events, rec, ws, traced);
    labels[s] = data.label(s);
    predictions[s] = train::sample_loss(loss, net, rec, labels[s], 1.0f, nullptr).predicted;
    correct += labels[s] == predictions[s];
    const double t0 = static_cast<double>(s) * span;
    for (std::size_t t = 0; t < T; ++t)
      for (std::uint32_t e = events.offsets[t]; e < events.offsets[t + 1]; ++e) {
        input.times.push_back(t0 + static_cast<double>(t) * dt);
        input.units.push_back(events.units[e]);
        input.samples.push_back(static_cast<std::uint32_t>(s));
      }
    for (std::size_t l = 0; l < L; ++l) {
      const train::LayerRecord& r = rec.layers[l];
      LayerSpikes& out = layers[l];
      const std::size_t N = nc.layers[l].size, shown = std::min(N, o.trace_neurons);
      if (net.spiking(l)) {
        for (std::size_t t = 0; t < T; ++t)
          for (std::uint32_t e = r.off[t]; e < r.off[t + 1]; ++e) {
            out.times.push_back(t0 + static_cast<double>(t) * dt);
            out.units.push_back(r.idx[e]);
            out.samples.push_back(static_cast<std::uint32_t>(s));
          }
        sum.spikes_per_sample[l] += static_cast<double>(r.idx.size());
      }
      if (!traced) continue;
      const std::vector<float>& v = net.spiking(l) ? r.u : r.y;
      if (v.size() != T * N) throw ParameterError("record_network: the forward pass kept no traces");
      for (std::size_t t = 0; t < T; ++t)
        out.trace.insert(out.trace.end(), v.begin() + static_cast<std::ptrdiff_t>(t * N),
                         v.begin() + static_cast<std::ptrdiff_t>(t * N + shown));
      out.trace_rows += T;
    }
  }
  if (n > 0) {
    sum.accuracy = static_cast<double>(correct) / static_cast<double>(n);
    for (double& x : sum.spikes_per_sample) x /= static_cast<double>(n);
  }

  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  detail::replace_file_atomically(path, [&](const std::string& tmp) {
    Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose,
                fmt::format("record '{}': cannot create", tmp));
    hdf5::scalar_attribute(file, "duration", H5T_NATIVE_DOUBLE, static_cast<double>(n) * span);
    hdf5::scalar_attribute(file, "dt", H5T_NATIVE_DOUBLE, dt);
    hdf5::scalar_attribute(file, "sample_duration", H5T_NATIVE_DOUBLE, span);
    hdf5::write_dataset(file, "labels", H5T_NATIVE_INT, labels, {});
    hdf5::write_dataset(file, "predictions", H5T_NATIVE_INT, predictions, {});
    if (!o.class_names.empty()) hdf5::write_strings(file, "class_names", o.class_names);
    auto write_layer = [&](const std::string& name, const LayerSpikes& ls, std::size_t size) {
      Handle g = hdf5::group(file, name);
      hdf5::scalar_attribute(g, "size", H5T_NATIVE_UINT64, static_cast<std::uint64_t>(size));
      hdf5::write_dataset(g, "times", H5T_NATIVE_DOUBLE, ls.times, {}, "s");
      hdf5::write_dataset(g, "units", H5T_NATIVE_UINT32, ls.units, {});
      hdf5::write_dataset(g, "samples", H5T_NATIVE_UINT32, ls.samples, {});
      if (ls.trace_rows == 0) return;
      const std::size_t shown = ls.trace.size() / ls.trace_rows;
      Handle state = hdf5::group(g, "state");
      Handle m = hdf5::group(state, "trace");
      std::vector<double> t(ls.trace_rows);
      for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<double>(i) * dt;
      std::vector<std::uint32_t> idx(shown);
      for (std::size_t j = 0; j < shown; ++j) idx[j] = static_cast<std::uint32_t>(j);
      hdf5::write_dataset(m, "t", H5T_NATIVE_DOUBLE, t, {}, "s");
      hdf5::write_dataset(m, "indices", H5T_NATIVE_UINT32, idx, {});
      hdf5::write_dataset(m, name == "output" ? "y" : "u", H5T_NATIVE_FLOAT, ls.trace,
                          {static_cast<hsize_t>(ls.trace_rows), static_cast<hsize_t>(shown)}, "1");
    };
    write_layer("input", input, data.n_inputs());
    for (std::size_t l = 0; l < L; ++l) write_layer(layer_name(net, l), layers[l], nc.layers[l].size);
    if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) throw IoError(fmt::format("record '{}': cannot flush", tmp));
  });
  return sum;
}

}  // namespace volley::io

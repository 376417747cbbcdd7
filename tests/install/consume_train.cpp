// volley::train from the installed package: train::fit runs a small network for two epochs and
// reports every epoch through a writer.
#include <cstdio>
#include <vector>

#include "volley/train/runner.hpp"

namespace vt = volley::train;

struct Count final : vt::FitWriter {
  int epochs = 0, checkpoints = 0;
  void epoch(const vt::EpochRecord&) override { ++epochs; }
  void checkpoint(const vt::Checkpoint&) override { ++checkpoints; }
};

int main() {
  volley::data::StoredEvents data(4, 10, 2, "toy");
  volley::data::SampleEvents s;
  for (int k = 0; k < 32; ++k) {
    const std::uint32_t unit = static_cast<std::uint32_t>(k % 2) * 2;
    const std::vector<std::uint32_t> steps{1, 3, 5}, units{unit, unit + 1, unit};
    const std::vector<float> values(3, 1.0f);
    volley::data::build_sample(steps, units, values, 10, s);
    data.add(s, k % 2);
  }
  vt::NetConfig nc;
  nc.n_inputs = 4;
  nc.n_steps = 10;
  vt::LayerConfig hidden, out;
  hidden.size = 8;
  out.kind = vt::LayerKind::readout;
  out.size = 2;
  nc.layers = {hidden, out};
  vt::Net net(nc);
  vt::TrainSettings st;
  st.epochs = 2;
  st.batch_size = 8;
  vt::Trainer trainer(net, vt::LossConfig{}, vt::OptimizerConfig{}, st);
  Count w;
  const vt::FitResult r = vt::fit(trainer, data, data, {"consumer", "", {}}, w);
  std::printf("train: %d epochs, accuracy %.3f\n", r.epochs_done, r.test_accuracy);
  return r.epochs_done == 2 && w.epochs == 2 && w.checkpoints == 2 ? 0 : 1;
}

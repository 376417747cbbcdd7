// volley::ear from the installed package: the IPD task as event data.
#include <cstdio>

#include "volley/ear/ipd_task.hpp"

int main() {
  volley::ear::IpdTaskConfig c;
  c.samples = 4;
  const volley::ear::IpdSource task(c);
  volley::data::SampleEvents s;
  task.fill(0, 0, s);
  std::printf("ear: %zu inputs, %zu events in sample 0, label %d\n", task.n_inputs(), s.size(),
              task.label(0));
  return task.n_inputs() == 2 * c.fibres && s.size() > 0 ? 0 : 1;
}

#pragma once
// Adversarial attacks on event data: the event-space counterparts of the pixel attacks of
// attack.hpp, on the binned events a network reads (a count per (step, input); an SNN and its ANN
// twin with bins = steps read the same counts, so examples transfer between them).
//
// The budget is L0: at most k = ⌈ε·n⌉ single events added or removed, n the sample's event count,
// each (step, input) changed at most once — ε = 8/255 lets 3 % of the events change, as an L∞
// pixel budget of 8/255 lets every pixel move by 3 % of its range. The result is always valid
// event data (whole, non-negative counts).
//   fgsm    one shot: the k changes of largest first-order gain, from dL/dx at every (step, input)
//           (Net::backward's InputGradients::grid): adding an event gains g, removing one −g
//   pgd     the same greedily in `steps` rounds of ⌈k/steps⌉ changes, the gradient recomputed
//           after each round
//   square  Sparse-RS (Croce et al. 2022), the L0 counterpart of Square Attack, gradient-free: a
//           random set of k changes, of which a shrinking fraction (AttackConfig::p_init at the
//           start) is redrawn at every query and kept when the loss grows
// A sample counts as broken as soon as any queried input is misclassified. Random draws are keyed
// by (seed, sample): the same results for any thread count.
#include <cstddef>
#include <vector>

#include "volley/data/events.hpp"
#include "volley/train/attack.hpp"
#include "volley/train/loss.hpp"
#include "volley/train/net.hpp"

namespace volley::train {

class EventAttackTarget {
 public:
  // Throws ParameterError when the data do not fit the network.
  EventAttackTarget(const Net& net, const LossConfig& loss, const data::EventSource& data);
  const data::EventSource& data() const { return data_; }
  using Scratch = AttackScratch;
  Probe probe(const data::SampleEvents& ev, int label, Scratch& s) const;
  // dL/dx at every (step, input) into s.ig.grid.
  Probe gradient(const data::SampleEvents& ev, int label, Scratch& s) const;

 private:
  const Net& net_;
  LossConfig loss_;
  const data::EventSource& data_;
};

// Attacks samples [0, n) of target.data() (n = 0: all). config.norm must be linf (the budget is
// L0, see above; ε is the fraction of events). With `adversarial`, the adversarial samples.
AttackResult run_event_attack(const EventAttackTarget& target, const AttackConfig& config,
                              std::size_t n, int threads,
                              std::vector<data::SampleEvents>* adversarial = nullptr);

// Accuracy of `target` on given samples (sample i has the label of target.data()'s sample i).
AttackResult evaluate_events(const EventAttackTarget& target,
                             const std::vector<data::SampleEvents>& samples, int threads);

}  // namespace volley::train

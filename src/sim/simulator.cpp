// The simulation loop: Network::run.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include "spin_barrier.hpp"
#include "volley/error.hpp"
#include "volley/network.hpp"

#ifdef VOLLEY_HAVE_OPENMP
#include <omp.h>
#endif

namespace volley {
namespace {

// Splits [0, n) into `parts` contiguous ranges whose boundaries are multiples of 16 elements
// (64 bytes of float state), so threads never share a cache line of state.
// [lo, hi) is split the same way (lo a multiple of 16: a process's block, see owned_range).
std::vector<std::size_t> partition(std::size_t lo, std::size_t hi, int parts) {
  std::vector<std::size_t> b(static_cast<std::size_t>(parts) + 1);
  for (int t = 0; t <= parts; ++t)
    b[static_cast<std::size_t>(t)] = lo + owned_range(hi - lo, t, parts).first;
  b.back() = hi;
  return b;
}

using Clock = std::chrono::steady_clock;
double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

[[maybe_unused]] int thread_id() {
#ifdef VOLLEY_HAVE_OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

}  // namespace

// RunOptions::fall_back's probes: long enough to time (a few milliseconds for a small network),
// short beside the run.
constexpr std::uint64_t kMinProbeSteps = 100, kMaxProbeSteps = 2000;

RunStats Network::run(double duration, const RunOptions& options) {
  if (!(duration >= 0.0) || !std::isfinite(duration))
    throw ParameterError(fmt::format("run duration must be >= 0, got {} s", duration));
  if (options.threads < 1)
    throw ParameterError(fmt::format("threads must be >= 1, got {}", options.threads));
  const std::uint64_t end = step_ + static_cast<std::uint64_t>(std::llround(duration / dt_));
  // RunOptions::fall_back: probe one thread, then the requested threads, for `probe` steps
  // each (one thread first: the run's first steps also warm the caches, which favours the
  // requested count), unless a choice for this network is kept or the run is too short.
  RunOptions opt = options;
  opt.fall_back = false;
  // The choice is kept while the neuron count is (structural plasticity changes synapses at
  // every update: keying on them would probe again at every run).
  auto count_neurons = [this] {
    std::size_t n = 0;
    for (const auto& p : pops_) n += p->size();
    return n;
  };
  const std::size_t neurons = count_neurons();
  ThreadChoice& choice = thread_choice_;
  const bool kept = choice.requested == options.threads && choice.neurons == neurons;
  enum class Probe { kNone, kOne, kMany } probe = Probe::kNone;
  std::uint64_t probe_steps = 0;
  if (options.fall_back && options.threads > 1 && !distributed()) {
    if (kept) {
      opt.threads = choice.chosen;
    } else if (end - step_ >= 8 * kMinProbeSteps) {
      probe = Probe::kOne;
      probe_steps = std::clamp<std::uint64_t>((end - step_) / 8, kMinProbeSteps, kMaxProbeSteps);
    }
  }
  // Neuron changes and rule checks split the run: each part is run as usual, the changes are
  // applied between parts on this thread.
  RunStats total;
  double probe_seconds = 0.0;
  std::uint64_t probed = 0;
  apply_changes();
  while (step_ < end) {
    std::uint64_t next = end;
    if (!schedule_.empty())
      next = std::min(next, std::max(step_ + 1, static_cast<std::uint64_t>(
                                                    std::llround(schedule_.front().time / dt_))));
    for (const auto& r : neuron_rules_)
      next = std::min(next, (step_ / r.every_steps + 1) * r.every_steps);
    if (probe != Probe::kNone) {
      next = std::min(next, step_ + probe_steps - probed);
      opt.threads = probe == Probe::kOne ? 1 : options.threads;
    }
    const RunStats part = run_steps(next - step_, opt);
    total.wall_seconds += part.wall_seconds;
    total.steps += part.steps;
    total.update_seconds += part.update_seconds;
    total.exchange_seconds += part.exchange_seconds;
    total.deliver_seconds += part.deliver_seconds;
    if (probe != Probe::kNone) {
      probe_seconds += part.wall_seconds;
      probed += part.steps;
      if (probed == probe_steps) {
        const double per_step = probe_seconds / static_cast<double>(probed);
        if (probe == Probe::kOne) {
          total.one_thread_step_seconds = per_step;
          probe = Probe::kMany;
        } else {
          total.threads_step_seconds = per_step;
          probe = Probe::kNone;
          const int chosen =
              total.one_thread_step_seconds < total.threads_step_seconds ? 1 : options.threads;
          choice = {options.threads, chosen, neurons, total.one_thread_step_seconds,
                    total.threads_step_seconds};
          opt.threads = chosen;
        }
        probe_seconds = 0.0;
        probed = 0;
      }
    }
    apply_changes();
    // Neurons added or removed during a probe: its two stretches timed different networks.
    if (probe != Probe::kNone && count_neurons() != neurons) {
      probe = Probe::kNone;
      opt.threads = options.threads;
      total.one_thread_step_seconds = 0.0;
    }
  }
  total.threads_used = opt.threads;
  if (options.fall_back && choice.requested == options.threads && choice.neurons == neurons) {
    total.one_thread_step_seconds = choice.one_step;
    total.threads_step_seconds = choice.many_step;
  }
  return total;
}

RunStats Network::run_steps(std::uint64_t n_steps, const RunOptions& options) {
  const int nthreads = options.threads;
  const std::size_t np = pops_.size();

  // Prepare: constants for dt, ring sizes from the largest delay into each population.
  for (auto& p : projs_) p->sync_sizes();
  // Distributed, the processes agree again on each projection's delay range (synapses added or
  // removed between runs change it), and so on how delays are stored and events summed.
  if (distributed())
    for (auto& p : projs_) {
      const auto [lo, hi] = p->local_delay_range();
      p->settle_delays(static_cast<std::uint32_t>(comm_->min(lo)),
                       static_cast<std::uint32_t>(-comm_->min(-std::int64_t{hi})));
    }
  for (auto& p : pops_) p->prepare(dt_);
  for (auto& p : projs_) p->prepare(dt_);
  for (auto& m : mods_) m->prepare(dt_);
  for (auto& r : rewards_) r->prepare(dt_);
  StructuralPlasticity* sp = structural_.get();
  if (sp) sp->prepare(dt_, step_);
  std::vector<std::size_t> reward_src(rewards_.size()), reward_tgt(rewards_.size());
  for (std::size_t k = 0; k < rewards_.size(); ++k) {
    reward_src[k] = population_index(rewards_[k]->projection().source().name());
    reward_tgt[k] = population_index(rewards_[k]->projection().target().name());
  }
  std::vector<std::size_t> slots(np, 1);
  std::vector<std::size_t> src_index(projs_.size()), tgt_index(projs_.size());
  bool plastic = false;
  for (std::size_t k = 0; k < projs_.size(); ++k) {
    src_index[k] = population_index(projs_[k]->source().name());
    tgt_index[k] = population_index(projs_[k]->target().name());
    slots[tgt_index[k]] = std::max<std::size_t>(slots[tgt_index[k]], projs_[k]->max_delay_steps() + 1);
    plastic = plastic || projs_[k]->plastic();
  }
  std::vector<std::vector<bool>> ring_active(np);
  for (std::size_t p = 0; p < np; ++p) ring_active[p].assign(pops_[p]->channels().size(), false);
  for (std::size_t k = 0; k < projs_.size(); ++k)
    if (projs_[k]->uses_ring()) ring_active[tgt_index[k]][projs_[k]->channel()] = true;
  std::vector<std::vector<Input*>> inputs_of(np);
  // Gap junctions read every neuron's v at the start of the step: a copy phase and a barrier
  // before any neuron of the step is updated (only when there are gap junctions).
  std::vector<std::pair<GapJunctions*, std::size_t>> gaps;
  for (auto& in : inputs_) {
    if (auto* gj = dynamic_cast<GapJunctions*>(in.get()))
      gaps.emplace_back(gj, population_index(in->target().name()));
  }
  for (auto& in : inputs_) {
    // Gap junctions keep the partners they were built with; other inputs follow growth.
    if (!dynamic_cast<GapJunctions*>(in.get())) in->sync_size();
    in->prepare(dt_);
    const std::size_t p = population_index(in->target().name());
    inputs_of[p].push_back(in.get());
    if (in->uses_drive() && !pops_[p]->drive()) pops_[p]->enable_drive();
    if (auto* pi = dynamic_cast<PoissonInput*>(in.get()); pi && pi->uses_ring())
      ring_active[p][pi->channel()] = true;
  }
  for (std::size_t p = 0; p < np; ++p) pops_[p]->configure_rings(slots[p], step_, ring_active[p]);
  // part: the thread slices of this process's neurons (updates, delivery into targets);
  // tpart: of all neurons (plasticity traces, which every process keeps for every neuron).
  std::vector<std::vector<std::size_t>> part(np), tpart(np);
  for (std::size_t p = 0; p < np; ++p) {
    const auto [lo, hi] = owned(*pops_[p]);
    part[p] = partition(lo, hi, nthreads);
    tpart[p] = partition(0, pops_[p]->size(), nthreads);
  }
  // Each thread's part of every row, found once instead of per spike (several threads; one
  // thread frees a table an earlier run made).
  for (std::size_t k = 0; k < projs_.size(); ++k) projs_[k]->split_rows(part[tgt_index[k]]);
  const bool distributed = this->distributed();
  const std::uint64_t interval = distributed ? exchange_interval() : 1;
  const std::size_t nranks = distributed ? static_cast<std::size_t>(comm_->size()) : 1;
  std::vector<std::vector<std::size_t>> spike_mons_of(np), rate_mons_of(np);
  for (std::size_t m = 0; m < spike_mons_.size(); ++m)
    spike_mons_of[population_index(spike_mons_[m]->population().name())].push_back(m);
  for (std::size_t m = 0; m < rate_mons_.size(); ++m)
    rate_mons_of[population_index(rate_mons_[m]->population().name())].push_back(m);

  std::vector<std::vector<std::size_t>> state_mons_of(np);
  for (std::size_t m = 0; m < state_mons_.size(); ++m)
    state_mons_of[population_index(state_mons_[m]->population().name())].push_back(m);

  // spikes[k][population][thread]: each thread appends its slice's spikes; readers see the
  // step's parts in thread order (a sorted list). In one process k is the step's parity: two
  // buffers let a thread start the next step while others still read this one, so one barrier
  // per step suffices. Distributed, k is the step's place in the exchange interval, and
  // readers see all[k][population][process] instead: every process's spikes, in rank order.
  using Lists = std::vector<std::vector<std::vector<std::uint32_t>>>;
  // Thread t's list is part t * stride: the lists' headers, which each thread writes at every
  // step, then sit on cache lines of their own (the empty parts between cost readers a test).
  const std::size_t stride = nthreads > 1 ? 64 / sizeof(std::vector<std::uint32_t>) + 2 : 1;
  const std::vector<std::vector<std::uint32_t>> empty_parts(static_cast<std::size_t>(nthreads) * stride);
  std::vector<Lists> spikes(distributed ? interval : 2, Lists(np, empty_parts));
  std::vector<Lists> all(distributed ? interval : 0,
                         Lists(np, std::vector<std::vector<std::uint32_t>>(nranks)));
  std::vector<std::uint32_t> packed, gathered;
  std::vector<int> counts;
  // Thread 0 sends this process's spikes of steps [b, e) and unpacks everyone's into `all`:
  // per step and population, a count and the indices.
  auto exchange = [&](std::uint64_t b, std::uint64_t e) {
    packed.clear();
    for (std::uint64_t s = b; s < e; ++s)
      for (std::size_t p = 0; p < np; ++p) {
        const auto& parts = spikes[s - b][p];
        packed.push_back(static_cast<std::uint32_t>(volley::spike_count(SpikeList(parts))));
        for (const auto& part_list : parts) packed.insert(packed.end(), part_list.begin(), part_list.end());
      }
    comm_->allgather(packed, gathered, counts);
    std::size_t at = 0;
    for (std::size_t r = 0; r < nranks; ++r)
      for (std::uint64_t s = b; s < e; ++s)
        for (std::size_t p = 0; p < np; ++p) {
          const std::size_t n = gathered[at++];
          all[s - b][p][r].assign(gathered.begin() + static_cast<std::ptrdiff_t>(at),
                                  gathered.begin() + static_cast<std::ptrdiff_t>(at + n));
          at += n;
        }
  };

  // Each thread appends its spikes to a list of its own, on cache lines of its own, and swaps it
  // into `spikes` once per step: appending straight into the shared lists wrote their headers,
  // which sit side by side, at every spike (false sharing between the threads).
  struct alignas(64) OwnSpikes {
    std::vector<std::uint32_t> list;
  };
  std::vector<OwnSpikes> own(static_cast<std::size_t>(nthreads) * np);

  const std::uint64_t start = step_, end = step_ + n_steps;
  for (auto& m : state_mons_) {
    m->begin_run(start, end, dt_);
    // Its own neurons only: distributed, the others' state here is stale (the merge takes the
    // owners' values).
    const auto [lo, hi] = owned(m->population());
    if (start < end) m->record(start, lo, hi);
  }

  const bool parallel = nthreads > 1;
  detail::SpinBarrier spin(nthreads);
  auto barrier = [parallel, &spin] {
    if (parallel) spin.wait();
  };
  // The whole run for thread t; with one thread nothing touches OpenMP or the barrier. Steps
  // go in batches of `interval` (one step unless distributed): updates for the batch, the
  // exchange, then each step's bookkeeping, delivery and plasticity in step order, so every
  // ring slot receives its events in the same order as step by step (a spike of step s lands
  // at s + delay >= the end of its batch).
  double t_update = 0.0, t_exchange = 0.0, t_deliver = 0.0;
  auto loop = [&](std::size_t t) {
    // This thread's event counts, added at the end (padded: written at every step).
    std::vector<std::uint64_t> padded(projs_.size() + 16, 0);
    std::uint64_t* events = padded.data() + 8;
    for (std::uint64_t b = start; b < end; b += interval) {
      const std::uint64_t e = std::min(end, b + interval);
      // Phases are timed only with a communicator (any number of processes): three clock reads
      // a step were a few per cent of a small network's step otherwise.
      const bool timed = comm_ != nullptr && t == 0;
      const Clock::time_point c0 = timed ? Clock::now() : Clock::time_point{};
      for (std::uint64_t s = b; s < e; ++s) {
        const StepContext ctx{s, dt_, seed_};
        auto& mine_now = spikes[distributed ? s - b : s & 1];
        if (!gaps.empty()) {
          for (auto& [gj, p] : gaps) gj->snapshot(part[p][t], part[p][t + 1]);
          barrier();
        }
        // 1. Inputs, neuron updates and state samples over this thread's slices.
        for (std::size_t p = 0; p < np; ++p) {
          const std::size_t lo = part[p][t], hi = part[p][t + 1];
          auto& mine = own[t * np + p].list;
          mine.clear();
          if (float* d = pops_[p]->drive()) std::fill(d + lo, d + hi, 0.0f);
          for (Input* in : inputs_of[p]) in->apply(ctx, lo, hi);
          pops_[p]->update(ctx, lo, hi, mine);
          if (pops_[p]->has_removed()) pops_[p]->drop_removed(mine);
          if (sp) sp->observe(p, mine, s);
          if (s + 1 < end)
            for (auto k : state_mons_of[p]) state_mons_[k]->record(s + 1, lo, hi);
          mine_now[p][t * stride].swap(mine);
        }
      }
      barrier();
      Clock::time_point c1{};
      if (timed) c1 = Clock::now();
      if (distributed) {
        if (t == 0) exchange(b, e);
        barrier();
      }
      Clock::time_point c2 = c1;
      if (timed) c2 = Clock::now();
      for (std::uint64_t s = b; s < e; ++s) {
        auto& now = distributed ? all[s - b] : spikes[s & 1];
        // 2. Spike bookkeeping (one thread; it only reads this step's lists).
        if (t == 0) {
          for (std::size_t p = 0; p < np; ++p) {
            const SpikeList list(now[p]);
            const std::size_t n = volley::spike_count(list);
            spike_counts_[p] += n;
            for (auto k : spike_mons_of[p]) spike_mons_[k]->record(s, dt_, list);
            for (auto k : rate_mons_of[p]) rate_mons_[k]->record(s, dt_, n);
          }
          // Rewards see this step's spikes; modulators decay and release what is due now. Both
          // are read only after the barrier before step 4.
          for (std::size_t k = 0; k < rewards_.size(); ++k)
            rewards_[k]->observe(s, seed_, SpikeList(now[reward_src[k]]),
                                 SpikeList(now[reward_tgt[k]]));
          for (auto& m : mods_) m->advance(s);
        }
        // 3. Propagation into each thread's target slice; STDP on the same synapses.
        for (std::size_t k = 0; k < projs_.size(); ++k) {
          const std::size_t lo = part[tgt_index[k]][t], hi = part[tgt_index[k]][t + 1];
          events[k] += projs_[k]->deliver(SpikeList(now[src_index[k]]), s, lo, hi);
          projs_[k]->post_spikes(SpikeList(now[tgt_index[k]]), s, lo, hi);
        }
        // 4. Plasticity traces, once every thread has read them.
        if (plastic) {
          barrier();
          for (std::size_t k = 0; k < projs_.size(); ++k) {
            if (!projs_[k]->plastic()) continue;
            const auto& ps = tpart[src_index[k]];
            const auto& pt = tpart[tgt_index[k]];
            projs_[k]->update_pre_traces(SpikeList(now[src_index[k]]), ps[t], ps[t + 1]);
            projs_[k]->update_post_traces(SpikeList(now[tgt_index[k]]), pt[t], pt[t + 1]);
          }
          // Periodic weight updates (modulated STDP, Hebbian rules) over this thread's share of
          // each projection's synapses, once every thread's traces are up to date (Hebbian rules
          // read all of them; no other step-4 work touches weights).
          bool periodic = false;
          for (auto& p : projs_) periodic = periodic || p->periodic_due(s);
          if (periodic) {
            barrier();
            const auto nt = static_cast<std::size_t>(nthreads);
            for (auto& p : projs_)
              if (p->periodic_due(s)) {
                const std::size_t n_syn = p->synapse_count();
                p->apply_periodic(n_syn * t / nt, n_syn * (t + 1) / nt);
              }
          }
        }
        // 5. Structural plasticity rewires on one thread; nobody may read a projection or touch
        // calcium meanwhile (the next step's neuron updates do).
        if (sp && (sp->update_due(s) || sp->record_due(s))) {
          barrier();
          if (t == 0) {
            if (sp->update_due(s)) {
              sp->update(s, seed_);
              if (nthreads > 1)
                for (std::size_t k = 0; k < projs_.size(); ++k)
                  projs_[k]->split_rows(part[tgt_index[k]]);
            }
            if (sp->record_due(s)) sp->record(s);
          }
          barrier();
        }
        // Reward records and weight monitors read every weight: once all updates are done (step 1
        // of the next step touches no weights, and step 3 waits for the barrier thread 0 reaches
        // after this).
        bool record = false;
        for (auto& r : rewards_) record = record || r->record_due(s);
        for (auto& m : weight_mons_) record = record || m->due(s);
        if (record) {
          barrier();
          if (t == 0) {
            for (auto& r : rewards_)
              if (r->record_due(s)) r->record(s);
            for (auto& m : weight_mons_)
              if (m->due(s)) m->record(s, dt_, comm_);
          }
        }
      }
      if (timed) {
        const Clock::time_point c3 = Clock::now();
        t_update += seconds(c0, c1);
        t_exchange += seconds(c1, c2);
        t_deliver += seconds(c2, c3);
      }
    }
    for (std::size_t k = 0; k < projs_.size(); ++k)
      if (events[k]) projs_[k]->add_events(events[k]);
  };

  const auto t0 = std::chrono::steady_clock::now();
  if (!parallel) {
    loop(0);
  } else {
#ifdef VOLLEY_HAVE_OPENMP
#pragma omp parallel num_threads(nthreads)
    loop(static_cast<std::size_t>(thread_id()));
#else
    // Without OpenMP the same team is made of std::threads (also what ThreadSanitizer checks).
    std::vector<std::thread> team;
    for (int t = 1; t < nthreads; ++t) team.emplace_back(loop, static_cast<std::size_t>(t));
    loop(0);
    for (auto& th : team) th.join();
#endif
  }
  const auto t1 = std::chrono::steady_clock::now();
  step_ = end;
  if (distributed) {
    for (auto& m : state_mons_) m->merge(*comm_);
    for (auto& r : rewards_) r->settle();
  }
  RunStats stats;
  stats.wall_seconds = std::chrono::duration<double>(t1 - t0).count();
  stats.steps = n_steps;
  stats.update_seconds = t_update;
  stats.exchange_seconds = t_exchange;
  stats.deliver_seconds = t_deliver;
  return stats;
}

}  // namespace volley

#pragma once
// f–I curves and excitability class. One neuron is driven by a staircase of constant currents
// swept upwards and a second, identical neuron by the same staircase downwards; the steady rate
// of each step is counted over its second half. Both run in one ordinary simulation of the
// model (the same code as `volley sim`), so the f–I curve is of exactly the dynamics users run.
//
// Classification (Hodgkin 1948; Izhikevich 2007, ch. 1 and 7). The rheobase is refined by
// bisection (10 probes from rest) between the last silent and the first firing current of the
// upward sweep; "firing" means at least two spikes in the counting window, i.e. a rate of at
// least f_floor = 2 / (step/2).
//   class II  if the rate just above the refined rheobase is at least 3 f_floor (the neuron jumps
//             to a minimum frequency), or if the two sweeps disagree at some current (one silent,
//             one firing: bistability, i.e. hysteresis);
//   class I   otherwise: the rate rises continuously from the detection floor.
#include <string>
#include <vector>

namespace volley::analysis {

struct FiOptions {
  std::string model;           // any model of the model-file format, e.g. "hh", "morris_lecar"
  std::string preset;          // optional, e.g. "snlc"
  std::string i_min = "0 uA";  // quantities with units (amperes; volts for voltage-driven models)
  std::string i_max = "20 uA";
  int points = 41;
  std::string step_duration = "1 s";  // time at each current
  std::string dt = "0.1 ms";
};

struct FiPoint {
  double current = 0.0;    // SI
  double rate_up = 0.0;    // Hz
  double rate_down = 0.0;  // Hz
};

struct FiResult {
  std::string model, preset;
  std::vector<FiPoint> points;
  double rheobase = -1.0;      // refined threshold current of the upward sweep; -1: never fired
  double onset_rate_hz = 0.0;  // rate just above it
  double max_rate_hz = 0.0;
  bool hysteresis = false;
  std::string excitability_class;  // "I", "II", or "none" when the neuron never fired
};

// Throws ConfigError / ParameterError on bad options (unknown model or preset, i_min > i_max,
// points < 2, ...).
FiResult measure_fi(const FiOptions& options);

}  // namespace volley::analysis

#pragma once
// The files `volley fi` writes, fi.csv and fi.json: their one writer, and the reader beside it
// (used by `volley report`).
//
// fi.csv: the plotted curve, one row per current (SI units):
//   current_A,rate_from_rest_hz,rate_from_firing_hz       (current_V for voltage-driven models)
// A rate of 0 means no sustained firing. (Files of older versions, with the columns
// rate_up_hz,rate_down_hz of a staircase swept up and down, are read as from rest / from firing.)
//
// fi.json: the class and how it was decided; currents in `unit`, rates in Hz, durations in s:
//   model, preset, class ("I", "II", "none"), decision (one sentence), unit ("A" or "V"),
//   rheobase (null when nothing fired), onset_rate_hz, min_rate_hz, jump_ratio, period_growth,
//   max_rate_hz,
//   hysteresis,
//   rheobase_search: scan {from, to, ratio, points}, coarse_bracket [silent, firing],
//                    refined_bracket [silent, firing], tolerance, rounds, windows_s [...],
//   onset: points [[current, rate], ...] (from rest, the rheobase first),
//          sqrt_fit and power_fit {valid, rheobase, coefficient, exponent, r2, points,
//                                  current_range [lo, hi]}   (f = coefficient (I -
//                                  rheobase)^exponent),
//   bistability: reference_current, reference_rate_hz,
//                probes [{current, rate_from_rest_hz, rate_from_firing_hz, bistable}, ...],
//   durations_s: dt, scan, classification, curve — each {settle, ramp, transient, window,
//                min_rate_hz},
//   neuron_seconds (simulated), criterion (the rule, in words).
#include <limits>
#include <string>
#include <vector>

namespace volley::io {

// What `volley fi` measured (analysis/fi_curve.hpp describes the method); currents in SI units
// (amperes, or volts for voltage-driven models), rates in Hz, durations in s.

// One current, both starting states; rates in Hz, 0 where the neuron does not fire steadily.
struct FiPoint {
  double current = 0.0;  // SI: amperes (or volts)
  double rate_from_rest = 0.0;
  double rate_from_firing = 0.0;
};

// A rate at one current (one starting state).
struct RatePoint {
  double current = 0.0;
  double rate = 0.0;  // Hz
};

// f = coefficient (I - rheobase)^exponent, least squares over `points` rates in [current_lo,
// current_hi]; r2 of the fitted quantity (f² for the square-root fit, log f for the power fit).
struct OnsetFit {
  bool valid = false;
  double rheobase = std::numeric_limits<double>::quiet_NaN();
  double coefficient = 0.0;  // Hz per unit^exponent
  double exponent = 0.5;
  double r2 = 0.0;
  int points = 0;
  double current_lo = 0.0, current_hi = 0.0;
};

// Durations of one measurement (seconds): settle at the starting current, ramp to the probe
// current, hold (transient, not counted), count (window).
struct FiProtocol {
  double settle = 0.0, ramp = 0.0, transient = 0.0, window = 0.0;
  double min_rate_hz() const { return window > 0 ? 3.0 / window : 0.0; }
  double total() const { return settle + ramp + transient + window; }
};

struct RheobaseSearch {
  double scan_lo = 0.0, scan_hi = 0.0, scan_ratio = 0.0;  // geometric scan from rest
  int scan_points = 0;
  FiProtocol scan;
  double coarse_silent = 0.0, coarse_firing = 0.0;  // bracket from the scan
  double silent = 0.0, firing = 0.0;                // refined bracket (firing = the rheobase)
  double tolerance = 0.0;                           // bracket width aimed at
  int rounds = 0;                                   // refinement rounds, all windows
  std::vector<double> windows;                      // counting windows tried (s)
};

struct FiResult {
  std::string model, preset;
  std::string unit = "A";                   // of every current: "A" or "V"
  std::string excitability_class = "none";  // "I", "II" or "none" (nothing fired)
  std::string decision;                     // why, in one sentence
  std::string criterion;                    // the rule, in words
  double rheobase = std::numeric_limits<double>::quiet_NaN();  // lowest firing current from rest
  double onset_rate_hz = 0.0;                                  // rate at the rheobase
  double min_rate_hz = 0.0;  // slowest rate the final protocol resolves
  double jump_ratio = 0.0;   // onset_rate_hz / min_rate_hz
  // (T(1e-3) - T(1e-2)) / (T(1e-2) - T(1e-1)), T = 1/f at those offsets above the rheobase
  // (fractions of it): >= 0.7 the period diverges at the rheobase (f -> 0), <= 0.3 it levels off.
  double period_growth = std::numeric_limits<double>::quiet_NaN();
  double max_rate_hz = 0.0;  // over the plotted curve and the onset rates
  bool hysteresis = false;   // bistable below the rheobase
  RheobaseSearch search;
  FiProtocol protocol;           // final durations of the classification measurements
  std::vector<RatePoint> onset;  // from rest, the rheobase and currents just above it
  OnsetFit sqrt_fit, power_fit;  // of the onset rates (1e-3 .. 0.1 above the rheobase)
  double reference_current = std::numeric_limits<double>::quiet_NaN();  // the firing start
  double reference_rate_hz = 0.0;
  std::vector<FiPoint> bistability;  // probes below the rheobase
  FiProtocol curve_protocol;         // the plotted curve's durations
  std::vector<FiPoint> curve;        // the plotted range
  double dt = 0.0;                   // s
  double neuron_seconds = 0.0;       // simulated, all measurements together
};

std::string fi_csv(const FiResult& r);
std::string fi_json(const FiResult& r);

// Writes DIR/fi.csv and DIR/fi.json, each to a temporary file renamed into place, so a reader
// never sees half a file. Throws IoError.
void write_fi(const std::string& dir, const FiResult& r);

// Reads DIR/fi.json and DIR/fi.csv back. Throws IoError naming the file, the line or key, and
// what was expected.
FiResult read_fi(const std::string& dir);

}  // namespace volley::io

#pragma once
// f–I curves and excitability class (Hodgkin 1948; Izhikevich 2007, ch. 1 and 7; Ermentrout &
// Terman 2010, ch. 3): `volley fi` and its C++ entry point, measure_fi().
//
// Every measurement is one network of independent neurons of the model (built through the
// neuron-model registry, like any population), each held at its own current. A neuron's rate is
// read from its inter-spike intervals in a counting window W after a transient, and only steady
// firing at 3 / W or faster counts (the last spike at most 1.5 intervals before the window's end).
// 3 / W is the slowest rate a measurement resolves; no rate below it is ever reported.
//
// Two starting states, at the same final current I (the bistability test):
//   from rest    the current sits at 0 (the resting current) while the model settles, then is
//                ramped slowly to I and held: the neuron starts on its resting branch;
//   from firing  the current sits at a reference current that fires, then is ramped to I and
//                held: the neuron starts on its firing branch.
//
// The classification does not depend on the plotted range (--i-min/--i-max):
//   1. rheobase search: a geometric scan from rest (1 pA .. 10 mA, or 1 µV .. 10 V for
//      voltage-driven models, ratio sqrt 2; below 0 when the neuron fires without input)
//      brackets the lowest firing current; bisection from rest (8 sections per round) narrows the
//      bracket to 1e-4 of the rheobase;
//   2. onset: the rates at the rheobase and at 1e-3 .. 0.3 of it above. A class I neuron's rate
//      passes continuously through zero, so at the rheobase it is at the floor (ratio <= 1.3), or,
//      when it vanishes too slowly for any window (the leaky integrate-and-fire neuron's
//      1 / log), its period T = 1/f still grows over the decade of currents nearest the rheobase
//      at least 0.7x as much as over the next (1 for 1/log, 3.2 for sqrt). A class II neuron
//      jumps to a minimum frequency: ratio >= 3 and a period that levels off (growth <= 0.3).
//      Otherwise the window is made 4x longer (up to 16 s) and all of it measured again: a class I
//      neuron's onset rate follows the floor down, a class II neuron's stays (at 16 s, class II
//      from 2x the floor);
//   3. the rates up to 0.1 above the rheobase are fitted with f = c sqrt(I - I0) and with
//      f = c (I - I0)^b (b free), reported with R²; for a saddle-node on the invariant circle
//      b -> 1/2 and I0 is the bifurcation current;
//   4. bistability: currents 1% .. 50% below the rheobase, from rest and from firing; the neuron
//      is bistable (hysteresis) where it stays silent from rest but keeps firing from firing.
// Class II if the rate jumps at the rheobase, class I if it rises from zero; "none" if nothing in
// the scan fired. Hysteresis is reported beside the class (a subcritical Hopf neuron has both).
// fi.json (io/fi_file.hpp) records every number these steps used.
#include <span>
#include <string>

#include "volley/io/fi_file.hpp"

namespace volley::analysis {

// The result, as fi.json and fi.csv record it (io/fi_file.hpp owns that schema).
using io::FiPoint;
using io::FiProtocol;
using io::FiResult;
using io::OnsetFit;
using io::RatePoint;
using io::RheobaseSearch;

struct FiOptions {
  std::string model;   // any neuron model of the model-file format, e.g. "hh", "morris_lecar"
  std::string preset;  // optional, e.g. "snlc" for morris_lecar, "class1" for izhikevich
  // The plotted curve's range, quantities with units: amperes, or volts for models driven by a
  // voltage (lif, izhikevich without R). Empty: from 0 to 3x the rheobase found. The drive's
  // unit is that of the range, or amperes when the model takes a current, else volts.
  std::string i_min, i_max;
  int points = 41;  // currents of the plotted curve
  std::string step_duration =
      "1 s";  // plotted curve: time at each current, counted over the second half
  std::string dt = "0.1 ms";
  int threads = 1;
};

// Fits f = c (I - I0)^exponent to rates (Hz > 0) at currents. exponent = 0.5: the square-root law
// (least squares on f², linear); exponent NaN: the exponent is fitted too (least squares on
// log f, I0 by a one-dimensional search below the lowest current). Invalid with < 3 points.
OnsetFit fit_onset(std::span<const RatePoint> rates, double exponent = 0.5);

// Throws ParameterError on bad options (unknown model or preset, a range that is not a current
// or a voltage the model takes, i_min >= i_max, points < 2, durations <= 0, ...).
FiResult measure_fi(const FiOptions& options);

}  // namespace volley::analysis

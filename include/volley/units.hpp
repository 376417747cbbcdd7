#pragma once
// Physical quantities written as strings ("20 ms", "-50 mV", "5 nS", "10 Hz") and their
// conversion to SI base values. volley stores every quantity internally in SI units
// (seconds, volts, amperes, siemens, farads, ohms, hertz).
#include <string>
#include <string_view>

namespace volley {

// Exponents of the dimensions used by neuron models: time, voltage, current and length (for
// densities such as siemens/metre^2). (Conductance = current/voltage, capacitance =
// current*time/voltage, frequency = 1/time.)
struct Dimension {
  int time = 0;
  int voltage = 0;
  int current = 0;
  int length = 0;

  friend bool operator==(const Dimension&, const Dimension&) = default;
  friend constexpr Dimension operator*(Dimension a, Dimension b) {
    return {a.time + b.time, a.voltage + b.voltage, a.current + b.current, a.length + b.length};
  }
  friend constexpr Dimension operator/(Dimension a, Dimension b) {
    return {a.time - b.time, a.voltage - b.voltage, a.current - b.current, a.length - b.length};
  }
  constexpr Dimension pow(int k) const { return {time * k, voltage * k, current * k, length * k}; }

  static constexpr Dimension none() { return {}; }
  static constexpr Dimension seconds() { return {1, 0, 0}; }
  static constexpr Dimension volts() { return {0, 1, 0}; }
  static constexpr Dimension amperes() { return {0, 0, 1}; }
  static constexpr Dimension siemens() { return {0, -1, 1}; }
  static constexpr Dimension farads() { return {1, -1, 1}; }
  static constexpr Dimension ohms() { return {0, 1, -1}; }
  static constexpr Dimension hertz() { return {-1, 0, 0}; }
  static constexpr Dimension volts_per_second() { return {-1, 1, 0}; }
  static constexpr Dimension metres() { return {0, 0, 0, 1}; }
};

// Human-readable name of a dimension ("time", "voltage", "conductance", ... or "s^-1 V").
std::string dimension_name(Dimension d);

// The SI unit of a dimension as parse_quantity reads it back ("V", "S", "S/V", "s^-1 V"); "" for
// a pure number.
std::string unit_symbol(Dimension d);

struct Quantity {
  double value = 0.0;  // in SI base units
  Dimension dim;
};

// Parses "<number> [<unit>]"; unit prefixes p n u/µ m c k M G; units s V A S F Ohm/ohm/Ω Hz m,
// and compound forms such as "mV/ms". A bare number is dimensionless. Throws UnitError.
Quantity parse_quantity(std::string_view text);

// Parses and checks the dimension; throws UnitError naming the expected dimension.
double parse_quantity(std::string_view text, Dimension expected);

}  // namespace volley

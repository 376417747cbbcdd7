// volley::analysis from the installed package: one Jeffress sound-localisation estimate.
#include <cstdio>

#include "volley/analysis/sound_localization.hpp"

int main() {
  volley::analysis::JeffressConfig c;
  c.fibres_per_ear = 5;
  c.duration = 0.5;
  const auto e = volley::analysis::run_jeffress(c, 90.0, 0);
  const double err = volley::analysis::circular_error_deg(e.population_vector_deg, 90.0);
  std::printf("analysis: IPD 90 estimated as %.1f degrees\n", e.population_vector_deg);
  return err < 45.0 ? 0 : 1;
}

// Fixture for the ctest layering_detects_leaks: training must not include the I/O layer.
#include "volley/io/training.hpp"

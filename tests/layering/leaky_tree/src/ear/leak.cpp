// Fixture for the ctest layering_detects_leaks: the ear must not include training.
#include <volley/train/net.hpp>

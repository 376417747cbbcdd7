#pragma once
// Compatibility: the event-data types moved to the data layer (volley/data/events.hpp, namespace
// volley::data) so that the auditory tasks can provide training data without linking training.
// New code includes volley/data/events.hpp and writes data::.
#include "volley/data/events.hpp"

namespace volley::train {
using data::build_sample;
using data::EventSource;
using data::SampleEvents;
using data::StoredEvents;
}  // namespace volley::train

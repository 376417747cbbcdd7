#pragma once
// Compatibility: the image encoders moved to the data layer (volley/data/encoders.hpp, namespace
// volley::data). New code includes that header and writes data::.
#include "volley/data/encoders.hpp"
#include "volley/train/dataset.hpp"
#include "volley/train/idx.hpp"

namespace volley::train {
using data::EncoderConfig;
using data::ImageSource;
using data::kImageEncoderStream;
}  // namespace volley::train

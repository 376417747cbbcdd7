#pragma once
// Compatibility: the IDX reader and the Fashion-MNIST loader moved to the data layer
// (volley/data/idx.hpp, namespace volley::data). New code includes that header and writes data::.
#include "volley/data/idx.hpp"

namespace volley::train {
using data::IdxArray;
using data::ImageSet;
using data::kFashionMnistDir;
using data::kIdxImagesMagic;
using data::kIdxLabelsMagic;
using data::load_fashion_mnist;
using data::read_idx;
}  // namespace volley::train

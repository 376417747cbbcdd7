#pragma once
// The reference of volley's file formats, produced from the registries (include/volley/registry.hpp):
// every neuron model with its parameter table, every connector, distribution, plasticity rule,
// input and monitor of the model files, and every key and choice of the training files.
// docs/reference.md is this text (`volley reference --out docs/reference.md`, or the CMake
// target `reference`); a test keeps the committed file equal to it.
#include <string>

namespace volley::io {

std::string reference_markdown();

}  // namespace volley::io

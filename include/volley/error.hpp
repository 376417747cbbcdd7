#pragma once
// Typed exceptions thrown at volley's boundaries (parameters, shapes, files).
// Kernels never throw; everything is validated before a run starts.
#include <stdexcept>
#include <string>

namespace volley {

// Base of every error volley throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A parameter value violates a model or connector constraint ("tau_m must be > 0").
class ParameterError : public Error {
 public:
  using Error::Error;
};

// A quantity string is malformed or has the wrong physical dimension.
class UnitError : public Error {
 public:
  using Error::Error;
};

// A model/config file is unreadable or malformed; the message names file, line and field.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// Reading or writing a data file failed.
class IoError : public Error {
 public:
  using Error::Error;
};

}  // namespace volley

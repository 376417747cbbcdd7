// numpy arrays from C++ vectors without copying: the vector is moved into a heap object that a
// capsule owns, and the array views its memory (the capsule is the array's base, so the memory
// lives as long as the array or any view of it). Used for data that the binding produced for
// the caller alone (recordings read from files, analysis results, dataset samples); live
// monitor buffers, which grow and move on later runs, are copied instead (module.cpp).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <utility>
#include <vector>

namespace volley_python_arrays {

namespace py = pybind11;

template <class T>
py::array_t<T> take(std::vector<T>&& v, std::vector<py::ssize_t> shape) {
  auto* owner = new std::vector<T>(std::move(v));
  py::capsule base(owner, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(std::move(shape), owner->data(), base);
}

template <class T>
py::array_t<T> take(std::vector<T>&& v) {
  const auto n = static_cast<py::ssize_t>(v.size());
  return take(std::move(v), {n});
}

}  // namespace volley_python_arrays

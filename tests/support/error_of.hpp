#pragma once
// The message of the exception of type E that `f` throws (a test failure if it throws none), so
// that tests can assert what an error says: EXPECT_THAT(error_of([&] { ... }), HasSubstr(path)).
#include <gtest/gtest.h>

#include <string>

#include "volley/error.hpp"

namespace volley::test {

template <class E = IoError, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return "";
}

}  // namespace volley::test

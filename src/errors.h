// Typed errors thrown by the core. Every message starts with the op's name in
// brackets and names the shapes or values at fault, e.g.
//   "[add] shapes (2, 3) and (4,) cannot be broadcast together".
// The bindings map these to Python's exceptions once (csrc/errors.cpp):
// ValueError, TypeError, IndexError, RuntimeError, MemoryError.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace glassnet {

struct ValueError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
struct TypeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
struct IndexError : std::out_of_range {
  using std::out_of_range::out_of_range;
};
struct RuntimeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {
inline void stream_all(std::ostringstream&) {}
template <class T, class... Rest>
void stream_all(std::ostringstream& os, const T& first, const Rest&... rest) {
  os << first;
  stream_all(os, rest...);
}
}  // namespace detail

// Concatenates its arguments with operator<<: fail<ValueError>("[op] bad ", x).
template <class E, class... Args>
[[noreturn]] void fail(const Args&... args) {
  std::ostringstream os;
  detail::stream_all(os, args...);
  throw E(os.str());
}

// "(2, 3)" for a shape, as Python prints tuples.
inline std::string shape_str(const std::vector<int64_t>& shape) {
  std::ostringstream os;
  os << '(';
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) os << ", ";
    os << shape[i];
  }
  if (shape.size() == 1) os << ',';
  os << ')';
  return os.str();
}

}  // namespace glassnet

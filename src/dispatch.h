// Dispatch by dtype in one place. A kernel is written once as a template and
// instantiated for the dtypes an op accepts:
//
//   dispatch_all(t.dtype(), "add", [&](auto tag) {
//     using T = decltype(tag);
//     ...
//   });
//
// A dtype the op does not accept is a TypeError naming the op and the dtype.
#pragma once

#include <cstdint>

#include "dtype.h"
#include "errors.h"

namespace glassnet {

template <class F>
decltype(auto) dispatch_all(DType d, const char* op, F&& f) {
  switch (d) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    case DType::Int64: return f(int64_t{});
    case DType::Bool: return f(bool{});
  }
  fail<TypeError>("[", op, "] unknown dtype");
}

template <class F>
decltype(auto) dispatch_numeric(DType d, const char* op, F&& f) {
  switch (d) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    case DType::Int64: return f(int64_t{});
    default: break;
  }
  fail<TypeError>("[", op, "] expected a float32, float64 or int64 tensor, got ", dtype_name(d));
}

template <class F>
decltype(auto) dispatch_float(DType d, const char* op, F&& f) {
  switch (d) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    default: break;
  }
  fail<TypeError>("[", op, "] expected a float32 or float64 tensor, got ", dtype_name(d));
}

}  // namespace glassnet

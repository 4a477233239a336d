// Checks shared by the index ops: device, index dtype and index range. The
// range check runs before an op writes anything, so a bad index leaves every
// tensor untouched.
#include "ops/index.h"

#include "errors.h"
#include "ops/iter.h"

namespace glassnet::detail {

void check_cpu(const Tensor& t, const char* op) {
  if (t.defined() && !t.device().is_cpu()) fail<RuntimeError>("[", op, "] not implemented for cuda yet");
}

void check_index_dtype(const Tensor& index, const char* op) {
  if (index.dtype() != DType::Int64)
    fail<IndexError>("[", op, "] expected an int64 index tensor, got ", dtype_name(index.dtype()));
}

void check_index_range(const Tensor& index, int64_t size, int64_t dim, bool wrap, const char* op) {
  if (index.numel() == 0) return;
  const int64_t lo = wrap ? -size : 0;
  // One thread: a scan of int64s is far cheaper than the op it guards, and
  // the first bad value is thrown on the caller's thread.
  Tensor idx = index;
  auto loop = make_loop<1>(idx, {});
  loop.run([&](char* const* p, const int64_t* s, int64_t n) {
    const char* q = p[0];
    for (int64_t i = 0; i < n; ++i, q += s[0]) {
      const int64_t v = *reinterpret_cast<const int64_t*>(q);
      if (v < lo || v >= size)
        fail<IndexError>("[", op, "] index ", v, " is out of bounds for dimension ", dim, " with size ", size);
    }
  }, index.numel() + 1);
}

}  // namespace glassnet::detail

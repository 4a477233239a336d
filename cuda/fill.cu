// fill_ on a cuda tensor of any strides: every element of the view set to
// one value, converted to the tensor's dtype on the host as the CPU does.
#include "common.cuh"
#include "cuda_api.h"
#include "dispatch.h"

namespace glassnet::cuda {

namespace {

// out[offset(i)] = value for i < n.
template <class T>
__global__ void fill_kernel(Indexer<1> ix, T* out, int64_t n, T value) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[1];
    ix.offsets(i, off);
    out[off[0]] = value;
  }
}

}  // namespace

void fill(Tensor& out, double value) {
  const int64_t n = out.numel();
  if (n == 0) return;
  require_device(out.device().index, "fill_");
  const Indexer<1> ix = make_indexer<1>(out.shape(), {out.strides()}, "fill_");
  DeviceGuard guard(out.device().index);
  dispatch_all(out.dtype(), "fill_", [&](auto tag) {
    using T = decltype(tag);
    fill_kernel<T><<<grid_for(n), kThreads>>>(ix, static_cast<T*>(out.raw_data()), n, static_cast<T>(value));
  });
  check_launch("fill_kernel");
}

}  // namespace glassnet::cuda

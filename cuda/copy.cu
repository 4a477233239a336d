// Copies: raw bytes between host and device or within the GPUs, and the
// on-device strided copy that casts dtypes, broadcasts and (un)strides views,
// which copy_, contiguous() and to(dtype) use for cuda tensors.
#include "common.cuh"
#include "cuda_api.h"
#include "dispatch.h"
#include "ops/iter.h"

namespace glassnet::cuda {

void copy_host_to_device(void* dst, const void* src, size_t nbytes, int device) {
  if (nbytes == 0) return;
  require_device(device, "copy to cuda");
  DeviceGuard guard(device);
  check(cudaMemcpy(dst, src, nbytes, cudaMemcpyHostToDevice), "cudaMemcpy (host to device)");
}

void copy_device_to_host(void* dst, const void* src, size_t nbytes, int device) {
  if (nbytes == 0) return;
  require_device(device, "copy from cuda");
  DeviceGuard guard(device);
  // Synchronous: earlier kernels writing src finish first, so the host sees their results.
  check(cudaMemcpy(dst, src, nbytes, cudaMemcpyDeviceToHost), "cudaMemcpy (device to host)");
}

void copy_device_to_device(void* dst, const void* src, size_t nbytes, int device) {
  if (nbytes == 0) return;
  require_device(device, "cuda copy");
  DeviceGuard guard(device);
  // cudaMemcpyDefault lets unified addressing find both ends, so this also
  // serves a copy between two GPUs (the runtime stages it when they are not peers).
  check(cudaMemcpy(dst, src, nbytes, cudaMemcpyDefault), "cudaMemcpy (device to device)");
}

namespace {

// dst[i] = Dst(src[i]) over n elements of the broadcast shape; ix gives the
// element offsets (operand 0 = dst, 1 = src).
template <class Dst, class Src>
__global__ void copy_kernel(Indexer<2> ix, Dst* dst, const Src* src, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[2];
    ix.offsets(i, off);
    dst[off[0]] = static_cast<Dst>(src[off[1]]);
  }
}

}  // namespace

void copy_strided(Tensor& dst, const Tensor& src) {
  const int64_t n = dst.numel();
  if (n == 0) return;
  require_device(dst.device().index, "copy_");
  const Indexer<2> ix = make_indexer<2>(dst.shape(), {dst.strides(), broadcast_strides(src, dst.shape())}, "copy_");
  DeviceGuard guard(dst.device().index);
  dispatch_all(dst.dtype(), "copy_", [&](auto dst_tag) {
    using Dst = decltype(dst_tag);
    dispatch_all(src.dtype(), "copy_", [&](auto src_tag) {
      using Src = decltype(src_tag);
      copy_kernel<Dst, Src><<<grid_for(n), kThreads>>>(ix, static_cast<Dst*>(dst.raw_data()),
                                                        static_cast<const Src*>(src.raw_data()), n);
    });
  });
  check_launch("copy_kernel");
}

}  // namespace glassnet::cuda

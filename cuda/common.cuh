// What every cuda/*.cu file shares: turning CUDA errors into glassnet's
// RuntimeError, a scoped current-device switch, launch sizes, and the strided
// indexer that lets one kernel read broadcast and non-contiguous operands.
//
// All kernels run on the legacy default stream, so launches and copies are
// ordered among themselves and a block the caching allocator hands out again
// is never still in use by an earlier kernel.
#pragma once

#include <cuda_runtime.h>

#include <array>
#include <cstdint>

#include "errors.h"
#include "tensor.h"

namespace glassnet::cuda {

// Throws RuntimeError naming the CUDA call and the runtime's own explanation.
// The last-error slot is cleared so a later, unrelated check does not report
// this failure again (sticky errors such as a kernel fault stay, as CUDA
// decides).
inline void check(cudaError_t err, const char* call) {
  if (err == cudaSuccess) return;
  cudaGetLastError();
  fail<RuntimeError>("[cuda] ", call, " failed: ", cudaGetErrorName(err), ": ", cudaGetErrorString(err));
}

// After a launch: a bad configuration is reported here, a fault inside the
// kernel by the next synchronising call.
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

// Throws a RuntimeError starting with `[op]` unless `device` is a usable GPU.
void require_device(int device, const char* op);

// Makes `device` current for a scope and restores the previous one, so a call
// on cuda:1 never changes where the user's next cuda:0 work runs.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    check(cudaGetDevice(&previous_), "cudaGetDevice");
    if (previous_ != device) check(cudaSetDevice(device), "cudaSetDevice");
  }
  ~DeviceGuard() {
    int now = previous_;
    if (cudaGetDevice(&now) == cudaSuccess && now != previous_) cudaSetDevice(previous_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
};

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n elements: enough to fill any current
// GPU several times over, few enough that each thread does a handful of
// elements and the index arithmetic is amortised.
inline unsigned grid_for(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  const int64_t cap = 65536;
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks > cap ? cap : blocks);
}

// Broadcast and strided views never reach more dims than this after merging;
// the kernel parameter block stays small (a few hundred bytes).
constexpr int kMaxDims = 12;

// Element offsets of N operands for a linear index into the (merged) shape.
// Strides are in elements; a broadcast dim has stride 0. When every operand
// is contiguous the offsets are the linear index itself and the division
// chain is skipped.
template <int N>
struct Indexer {
  int ndim = 0;
  bool contiguous = true;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[kMaxDims][N] = {};

  __host__ __device__ void offsets(int64_t i, int64_t (&off)[N]) const {
    if (contiguous) {
      for (int k = 0; k < N; ++k) off[k] = i;
      return;
    }
    for (int k = 0; k < N; ++k) off[k] = 0;
    for (int d = ndim - 1; d > 0; --d) {
      const int64_t q = i / sizes[d];
      const int64_t r = i - q * sizes[d];
      for (int k = 0; k < N; ++k) off[k] += r * strides[d][k];
      i = q;
    }
    for (int k = 0; k < N; ++k) off[k] += i * strides[0][k];
  }
};

// Builds the indexer for operands viewed with `shape` and the given element
// strides (each already broadcast to `shape`): size-1 dims are dropped and a
// dim is merged into its inner neighbour when that holds for every operand,
// as the CPU's StridedLoop does.
template <int N>
Indexer<N> make_indexer(const Shape& shape, const std::array<Shape, N>& strides, const char* op) {
  Indexer<N> ix;
  int64_t sizes[64];
  int64_t st[64][N];
  int nd = 0;
  if (shape.size() > 64) fail<ValueError>("[", op, "] tensors with more than 64 dims are not supported on cuda");
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    sizes[nd] = shape[d];
    for (int k = 0; k < N; ++k) st[nd][k] = strides[k][d];
    ++nd;
  }
  // Merge from the inside out: dim d joins d+1 when stride[d] == stride[d+1] * size[d+1].
  int out = 0;
  int64_t msizes[64];
  int64_t mst[64][N];
  for (int d = nd - 1; d >= 0; --d) {
    if (out > 0) {
      bool mergeable = true;
      for (int k = 0; k < N; ++k) mergeable &= st[d][k] == mst[out - 1][k] * msizes[out - 1];
      if (mergeable) {
        msizes[out - 1] *= sizes[d];
        continue;
      }
    }
    msizes[out] = sizes[d];
    for (int k = 0; k < N; ++k) mst[out][k] = st[d][k];
    ++out;
  }
  if (out > kMaxDims)
    fail<ValueError>("[", op, "] this view needs ", out, " dims after merging; cuda kernels take at most ",
                     kMaxDims, ": make the operands contiguous first");
  // msizes is innermost-first; the indexer wants outermost-first.
  ix.ndim = out;
  ix.contiguous = true;
  for (int d = 0; d < out; ++d) {
    ix.sizes[d] = msizes[out - 1 - d];
    for (int k = 0; k < N; ++k) ix.strides[d][k] = mst[out - 1 - d][k];
  }
  if (out > 1) ix.contiguous = false;
  for (int k = 0; k < N && out == 1; ++k) ix.contiguous &= ix.strides[0][k] == 1;
  if (out == 0) {  // a single element: every offset is 0
    ix.ndim = 1;
    ix.sizes[0] = 1;
    for (int k = 0; k < N; ++k) ix.strides[0][k] = 0;
    ix.contiguous = true;  // the only index is 0, whose offsets are 0 either way
  }
  return ix;
}

}  // namespace glassnet::cuda

// The CUDA entry points the core calls. They are implemented in cuda/*.cu when
// glassnet is built with GLASSNET_CUDA, and by src/nocuda/no_cuda.cpp
// otherwise, where each raises a clear error. Nothing here includes a CUDA
// header, so the core compiles the same either way.
#pragma once

#include <cstddef>
#include <cstdint>

namespace glassnet {
class Tensor;
enum class UnaryOp : uint8_t;
enum class BinaryOp : uint8_t;
enum class ReduceOp : uint8_t;

namespace cuda {

bool compiled();          // built with CUDA support at all
int device_count();       // 0 when there is no driver or no GPU (never throws)
bool is_available();

// Caching allocator: freed blocks go back to a per-device pool, not to cudaFree.
// allocate raises RuntimeError when `device` is not a usable GPU; release never throws.
void* allocate(size_t nbytes, int device);
void release(void* ptr, int device);
void empty_cache();
size_t memory_allocated(int device);

// Copies between host and device memory, or within one device (contiguous bytes).
void copy_host_to_device(void* dst, const void* src, size_t nbytes, int device);
void copy_device_to_host(void* dst, const void* src, size_t nbytes, int device);
void copy_device_to_device(void* dst, const void* src, size_t nbytes, int device);
void synchronize(int device);
// dst = src cast to dst's dtype, src broadcast to dst's shape; both on one
// CUDA device, any strides (copy_, contiguous() and to(dtype) on the GPU).
void copy_strided(Tensor& dst, const Tensor& src);

// Kernels on tensors of one device (the CPU-side op validated them).
void fill(Tensor& out, double value);  // any strides
// x and out contiguous, same shape; p0, p1 as in UnaryOp's comments.
void unary(UnaryOp op, const Tensor& x, Tensor& out, double p0, double p1);
// a, b of one dtype, read with broadcast strides; out of the broadcast shape.
void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out);
// out: one element; x: any strides.
void reduce_all(ReduceOp op, const Tensor& x, Tensor& out);

}  // namespace cuda
}  // namespace glassnet

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
int device_count();       // 0 when there is no driver or no GPU
bool is_available();

// Caching allocator: freed blocks go back to a per-device pool, not to cudaFree.
void* allocate(size_t nbytes, int device);
void release(void* ptr, int device);
void empty_cache();
size_t memory_allocated(int device);

// Copies between host and device memory, or within one device (contiguous bytes).
void copy_host_to_device(void* dst, const void* src, size_t nbytes, int device);
void copy_device_to_host(void* dst, const void* src, size_t nbytes, int device);
void copy_device_to_device(void* dst, const void* src, size_t nbytes, int device);
void synchronize(int device);

// Kernels on contiguous tensors of one device (the CPU-side op validated them).
void fill(Tensor& out, double value);
void unary(UnaryOp op, const Tensor& x, Tensor& out);
void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out);  // broadcast strides
void reduce_all(ReduceOp op, const Tensor& x, Tensor& out);

}  // namespace cuda
}  // namespace glassnet

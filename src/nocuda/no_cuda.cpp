// The CUDA entry points for a build without CUDA: queries say "none", and
// everything that would touch a GPU raises one clear error.
#include "cuda_api.h"
#include "errors.h"

namespace glassnet::cuda {

namespace {
[[noreturn]] void unavailable(const char* what) {
  fail<RuntimeError>("[", what, "] glassnet was built without CUDA support; rebuild with nvcc on PATH "
                     "(or -DGLASSNET_CUDA=ON) to use cuda tensors");
}
}  // namespace

bool compiled() { return false; }
int device_count() { return 0; }
bool is_available() { return false; }
void* allocate(size_t, int) { unavailable("cuda allocate"); }
void release(void*, int) {}
void empty_cache() {}
size_t memory_allocated(int) { return 0; }
void copy_host_to_device(void*, const void*, size_t, int) { unavailable("copy to cuda"); }
void copy_device_to_host(void*, const void*, size_t, int) { unavailable("copy from cuda"); }
void copy_device_to_device(void*, const void*, size_t, int) { unavailable("cuda copy"); }
void synchronize(int) {}
void copy_strided(Tensor&, const Tensor&) { unavailable("copy_"); }
void fill(Tensor&, double) { unavailable("fill_"); }
void unary(UnaryOp, const Tensor&, Tensor&, double, double) { unavailable("cuda unary op"); }
void binary(BinaryOp, const Tensor&, const Tensor&, Tensor&) { unavailable("cuda binary op"); }
void reduce_all(ReduceOp, const Tensor&, Tensor&) { unavailable("cuda reduction"); }

}  // namespace glassnet::cuda

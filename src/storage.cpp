#include "storage.h"

#include <cstdlib>
#include <new>

#include "cuda_api.h"
#include "errors.h"

namespace glassnet {

namespace {
constexpr size_t kCpuAlignment = 64;  // a cache line, and the widest SIMD load
}

std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Device device) {
  if (device.is_cuda()) {
    void* ptr = cuda::allocate(nbytes, device.index);
    int index = device.index;
    return std::make_shared<Storage>(ptr, nbytes, device,
                                     [ptr, index] { cuda::release(ptr, index); });
  }
  // aligned_alloc wants a size that is a multiple of the alignment; never 0 so
  // that every storage has a distinct, valid pointer.
  size_t padded = (nbytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
  if (padded == 0) padded = kCpuAlignment;
  void* ptr = std::aligned_alloc(kCpuAlignment, padded);
  if (!ptr) throw std::bad_alloc();
  return std::make_shared<Storage>(ptr, nbytes, device, [ptr] { std::free(ptr); });
}

std::shared_ptr<Storage> Storage::wrap(void* data, size_t nbytes, Device device,
                                       std::function<void()> release) {
  return std::make_shared<Storage>(data, nbytes, device, std::move(release));
}

Storage::~Storage() {
  if (release_) release_();
}

}  // namespace glassnet

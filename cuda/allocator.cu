// A caching allocator, as PyTorch's: a released block goes back to a free
// list of its device keyed by its rounded size, and the next request of that
// size reuses it instead of paying for cudaMalloc/cudaFree (which also
// synchronise the device). empty_cache() returns the cached blocks to CUDA.
//
// Reuse is safe without events because every kernel and copy runs on the
// default stream: work queued on a block before its release finishes before
// work queued after its reuse.
#include <mutex>
#include <unordered_map>
#include <vector>

#include "common.cuh"
#include "cuda_api.h"

namespace glassnet::cuda {

namespace {

// Small requests round to 512 bytes so that similar sizes share a list;
// large ones to 2 MiB, which bounds the waste per block and keeps the number
// of distinct lists small.
size_t round_size(size_t nbytes) {
  constexpr size_t kSmall = 512, kLarge = size_t(2) << 20, kSmallLimit = size_t(1) << 20;
  const size_t unit = nbytes <= kSmallLimit ? kSmall : kLarge;
  return (nbytes + unit - 1) / unit * unit;
}

struct DevicePool {
  std::unordered_map<size_t, std::vector<void*>> free_blocks;  // rounded size -> cached blocks
  std::unordered_map<void*, size_t> live;                      // block -> rounded size
  size_t allocated = 0;                                        // bytes in live blocks
};

class Allocator {
 public:
  void* allocate(size_t nbytes, int device) {
    require_device(device, "cuda allocate");
    // Zero-byte tensors never touch their memory; they get no block.
    if (nbytes == 0) return nullptr;
    const size_t size = round_size(nbytes);
    std::lock_guard<std::mutex> lock(mutex_);
    DevicePool& pool = pool_for(device);
    void* ptr = nullptr;
    auto it = pool.free_blocks.find(size);
    if (it != pool.free_blocks.end() && !it->second.empty()) {
      ptr = it->second.back();
      it->second.pop_back();
    } else {
      DeviceGuard guard(device);
      cudaError_t err = cudaMalloc(&ptr, size);
      if (err == cudaErrorMemoryAllocation) {
        // Cached blocks of other sizes may be what is missing: give them back and retry once.
        cudaGetLastError();
        free_cached(device, pool);
        err = cudaMalloc(&ptr, size);
      }
      if (err == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        fail<RuntimeError>("[cuda allocate] out of memory: tried to allocate ", size, " bytes on cuda:", device,
                           " with ", pool.allocated, " bytes already in use by tensors");
      }
      check(err, "cudaMalloc");
    }
    pool.live.emplace(ptr, size);
    pool.allocated += size;
    return ptr;
  }

  // Runs from Storage's destructor, so it must not throw.
  void release(void* ptr, int device) noexcept {
    if (!ptr) return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (device < 0 || static_cast<size_t>(device) >= pools_.size()) return;
    DevicePool& pool = pools_[device];
    auto it = pool.live.find(ptr);
    if (it == pool.live.end()) return;
    const size_t size = it->second;
    pool.live.erase(it);
    pool.allocated -= size;
    try {
      pool.free_blocks[size].push_back(ptr);
    } catch (...) {
      // No memory for the list entry: hand the block straight back instead.
      int previous = 0;
      if (cudaGetDevice(&previous) == cudaSuccess) {
        cudaSetDevice(device);
        cudaFree(ptr);
        cudaSetDevice(previous);
      }
    }
  }

  void empty_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t d = 0; d < pools_.size(); ++d) free_cached(static_cast<int>(d), pools_[d]);
  }

  size_t memory_allocated(int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (device < 0 || static_cast<size_t>(device) >= pools_.size()) return 0;
    return pools_[device].allocated;
  }

 private:
  DevicePool& pool_for(int device) {
    if (static_cast<size_t>(device) >= pools_.size()) pools_.resize(device + 1);
    return pools_[device];
  }

  // Caller holds the mutex.
  void free_cached(int device, DevicePool& pool) {
    if (pool.free_blocks.empty()) return;
    DeviceGuard guard(device);
    // Free every block even if one fails, then report the first failure.
    cudaError_t first = cudaSuccess;
    for (auto& entry : pool.free_blocks)
      for (void* ptr : entry.second) {
        const cudaError_t err = cudaFree(ptr);
        if (first == cudaSuccess) first = err;
      }
    pool.free_blocks.clear();
    check(first, "cudaFree");
  }

  std::mutex mutex_;
  std::vector<DevicePool> pools_;  // indexed by device
};

// Never destroyed: tensors still alive at interpreter exit release into it
// after static destructors (and the CUDA runtime's teardown) have run.
Allocator& allocator() {
  static Allocator* instance = new Allocator();
  return *instance;
}

}  // namespace

void* allocate(size_t nbytes, int device) { return allocator().allocate(nbytes, device); }
void release(void* ptr, int device) { allocator().release(ptr, device); }
void empty_cache() { allocator().empty_cache(); }
size_t memory_allocated(int device) { return allocator().memory_allocated(device); }

}  // namespace glassnet::cuda

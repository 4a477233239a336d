#include "host_cache.h"

#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "fork_guard.h"

namespace glassnet::host_cache {

namespace {

constexpr size_t kMinBytes = size_t(64) << 10;
constexpr size_t kMaxCachedBytes = size_t(256) << 20;

struct Cache {
  std::mutex mutex;
  std::unordered_map<size_t, std::vector<void*>> free_blocks;  // by block size
  size_t bytes = 0;
};

// Leaked on purpose: tensors held by Python objects can die after static
// destructors have run.
Cache& cache() {
  static Cache* c = [] {
    ensure_fork_handlers();
    return new Cache;
  }();
  return *c;
}

}  // namespace

size_t block_size(size_t bytes) {
  if (bytes < kMinBytes) return bytes;
  size_t power = kMinBytes;
  while (power * 2 <= bytes) power *= 2;
  const size_t step = power / 4;
  return (bytes + step - 1) / step * step;
}

void* allocate(size_t bytes) {
  const size_t size = block_size(bytes);
  if (size >= kMinBytes) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    auto it = c.free_blocks.find(size);
    if (it != c.free_blocks.end() && !it->second.empty()) {
      void* block = it->second.back();
      it->second.pop_back();
      c.bytes -= size;
      return block;
    }
  }
  return std::malloc(size);
}

void release(void* block, size_t bytes) {
  const size_t size = block_size(bytes);
  if (size >= kMinBytes) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    if (c.bytes + size <= kMaxCachedBytes) {
      c.free_blocks[size].push_back(block);
      c.bytes += size;
      return;
    }
  }
  std::free(block);
}

size_t cached_bytes() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.bytes;
}

// Forks (DataLoader workers) take the lock first, as glibc does for its own
// arenas, so a child never inherits it held by a thread that does not exist
// there.
void lock_for_fork() { cache().mutex.lock(); }
void unlock_after_fork() { cache().mutex.unlock(); }

void clear() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  for (auto& [size, blocks] : c.free_blocks)
    for (void* block : blocks) std::free(block);
  c.free_blocks.clear();
  c.bytes = 0;
}

}  // namespace glassnet::host_cache

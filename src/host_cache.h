// A cache of large CPU memory blocks, kept for reuse when their tensors die.
//
// glibc gives big blocks back to the kernel when they are freed (munmap, or a
// trim of the heap top), so the next tensor of that size faults every page in
// again. Training allocates the same sizes step after step: an LSTM step took
// ~1000 page faults and ~2.5 ms of system time (a fault costs ~2 µs in this
// VM), on 11 ms of work. Blocks from 64 KiB up are therefore kept by size
// class (rounded up to a quarter of their power of two: at most 25% slack),
// up to 256 MiB in all; a block that would pass that is freed as before.
#pragma once

#include <cstddef>

namespace glassnet::host_cache {

// The size a block of `bytes` is allocated at: `bytes` itself below the
// cached range, else rounded up to its size class.
size_t block_size(size_t bytes);
// A block of block_size(bytes) bytes (from the cache when one is there), or
// null when malloc fails.
void* allocate(size_t bytes);
// Gives back a block from allocate(bytes): kept for reuse, or freed.
void release(void* block, size_t bytes);

// What the cache holds now, and a way to free it all (tests, memory pressure).
size_t cached_bytes();
void clear();

// fork_guard.cpp's handlers: the cache's lock is held across fork().
void lock_for_fork();
void unlock_after_fork();

}  // namespace glassnet::host_cache

// The core's one intra-op parallel-for. Kernels never start threads of their
// own: they call parallel_for, which splits [begin, end) into chunks of at
// least `grain` items and runs them on a persistent pool. Small ranges run
// inline on the caller, because waking a worker costs more than a few
// thousand elements of work.
//
// Work is handed out chunk by chunk from a shared counter, so a worker that
// the OS deschedules (another process holding the core) delays only the chunk
// it holds, not a whole static share. Idle workers spin briefly, then sleep.
#pragma once

#include <cstdint>
#include <functional>

namespace glassnet {

// Threads used by parallel_for, the caller included. Defaults to
// OMP_NUM_THREADS if set, else the number of hardware threads.
int get_num_threads();
void set_num_threads(int n);
// True while running inside a parallel_for chunk (nested calls run inline).
bool in_parallel_region();

namespace detail {
// Runs task(chunk) for chunk in [0, num_chunks) on the pool and the caller.
void run_chunks(int64_t num_chunks, const std::function<void(int64_t)>& task);
// fork_guard.cpp's handlers: wait for the job in flight and hold the pool
// across fork(); the child then starts a pool of its own on first use.
void lock_pool_for_fork();
void unlock_pool_after_fork(bool in_child);
}

// f(chunk_begin, chunk_end) over [begin, end).
template <class F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const F& f) {
  const int64_t n = end - begin;
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  const int threads = get_num_threads();
  if (threads <= 1 || n <= grain || in_parallel_region()) {
    f(begin, end);
    return;
  }
  // A few chunks per thread balance load without much hand-out overhead.
  int64_t chunks = (n + grain - 1) / grain;
  const int64_t max_chunks = static_cast<int64_t>(threads) * 4;
  if (chunks > max_chunks) chunks = max_chunks;
  const int64_t step = (n + chunks - 1) / chunks;
  chunks = (n + step - 1) / step;
  detail::run_chunks(chunks, [&](int64_t c) {
    const int64_t b = begin + c * step;
    const int64_t e = b + step < end ? b + step : end;
    f(b, e);
  });
}

}  // namespace glassnet

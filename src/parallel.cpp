#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define GLASSNET_PAUSE() _mm_pause()
#else
#define GLASSNET_PAUSE() ((void)0)
#endif

namespace glassnet {

namespace {

thread_local bool t_in_parallel = false;

int default_num_threads() {
  if (const char* env = std::getenv("OMP_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw ? static_cast<int>(hw) : 1;
}

// One job at a time. A job is its own small object: the caller publishes it
// under the mutex, bumps the generation and wakes the workers; every
// participant pulls chunk indices from the job's counter until they run out;
// the caller returns as soon as every chunk is done. A worker that woke late
// (descheduled by another process, say) still holds the job through its
// shared_ptr, finds no chunk left and leaves without touching the task, so the
// caller never waits for a thread that has no work.
struct Job {
  const std::function<void(int64_t)>* task = nullptr;
  int64_t num_chunks = 0;
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> done{0};
  std::mutex error_mutex;
  std::exception_ptr error;
};

class ThreadPool {
 public:
  explicit ThreadPool(int workers) { resize(workers); }
  ~ThreadPool() { stop_all(); }

  int workers() const { return static_cast<int>(threads_.size()); }

  void resize(int workers) {
    stop_all();
    stopping_ = false;
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { worker_loop(); });
  }

  void run(int64_t num_chunks, const std::function<void(int64_t)>& task) {
    std::lock_guard<std::mutex> run_guard(run_mutex_);  // one job at a time
    auto job = std::make_shared<Job>();
    job->task = &task;
    job->num_chunks = num_chunks;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = job;
      generation_.fetch_add(1);
    }
    cv_.notify_all();
    work_on_chunks(*job);
    // Wait for chunks still running on workers: spin a little, then yield.
    int spins = 0;
    while (job->done.load(std::memory_order_acquire) < num_chunks) {
      if (++spins < 4000) GLASSNET_PAUSE();
      else std::this_thread::yield();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_.reset();  // a worker waking from now on finds nothing to join
    }
    if (job->error) std::rethrow_exception(job->error);
  }

 private:
  static void work_on_chunks(Job& job) {
    const bool was_inside = t_in_parallel;
    t_in_parallel = true;
    for (;;) {
      const int64_t c = job.next.fetch_add(1);
      if (c >= job.num_chunks) break;
      try {
        (*job.task)(c);
      } catch (...) {
        std::lock_guard<std::mutex> lock(job.error_mutex);
        if (!job.error) job.error = std::current_exception();
      }
      job.done.fetch_add(1, std::memory_order_release);
    }
    t_in_parallel = was_inside;
  }

  void worker_loop() {
    uint64_t seen = generation_.load();
    for (;;) {
      // Spin briefly for the next job (training issues them back to back),
      // then sleep so an idle pool never steals a core from anyone else.
      bool woke = false;
      for (int i = 0; i < 20000 && !woke; ++i) {
        if (generation_.load(std::memory_order_acquire) != seen || stopping_.load()) woke = true;
        else GLASSNET_PAUSE();
      }
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [&] { return stopping_.load() || generation_.load() != seen; });
        if (stopping_.load()) return;
        seen = generation_.load();
        job = job_;
      }
      if (job) work_on_chunks(*job);
    }
  }

  void stop_all() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  std::vector<std::thread> threads_;
  std::mutex run_mutex_, mutex_;
  std::condition_variable cv_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};
  std::shared_ptr<Job> job_;  // the job being run, guarded by mutex_
};

std::atomic<int> g_num_threads{0};
std::mutex g_pool_mutex;
ThreadPool* g_pool = nullptr;  // leaked on purpose: workers must outlive static destructors

ThreadPool& pool(int workers) {
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  if (!g_pool) g_pool = new ThreadPool(workers);
  else if (g_pool->workers() != workers) g_pool->resize(workers);
  return *g_pool;
}

}  // namespace

int get_num_threads() {
  int n = g_num_threads.load();
  if (n == 0) {
    n = default_num_threads();
    g_num_threads.store(n);
  }
  return n;
}

void set_num_threads(int n) { g_num_threads.store(std::max(1, n)); }

bool in_parallel_region() { return t_in_parallel; }

namespace detail {
void run_chunks(int64_t num_chunks, const std::function<void(int64_t)>& task) {
  pool(get_num_threads() - 1).run(num_chunks, task);
}

namespace {

using Clock = std::chrono::steady_clock;

// One block's claim: the last step it was claimed for. Each on its own cache
// line, so that claiming one block does not slow the owner of another.
struct alignas(64) BlockClaim {
  std::atomic<int64_t> step{-1};
};

// A wait at the barrier this much longer than a block takes means the
// participant we wait for lost its core (another process runs there): it
// will be back only after the scheduler's time slice, milliseconds.
constexpr auto kStallSlack = std::chrono::microseconds(200);
constexpr int64_t kStallBlocks = 4;

}  // namespace

void run_steps(int64_t steps, int64_t blocks, const std::function<void(int64_t, int64_t)>& task) {
  const int64_t participants = std::min<int64_t>(get_num_threads(), blocks);
  std::unique_ptr<BlockClaim[]> claims(new BlockClaim[static_cast<size_t>(blocks)]);
  alignas(64) std::atomic<int64_t> done{0};  // blocks finished, over all steps
  // After a stall, the participant that waited runs the remaining steps
  // alone; the others leave. So a preempted participant costs one wait per
  // sequence, not one at every later step it happens to be preempted in.
  alignas(64) std::atomic<int64_t> solo{-1};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::exception_ptr error;

  // Block b of step s is free iff its claim still says s - 1: every block of
  // step s - 1 was claimed (and finished) before anyone entered step s.
  auto try_block = [&](int64_t s, int64_t b) {
    int64_t expected = s - 1;
    if (!claims[b].step.compare_exchange_strong(expected, s, std::memory_order_acq_rel)) return;
    // After a failure the remaining blocks are only counted, so nobody waits forever.
    if (!failed.load(std::memory_order_relaxed)) {
      try {
        task(s, b);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        failed.store(true, std::memory_order_relaxed);
      }
    }
    done.fetch_add(1, std::memory_order_acq_rel);
  };
  // Whether participant `me` may go on claiming blocks.
  auto mine_to_run = [&](int64_t me) {
    const int64_t who = solo.load(std::memory_order_acquire);
    return who < 0 || who == me;
  };

  run_chunks(participants, [&](int64_t me) {
    Clock::duration block_time{0};  // this participant's last step, per block
    for (int64_t s = 0; s < steps; ++s) {
      // The barrier: every block of step s - 1 done. Spin (a step is tens of
      // microseconds), then yield the core in case whoever we wait for is
      // queued behind us on it; past the stall limit, take over alone.
      const int64_t target = s * blocks;
      const Clock::time_point wait_start = Clock::now();
      const Clock::duration patience = kStallSlack + kStallBlocks * block_time;
      for (int spins = 0; done.load(std::memory_order_acquire) < target; ++spins) {
        if (spins < 2000) GLASSNET_PAUSE();
        else std::this_thread::yield();
        if ((spins & 63) == 63 && solo.load(std::memory_order_relaxed) < 0 &&
            Clock::now() - wait_start > patience) {
          int64_t none = -1;
          solo.compare_exchange_strong(none, me, std::memory_order_acq_rel);
        }
      }
      if (!mine_to_run(me)) return;
      const Clock::time_point start = Clock::now();
      int64_t ran = 0;
      for (int64_t b = me; b < blocks; b += participants, ++ran) try_block(s, b);  // own blocks
      for (int64_t b = 0; b < blocks; ++b) {  // whatever is left
        if (b % participants == me) continue;
        if (!mine_to_run(me)) return;
        try_block(s, b);
      }
      block_time = (Clock::now() - start) / std::max<int64_t>(ran, 1);
    }
  });
  if (error) std::rethrow_exception(error);
}
}  // namespace detail

}  // namespace glassnet

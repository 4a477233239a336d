#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
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

// One job at a time: the caller publishes it under the mutex, bumps the
// generation and wakes the workers; every participant pulls chunk indices from
// `next_` until they run out; the caller waits until all chunks are done.
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
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task_ = &task;
      num_chunks_ = num_chunks;
      next_.store(0);
      done_.store(0);
      error_ = nullptr;
      generation_.fetch_add(1);
    }
    cv_.notify_all();
    work_on_chunks();
    // Wait for chunks still running on workers: spin a little, then yield.
    int spins = 0;
    while (done_.load(std::memory_order_acquire) < num_chunks) {
      if (++spins < 4000) GLASSNET_PAUSE();
      else std::this_thread::yield();
    }
    {
      // No worker may join this job after this point; wait for the ones that
      // did to leave, so none can touch the counters of the next job.
      std::lock_guard<std::mutex> lock(mutex_);
      task_ = nullptr;
    }
    while (active_.load(std::memory_order_acquire) > 0) std::this_thread::yield();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void work_on_chunks() {
    const bool was_inside = t_in_parallel;
    t_in_parallel = true;
    for (;;) {
      int64_t c = next_.fetch_add(1);
      if (c >= num_chunks_) break;
      try {
        (*task_.load())(c);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex_);
        if (!error_) error_ = std::current_exception();
      }
      done_.fetch_add(1, std::memory_order_release);
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
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return stopping_.load() || generation_.load() != seen; });
      if (stopping_.load()) return;
      seen = generation_.load();
      if (!task_) continue;
      active_.fetch_add(1);
      lock.unlock();
      work_on_chunks();
      active_.fetch_sub(1, std::memory_order_release);
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
  std::mutex run_mutex_, mutex_, error_mutex_;
  std::condition_variable cv_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<const std::function<void(int64_t)>*> task_{nullptr};
  std::atomic<int64_t> num_chunks_{0};
  std::atomic<int64_t> next_{0};
  std::atomic<int64_t> done_{0};
  std::atomic<int> active_{0};  // workers inside work_on_chunks
  std::exception_ptr error_;
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
}  // namespace detail

}  // namespace glassnet

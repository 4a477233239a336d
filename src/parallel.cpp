#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "fork_guard.h"

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

  // Held across fork() (see lock_pool_for_fork): no job is in flight while it is.
  void lock_jobs() { run_mutex_.lock(); }
  void unlock_jobs() { run_mutex_.unlock(); }

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
  ensure_fork_handlers();
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

// fork() copies only the calling thread: a child (a DataLoader worker, say)
// would inherit a pool whose workers do not exist and whose locks another
// thread may have held at that instant. The parent waits for the job in
// flight (the job lock) and the child leaves the copied pool untouched.
void lock_pool_for_fork() {
  g_pool_mutex.lock();
  if (g_pool) g_pool->lock_jobs();
}

void unlock_pool_after_fork(bool in_child) {
  if (in_child) g_pool = nullptr;
  else if (g_pool) g_pool->unlock_jobs();
  g_pool_mutex.unlock();
}
}  // namespace detail

}  // namespace glassnet

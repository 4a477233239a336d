// Tests of the core's pool (src/parallel.h): parallel_for covers its range
// once, and parallel_steps runs every (step, block) once with each step's
// blocks after all of the previous step's, for any mix of blocks and
// threads, with a participant that stalls inside a block (as one the OS
// deschedules), with an exception in a block, and nested in a parallel_for.
// Built and run by tests/test_parallel.py (it needs only src/parallel.cpp).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "parallel.h"

using namespace glassnet;

namespace {

int g_failures = 0, g_checks = 0;

void check(bool ok, const std::string& what) {
  ++g_checks;
  if (!ok) {
    ++g_failures;
    std::printf("FAIL: %s\n", what.c_str());
  }
}

// Runs parallel_steps and checks the recurrence contract: when block b of
// step s starts, every block of step s-1 has finished; each pair runs once.
// `stall(s, b)` is called inside the block (to make it slow).
template <class Stall>
void check_steps(int threads, int64_t steps, int64_t blocks, const Stall& stall, const std::string& name) {
  set_num_threads(threads);
  std::unique_ptr<std::atomic<int>[]> runs(new std::atomic<int>[static_cast<size_t>(steps * blocks)]);
  std::unique_ptr<std::atomic<int64_t>[]> finished(new std::atomic<int64_t>[static_cast<size_t>(steps)]);
  for (int64_t i = 0; i < steps * blocks; ++i) runs[i] = 0;
  for (int64_t s = 0; s < steps; ++s) finished[s] = 0;
  std::atomic<int> out_of_order{0};
  std::atomic<bool> others{false};
  const auto caller = std::this_thread::get_id();
  parallel_steps(steps, blocks, [&](int64_t s, int64_t b) {
    if (s > 0 && finished[s - 1].load() != blocks) out_of_order.fetch_add(1);
    if (std::this_thread::get_id() != caller) others = true;
    stall(s, b);
    runs[s * blocks + b].fetch_add(1);
    finished[s].fetch_add(1);
  });
  bool once = true;
  for (int64_t i = 0; i < steps * blocks; ++i) once = once && runs[i].load() == 1;
  check(once, name + ": every (step, block) runs exactly once");
  check(out_of_order.load() == 0, name + ": a step starts after every block of the step before");
  if (threads == 1) check(!others.load(), name + ": one thread runs everything on the caller");
}

void no_stall(int64_t, int64_t) {}

}  // namespace

int main() {
  const auto tiny_work = [](int64_t, int64_t) {
    volatile double x = 0;
    for (int i = 0; i < 2000; ++i) x = x + i;
  };
  const auto work = [](int64_t, int64_t) {  // ~50 µs
    volatile double x = 0;
    for (int i = 0; i < 50000; ++i) x = x + i;
  };
  for (int threads : {1, 2, 3, 4}) {
    for (int64_t blocks : {1, 2, 3, 5}) {
      const std::string name = std::to_string(threads) + " threads, " + std::to_string(blocks) + " blocks";
      check_steps(threads, 200, blocks, no_stall, name);
      check_steps(threads, 50, blocks, tiny_work, name + ", some work");
    }
  }
  check_steps(2, 0, 2, no_stall, "no steps");

  // A participant stalls (descheduled, say) in its block now and then: the
  // others wait for that block only, and nothing runs twice or early.
  const auto caller = std::this_thread::get_id();
  check_steps(2, 40, 2, [&](int64_t s, int64_t) {
    if (s % 10 == 3 && std::this_thread::get_id() != caller) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }, "a worker that stalls");
  check_steps(3, 40, 4, [&](int64_t s, int64_t b) {
    if (s % 7 == 1 && b == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }, "a block that stalls");

  // After a participant stalls for milliseconds, the one that waited for it
  // finishes the sequence alone instead of waiting at every later step.
  // Needs the worker to get a core: on a machine busy with other processes
  // it may run no block at all, so the scene is retried a few times.
  {
    set_num_threads(2);
    int tries = 0;
    std::atomic<int64_t> stalled_at{-1}, worker_after_stall{0};
    for (; tries < 20 && stalled_at.load() < 0; ++tries) {
      parallel_steps(60, 2, [&](int64_t s, int64_t b) {
        work(s, b);  // long enough for each thread to claim its own block
        if (std::this_thread::get_id() == caller) return;
        const int64_t at = stalled_at.load();
        if (at >= 0 && s > at) worker_after_stall.fetch_add(1);
        if (s >= 5 && at < 0) {
          stalled_at = s;
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      });
    }
    if (stalled_at.load() >= 0)
      check(worker_after_stall.load() == 0, "after a 20 ms stall the stalled worker runs no later step");
    else
      std::printf("note: the worker never got a core in %d tries; stall check skipped\n", tries);
  }

  // An exception in a block comes back to the caller; the pool still works.
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    std::string message;
    std::atomic<int64_t> after{0};
    try {
      parallel_steps(100, 2, [&](int64_t s, int64_t b) {
        if (s == 7 && b == 1) throw std::runtime_error("step 7 failed");
        if (s > 8) after.fetch_add(1);
      });
    } catch (const std::runtime_error& e) {
      message = e.what();
    }
    check(message == "step 7 failed", std::to_string(threads) + " threads: the block's exception reaches the caller");
    check(after.load() == 0, std::to_string(threads) + " threads: no block runs two steps after a failure");
    std::atomic<int64_t> sum{0};
    parallel_for(0, 1000, 10, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) sum.fetch_add(i);
    });
    check(sum.load() == 999 * 1000 / 2, "parallel_for after a failed parallel_steps");
  }

  // Nested in a parallel_for chunk: runs inline, in order.
  set_num_threads(2);
  std::atomic<int> nested_bad{0};
  parallel_for(0, 2, 1, [&](int64_t, int64_t) {
    int64_t expect = 0;
    parallel_steps(20, 3, [&](int64_t s, int64_t b) {
      if (s * 3 + b != expect++) nested_bad.fetch_add(1);
    });
  });
  check(nested_bad.load() == 0, "nested parallel_steps runs in order on its thread");

  std::printf("%d checks, %d failures\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}

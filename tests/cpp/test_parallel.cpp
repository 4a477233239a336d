// Tests of the core's pool (src/parallel.h): parallel_for covers its range
// exactly once in chunks of at least `grain` items for any thread count,
// runs nested calls inline, brings a chunk's exception back to the caller,
// and does not wait on a worker that has no chunk (one that stalls or wakes
// late: the caller takes the chunks left). Built and run by
// tests/test_parallel.py (it needs only src/parallel.cpp).
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

// Every index of [begin, end) once; chunks of ≥ grain items except the last.
void check_cover(int threads, int64_t begin, int64_t end, int64_t grain) {
  set_num_threads(threads);
  const int64_t n = end - begin;
  std::unique_ptr<std::atomic<int>[]> hits(new std::atomic<int>[static_cast<size_t>(n > 0 ? n : 1)]);
  for (int64_t i = 0; i < n; ++i) hits[i] = 0;
  std::atomic<int> bad_chunk{0}, short_chunks{0};
  parallel_for(begin, end, grain, [&](int64_t b, int64_t e) {
    if (b < begin || e > end || b >= e) bad_chunk.fetch_add(1);
    if (e - b < grain) short_chunks.fetch_add(1);
    for (int64_t i = b; i < e && i >= begin && i < end; ++i) hits[i - begin].fetch_add(1);
  });
  bool once = true;
  for (int64_t i = 0; i < n; ++i) once = once && hits[i].load() == 1;
  const std::string name = std::to_string(threads) + " threads, [" + std::to_string(begin) + ", " +
                           std::to_string(end) + "), grain " + std::to_string(grain);
  check(once, name + ": every index once");
  check(bad_chunk.load() == 0, name + ": chunks inside the range and not empty");
  check(short_chunks.load() <= 1, name + ": at most one chunk shorter than the grain");
}

}  // namespace

int main() {
  for (int threads : {1, 2, 3, 4})
    for (int64_t n : {0, 1, 7, 64, 1000, 4097})
      for (int64_t grain : {1, 8, 100}) check_cover(threads, 5, 5 + n, grain);

  // Nested in a chunk: runs inline on that chunk's thread, as one chunk.
  set_num_threads(2);
  std::atomic<int> nested_bad{0};
  parallel_for(0, 4, 1, [&](int64_t, int64_t) {
    const auto me = std::this_thread::get_id();
    int calls = 0;
    parallel_for(0, 1000, 1, [&](int64_t b, int64_t e) {
      ++calls;
      if (b != 0 || e != 1000 || std::this_thread::get_id() != me || !in_parallel_region()) nested_bad.fetch_add(1);
    });
    if (calls != 1) nested_bad.fetch_add(1);
  });
  check(nested_bad.load() == 0, "a nested parallel_for runs inline as one chunk");
  check(!in_parallel_region(), "outside any chunk after the call");

  // An exception in a chunk comes back to the caller; the pool still works.
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    std::string message;
    try {
      parallel_for(0, 100, 1, [&](int64_t b, int64_t e) {
        if (b <= 42 && 42 < e) throw std::runtime_error("chunk with 42 failed");
      });
    } catch (const std::runtime_error& e) {
      message = e.what();
    }
    check(message == "chunk with 42 failed", std::to_string(threads) + " threads: the exception reaches the caller");
    std::atomic<int64_t> sum{0};
    parallel_for(0, 1000, 10, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) sum.fetch_add(i);
    });
    check(sum.load() == 999 * 1000 / 2, std::to_string(threads) + " threads: parallel_for after a failure");
  }

  // A worker that stalls in its chunk (as one the OS deschedules) delays only
  // that chunk: the caller takes every other chunk meanwhile.
  {
    set_num_threads(2);
    const auto caller = std::this_thread::get_id();
    std::atomic<int> worker_chunks{0}, caller_chunks{0};
    parallel_for(0, 8, 1, [&](int64_t, int64_t) {
      if (std::this_thread::get_id() != caller) {
        worker_chunks.fetch_add(1);
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
      } else {
        caller_chunks.fetch_add(1);
      }
    });
    check(worker_chunks.load() <= 1, "a stalled worker holds at most one chunk");
    check(worker_chunks.load() + caller_chunks.load() == 8, "all chunks ran once");
  }

  std::printf("%d checks, %d failures\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}

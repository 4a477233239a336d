#include "cpu.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <vector>

#include "parallel.h"

namespace glassnet {

bool cpu_has_avx2_fma() {
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return has;
#else
  return false;
#endif
}

bool cpu_has_avx512() {
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  }();
  return has;
#else
  return false;
#endif
}

double measure_fma_peak_gflops(int threads, double seconds) {
#if defined(__x86_64__) || defined(_M_X64)
  if (!cpu_has_avx2_fma()) return 0.0;
  threads = std::max(1, std::min(threads, get_num_threads()));
  // Calibrate one chunk to ~10 ms on this thread, then run `threads` chunks at
  // once, repeatedly, and keep the best round: the peak, not the average of
  // whatever else the machine was doing.
  int64_t iterations = 1 << 16;
  for (;;) {
    const auto t0 = std::chrono::steady_clock::now();
    fma_peak_loop(iterations);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (dt > 0.01) break;
    iterations *= 2;
  }
  double best = 0.0;
  const auto start = std::chrono::steady_clock::now();
  do {
    std::atomic<double> flops{0.0};
    const auto t0 = std::chrono::steady_clock::now();
    detail::run_chunks(threads, [&](int64_t) {
      const double f = fma_peak_loop(iterations);
      double cur = flops.load();
      while (!flops.compare_exchange_weak(cur, cur + f)) {
      }
    });
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, flops.load() / dt * 1e-9);
  } while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds);
  return best;
#else
  (void)threads;
  (void)seconds;
  return 0.0;
#endif
}

}  // namespace glassnet

// The two loops every reduction runs over a ReducePlan (reduce_plan.h), generic
// over an accumulation policy:
//
//   struct Policy {
//     using Acc   = ...;   // what a lane accumulates in
//     using Total = ...;   // what lanes are merged into (double for float sums)
//     static Acc init();
//     template <class A> static A step(A acc, T value);
//     template <class A> static A merge(A a, A b);
//   };
//
// Rows (inner == 1) accumulate in 16 independent lanes, which the compiler
// keeps in vector registers, and fold each 4096-element block into a Total,
// so long float sums stay accurate. Columns (inner > 1) keep one Total per
// column and add whole rows into it: a contiguous, vectorisable inner loop.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <type_traits>

#include "cpu.h"
#include "ops/reduce_plan.h"
#include "parallel.h"

namespace glassnet::reduce_detail {

// float sums accumulate lanes in float and blocks in double; integers and
// bools sum as int64, as torch does.
template <class T>
struct SumPolicy {
  using Acc = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;
  using Total = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
  static Acc init() { return 0; }
  template <class A> static A step(A acc, T v) { return acc + static_cast<A>(v); }
  template <class A> static A merge(A a, A b) { return a + b; }
};

template <class T>
struct ProdPolicy {
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
  using Total = Acc;
  static Acc init() { return 1; }
  template <class A> static A step(A acc, T v) { return acc * static_cast<A>(v); }
  template <class A> static A merge(A a, A b) { return a * b; }
};

// NaN propagates: once an accumulator holds NaN, nothing replaces it.
template <class T, bool kMax>
struct ExtremePolicy {
  using Acc = T;
  using Total = T;
  static Acc init() {
    if constexpr (std::is_same_v<T, bool>) return !kMax;
    else if constexpr (std::is_floating_point_v<T>)
      return kMax ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
    else return kMax ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
  }
  template <class A> static A step(A acc, T v) {
    // Bitwise | rather than ||: no branch, so the lanes vectorise to compare + blend.
    const bool take = (kMax ? (v > acc) : (v < acc)) | (v != v);
    return take ? v : acc;
  }
  template <class A> static A merge(A a, A b) { return step(a, b); }
};

// Hand-vectorised float32 extremes (reduce_avx2.cpp, x86-64 with AVX2 only).
float row_max_f32_avx2(const float* x, int64_t n);
float row_min_f32_avx2(const float* x, int64_t n);
void cols_max_f32_avx2(float* acc, const float* row, int64_t w);
void cols_min_f32_avx2(float* acc, const float* row, int64_t w);

template <class Policy>
constexpr int kFloatExtreme = std::is_same_v<Policy, ExtremePolicy<float, true>>    ? 1
                              : std::is_same_v<Policy, ExtremePolicy<float, false>> ? -1
                                                                                    : 0;

constexpr int64_t kGrain = 32768;      // elements per thread chunk, at least
constexpr int64_t kBlock = 4096;       // row elements folded into one Total
constexpr int64_t kColumnTile = 512;   // columns per task in column mode

template <class Policy, class T>
typename Policy::Total reduce_row(const T* x, int64_t n) {
  using Acc = typename Policy::Acc;
  using Total = typename Policy::Total;
#if defined(__x86_64__) || defined(_M_X64)
  if constexpr (kFloatExtreme<Policy> != 0) {
    if (cpu_has_avx2_fma()) return kFloatExtreme<Policy> > 0 ? row_max_f32_avx2(x, n) : row_min_f32_avx2(x, n);
  }
#endif
  constexpr int kLanes = 16;
  Total total = static_cast<Total>(Policy::init());
  int64_t i = 0;
  while (i < n) {
    const int64_t block_end = std::min(n, i + kBlock);
    Acc lane[kLanes];
    for (int j = 0; j < kLanes; ++j) lane[j] = Policy::init();
    for (; i + kLanes <= block_end; i += kLanes)
      for (int j = 0; j < kLanes; ++j) lane[j] = Policy::step(lane[j], x[i + j]);
    Acc block = lane[0];
    for (int j = 1; j < kLanes; ++j) block = Policy::merge(block, lane[j]);
    for (; i < block_end; ++i) block = Policy::step(block, x[i]);
    total = Policy::merge(total, static_cast<Total>(block));
  }
  return total;
}

// out(o, i) = finish(total over r of x[o, r, i]) for every output.
template <class Policy, class T, class Out, class Finish>
void reduce_plan_into(const ReducePlan& p, Out* out, const Finish& finish) {
  using Total = typename Policy::Total;
  const T* x = p.x.template data<T>();
  if (p.outer * p.inner == 0) return;
  if (p.inner == 1) {
    if (p.outer >= get_num_threads() || p.len < 4 * kGrain) {
      parallel_for(0, p.outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(p.len, 1)),
                   [&](int64_t b, int64_t e) {
                     for (int64_t o = b; o < e; ++o) out[o] = finish(reduce_row<Policy>(x + o * p.len, p.len));
                   });
      return;
    }
    // Few long rows: split each row over the threads and merge the partials.
    const int64_t chunks = std::min<int64_t>(get_num_threads() * 4, p.len / kGrain);
    const int64_t step = (p.len + chunks - 1) / chunks;
    std::unique_ptr<Total[]> partial(new Total[chunks]);  // not vector<bool>: bool totals must be addressable
    for (int64_t o = 0; o < p.outer; ++o) {
      const T* row = x + o * p.len;
      detail::run_chunks(chunks, [&](int64_t c) {
        const int64_t b = c * step, e = std::min(p.len, b + step);
        partial[c] = b < e ? reduce_row<Policy>(row + b, e - b) : static_cast<Total>(Policy::init());
      });
      Total total = partial[0];
      for (int64_t c = 1; c < chunks; ++c) total = Policy::merge(total, partial[c]);
      out[o] = finish(total);
    }
    return;
  }
  const int64_t tiles = (p.inner + kColumnTile - 1) / kColumnTile;
  const int64_t work_per_task = p.len * std::min(p.inner, kColumnTile);
  parallel_for(0, p.outer * tiles, std::max<int64_t>(1, kGrain / std::max<int64_t>(work_per_task, 1)),
               [&](int64_t b, int64_t e) {
                 Total acc[kColumnTile];
                 for (int64_t task = b; task < e; ++task) {
                   const int64_t o = task / tiles;
                   const int64_t i0 = (task % tiles) * kColumnTile;
                   const int64_t w = std::min(kColumnTile, p.inner - i0);
                   for (int64_t i = 0; i < w; ++i) acc[i] = static_cast<Total>(Policy::init());
                   const T* base = x + o * p.len * p.inner + i0;
                   for (int64_t r = 0; r < p.len; ++r) {
                     const T* row = base + r * p.inner;
#if defined(__x86_64__) || defined(_M_X64)
                     if constexpr (kFloatExtreme<Policy> != 0) {
                       if (cpu_has_avx2_fma()) {
                         if (kFloatExtreme<Policy> > 0) cols_max_f32_avx2(acc, row, w);
                         else cols_min_f32_avx2(acc, row, w);
                         continue;
                       }
                     }
#endif
                     for (int64_t i = 0; i < w; ++i) acc[i] = Policy::step(acc[i], row[i]);
                   }
                   Out* dst = out + o * p.inner + i0;
                   for (int64_t i = 0; i < w; ++i) dst[i] = finish(acc[i]);
                 }
               });
}

}  // namespace glassnet::reduce_detail

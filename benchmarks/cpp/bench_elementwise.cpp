// Elementwise, activation, reduction and softmax kernels of the core on
// float32 tensors, without Python: GB/s counters (bytes read + written per
// call) so a kernel can be compared with memcpy and profiled with perf or
// valgrind on its own.
//
//   ./bench_elementwise --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   The last argument of each benchmark is the thread count.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "parallel.h"
#include "random.h"
#include "tensor.h"

namespace {

using namespace glassnet;

Tensor random_tensor(const Shape& shape) {
  Tensor t = Tensor::empty(shape, DType::Float32);
  normal_(t, 0.0, 1.0);
  return t;
}

// Bytes read and written per call, reported by Google Benchmark as bytes/s.
void finish(benchmark::State& state, int64_t bytes_per_call) {
  state.SetBytesProcessed(state.iterations() * bytes_per_call);
}

void BM_Memcpy(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::vector<float> src(n, 1.f), dst(n);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), n * sizeof(float));
    benchmark::DoNotOptimize(dst.data());
  }
  finish(state, 2 * n * 4);
}

void BM_Binary(benchmark::State& state, BinaryOp op) {
  set_num_threads(static_cast<int>(state.range(1)));
  const int64_t n = state.range(0);
  const Tensor a = random_tensor({n}), b = random_tensor({n});
  for (auto _ : state) benchmark::DoNotOptimize(binary(op, a, b).raw_data());
  finish(state, 3 * n * 4);
}

void BM_Unary(benchmark::State& state, UnaryOp op) {
  set_num_threads(static_cast<int>(state.range(1)));
  const int64_t n = state.range(0);
  const Tensor x = random_tensor({n});
  for (auto _ : state) benchmark::DoNotOptimize(unary(op, x).raw_data());
  finish(state, 2 * n * 4);
}

void BM_Reduce(benchmark::State& state, ReduceOp op) {
  set_num_threads(static_cast<int>(state.range(1)));
  const int64_t n = state.range(0);
  const Tensor x = random_tensor({n});
  for (auto _ : state) benchmark::DoNotOptimize(reduce(op, x, {}, false).raw_data());
  finish(state, n * 4);
}

// Rows of 1024: the shape of a classifier's logits for a large batch.
void BM_SoftmaxRows(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(1)));
  const int64_t rows = state.range(0) / 1024;
  const Tensor x = random_tensor({rows, 1024});
  for (auto _ : state) benchmark::DoNotOptimize(softmax(x, 1).raw_data());
  finish(state, 2 * rows * 1024 * 4);
}

constexpr int64_t kElements = 1 << 20;

void sizes_and_threads(benchmark::internal::Benchmark* b) {
  b->ArgNames({"n", "threads"})->Args({kElements, 1})->Args({kElements, 2})->UseRealTime();
}

BENCHMARK(BM_Memcpy)->Name("memcpy")->Arg(kElements)->ArgName("n");
BENCHMARK_CAPTURE(BM_Binary, add, BinaryOp::Add)->Apply(sizes_and_threads);
BENCHMARK_CAPTURE(BM_Binary, mul, BinaryOp::Mul)->Apply(sizes_and_threads);
BENCHMARK_CAPTURE(BM_Unary, exp, UnaryOp::Exp)->Apply(sizes_and_threads);
BENCHMARK_CAPTURE(BM_Unary, tanh, UnaryOp::Tanh)->Apply(sizes_and_threads);
BENCHMARK_CAPTURE(BM_Unary, relu, UnaryOp::Relu)->Apply(sizes_and_threads);
BENCHMARK_CAPTURE(BM_Unary, sigmoid, UnaryOp::Sigmoid)->Apply(sizes_and_threads);
BENCHMARK_CAPTURE(BM_Reduce, sum, ReduceOp::Sum)->Apply(sizes_and_threads);
BENCHMARK_CAPTURE(BM_Reduce, max, ReduceOp::Max)->Apply(sizes_and_threads);
BENCHMARK(BM_SoftmaxRows)->Name("softmax_rows_1024")->Apply(sizes_and_threads);

}  // namespace

BENCHMARK_MAIN();

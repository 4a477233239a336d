// GEMM benchmarks: squares, the MNIST-MLP shape (4096×784)·(784×256) in its
// NN, TN (grad_W = gᵀ·x) and NT (linear forward x·Wᵀ) forms, small training
// shapes, the micro-kernel alone, packing alone and the FMA peak. Rates are
// GFLOP/s (2·M·N·K per call); threaded runs use real time. Each GEMM
// configuration is checked against gemm_reference on a few rows before it is
// timed.
//
//   ./bench_gemm --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   (medians: the _median rows). The last argument of each GEMM is the thread count.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <vector>

#include "cpu.h"
#include "gemm/gemm.h"
#include "gemm/kernel.h"
#include "gemm/pack.h"
#include "parallel.h"

namespace {

using namespace glassnet::gemm;

std::vector<float> random_vector(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Transposition codes: 0 NN, 1 TN (A stored K×M), 2 NT (B stored N×K), 3 TT.
struct Operands {
  int64_t M, N, K;
  std::vector<float> A, B, C;
  int64_t rsA, csA, rsB, csB;
  Operands(int64_t M_, int64_t N_, int64_t K_, int trans) : M(M_), N(N_), K(K_) {
    A = random_vector(M * K, 1);
    B = random_vector(K * N, 2);
    C.assign(M * N, 0.f);
    const bool ta = trans & 1, tb = trans & 2;
    rsA = ta ? 1 : K; csA = ta ? M : 1;
    rsB = tb ? 1 : N; csB = tb ? K : 1;
  }
  void run() {
    gemm<float>(M, N, K, 1.f, A.data(), rsA, csA, B.data(), rsB, csB, 0.f, C.data(), N, 1);
  }
  // The first and last few rows against the reference.
  void check() {
    run();
    for (int64_t i0 : {int64_t(0), std::max<int64_t>(0, M - 3)}) {
      const int64_t rows = std::min<int64_t>(3, M - i0);
      std::vector<float> ref(rows * N);
      gemm_reference<float>(rows, N, K, 1.f, A.data() + i0 * rsA, rsA, csA, B.data(), rsB, csB,
                            0.f, ref.data(), N, 1);
      for (int64_t i = 0; i < rows * N; ++i)
        if (std::abs(ref[i] - C[i0 * N + i]) > 1e-5f * float(K) + 1e-5f)
          throw std::runtime_error("bench_gemm: result differs from gemm_reference");
    }
  }
};

void set_flops(benchmark::State& state, double flops_per_iter) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops_per_iter * 1e-9 * double(state.iterations()), benchmark::Counter::kIsRate);
}

// Args: M, N, K, trans, threads.
void BM_Gemm(benchmark::State& state) {
  Operands op(state.range(0), state.range(1), state.range(2), static_cast<int>(state.range(3)));
  glassnet::set_num_threads(static_cast<int>(state.range(4)));
  op.check();
  for (auto _ : state) {
    op.run();
    benchmark::DoNotOptimize(op.C.data());
    benchmark::ClobberMemory();
  }
  set_flops(state, 2.0 * op.M * op.N * op.K);
}

void square_args(benchmark::internal::Benchmark* b) {
  for (int64_t n : {256, 512, 1024, 2048})
    for (int64_t t : {1, 2}) b->Args({n, n, n, 0, t});
}
void mlp_args(benchmark::internal::Benchmark* b) {
  for (int64_t t : {1, 2}) {
    b->Args({4096, 256, 784, 0, t});  // NN: (4096×784)·(784×256)
    b->Args({784, 256, 4096, 1, t});  // TN: grad_W = xᵀ·g, A stored 4096×784
    b->Args({4096, 784, 256, 2, t});  // NT: grad_x = g·Wᵀ... as stored (784×256)ᵀ
  }
}
// Linear layers of a training step: batch × in → out. NT is the forward
// x·Wᵀ, NN the input gradient g·W, TN the weight gradient gᵀ·x.
void training_args(benchmark::internal::Benchmark* b) {
  const int64_t shapes[][3] = {{32, 64, 256},   {32, 256, 1024}, {64, 128, 784},  {64, 1024, 1024},
                               {128, 256, 784}, {128, 64, 256},  {256, 512, 1024}, {256, 1024, 1024}};
  for (auto& s : shapes)
    for (int64_t t : {1, 2}) {
      b->Args({s[0], s[1], s[2], 2, t});
      b->Args({s[0], s[2], s[1], 0, t});
      b->Args({s[1], s[2], s[0], 1, t});
    }
}
// The same shapes with the path forced (1 small/sup, 2 packed): where the
// thresholds of use_small_path come from. Args: M, N, K, trans, threads, path.
void BM_GemmPath(benchmark::State& state) {
  Operands op(state.range(0), state.range(1), state.range(2), static_cast<int>(state.range(3)));
  const int threads = static_cast<int>(state.range(4));
  const auto path = static_cast<detail::Path>(state.range(5));
  for (auto _ : state) {
    detail::gemm_with<float>(path, threads, op.M, op.N, op.K, 1.f, op.A.data(), op.rsA, op.csA,
                             op.B.data(), op.rsB, op.csB, 0.f, op.C.data(), op.N, 1, {});
    benchmark::DoNotOptimize(op.C.data());
    benchmark::ClobberMemory();
  }
  set_flops(state, 2.0 * op.M * op.N * op.K);
}
void path_args(benchmark::internal::Benchmark* b) {
  const int64_t shapes[][3] = {{32, 256, 64}, {32, 128, 256}, {32, 10, 128}, {64, 256, 784},
                               {128, 256, 256}, {256, 1024, 64}, {256, 1024, 1024}, {256, 256, 256}};
  for (auto& s : shapes)
    for (int64_t trans : {0, 1, 2})
      for (int64_t path : {1, 2}) b->Args({s[0], s[1], s[2], trans, 1, path});
}
// Where a second thread starts to pay: 1 vs 2 threads around choose_threads'
// threshold (kFlopsPerThread), through the automatic path.
void thread_args(benchmark::internal::Benchmark* b) {
  const int64_t shapes[][3] = {{32, 256, 64}, {32, 128, 256}, {64, 256, 128}, {64, 256, 256},
                               {128, 256, 256}, {64, 256, 784}};
  for (auto& s : shapes)
    for (int64_t thr : {1, 2}) b->Args({s[0], s[1], s[2], 0, thr, 0});
}
BENCHMARK(BM_GemmPath)->Name("gemm/threads")->Apply(thread_args)->UseRealTime()
    ->ArgNames({"M", "N", "K", "trans", "threads", "path"});
BENCHMARK(BM_GemmPath)->Name("gemm/path")->Apply(path_args)->UseRealTime()
    ->ArgNames({"M", "N", "K", "trans", "threads", "path"});

BENCHMARK(BM_Gemm)->Name("gemm/square")->Apply(square_args)->UseRealTime()
    ->ArgNames({"M", "N", "K", "trans", "threads"});
BENCHMARK(BM_Gemm)->Name("gemm/mlp")->Apply(mlp_args)->UseRealTime()
    ->ArgNames({"M", "N", "K", "trans", "threads"});
BENCHMARK(BM_Gemm)->Name("gemm/training")->Apply(training_args)->UseRealTime()
    ->ArgNames({"M", "N", "K", "trans", "threads"});

// The micro-kernel alone on packed panels that stay in L1/L2: its ceiling.
void BM_MicroKernel(benchmark::State& state) {
  using detail::Tile;
  constexpr int MR = Tile<float>::MR, NR = Tile<float>::NR;
  const int64_t kc = state.range(0);
  auto a = random_vector(MR * kc, 3), b = random_vector(NR * kc, 4);
  std::vector<float> c(MR * NR);
  auto kernel = detail::micro_kernel<float>();
  for (auto _ : state) {
    kernel(kc, a.data(), 1, MR, b.data(), NR, 1.f, 1.f, c.data(), NR, 1, MR, NR, nullptr);
    benchmark::DoNotOptimize(c.data());
  }
  set_flops(state, 2.0 * MR * NR * kc);
}
BENCHMARK(BM_MicroKernel)->Name("microkernel/f32_6x16")->Arg(64)->Arg(256)->Arg(1024);

#if defined(__x86_64__) || defined(_M_X64)
// The AVX-512 12×32 packed kernel alone (skipped on CPUs without AVX-512).
void BM_MicroKernel512(benchmark::State& state) {
  if (!detail::use_avx512()) {
    state.SkipWithError("no AVX-512");
    return;
  }
  using P = detail::PackedTile512<float>;
  constexpr int MR = P::MR, NR = P::NR;
  const int64_t kc = state.range(0);
  auto a = random_vector(MR * kc, 3), b = random_vector(NR * kc, 4);
  std::vector<float> c(MR * NR);
  for (auto _ : state) {
    detail::micro_kernel_avx512<float>(kc, a.data(), 1, MR, b.data(), NR, 1.f, 1.f, c.data(), NR,
                                       1, MR, NR, nullptr);
    benchmark::DoNotOptimize(c.data());
  }
  set_flops(state, 2.0 * MR * NR * kc);
}
BENCHMARK(BM_MicroKernel512)->Name("microkernel/f32_12x32_avx512")->Arg(64)->Arg(256)->Arg(1024);
#endif

// Packing alone: an MC×KC block of A and a KC×NC block of B, plain and
// transposed; bytes/s of the source read.
void BM_PackA(benchmark::State& state) {
  constexpr int MR = detail::Tile<float>::MR;
  const int64_t mc = 144, kc = 256, lda = 1024;
  const bool trans = state.range(0);
  auto a = random_vector(lda * std::max(mc, kc), 5);
  std::vector<float> ap(mc * kc + MR * kc);
  for (auto _ : state) {
    if (trans) detail::pack_a<float, MR>(mc, kc, a.data(), 1, lda, ap.data());
    else detail::pack_a<float, MR>(mc, kc, a.data(), lda, 1, ap.data());
    benchmark::DoNotOptimize(ap.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * mc * kc * 4);
}
BENCHMARK(BM_PackA)->Name("pack/a_144x256")->Arg(0)->Arg(1)->ArgName("trans");

void BM_PackB(benchmark::State& state) {
  constexpr int NR = detail::Tile<float>::NR;
  const int64_t kc = 256, nc = state.range(1), ld = 4096;
  const bool trans = state.range(0);
  auto b = random_vector(ld * std::max(kc, nc), 6);
  std::vector<float> bp(kc * (nc + NR));
  for (auto _ : state) {
    if (trans) detail::pack_b<float, NR>(kc, nc, b.data(), 1, ld, bp.data());
    else detail::pack_b<float, NR>(kc, nc, b.data(), ld, 1, bp.data());
    benchmark::DoNotOptimize(bp.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * kc * nc * 4);
}
BENCHMARK(BM_PackB)->Name("pack/b_256xN")->Args({0, 1024})->Args({1, 1024})->ArgNames({"trans", "N"});

#if defined(__x86_64__) || defined(_M_X64)
// One core's fp32 FMA peak: compare GEMM GFLOP/s against this.
void BM_FmaPeak(benchmark::State& state) {
  if (!glassnet::cpu_has_avx2_fma()) {
    state.SkipWithError("no AVX2/FMA");
    return;
  }
  double flops = 0;
  for (auto _ : state) flops += glassnet::fma_peak_loop(1 << 20);
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FmaPeak)->Name("fma_peak/f32_1core");
#endif

}  // namespace

int main(int argc, char** argv) {
  std::printf("glassnet gemm kernel: %s\n", kernel_name());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

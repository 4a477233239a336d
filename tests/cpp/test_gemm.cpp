// Tests of the fast GEMM against gemm_reference (BLIS testsuite style):
// every edge tile below MR×NR, random sizes, all transposes, strided and
// offset views, alpha/beta (beta = 0 over NaN), the epilogue, both dtypes,
// both paths (small/packed), 1 and 2 threads; large shapes by the residual
// C·t against A·(B·t).
//
// Built as build/.../benchmarks/cpp/test_gemm with -DGLASSNET_BENCHMARKS=ON.
// Run it three times to cover every kernel:
//   ./test_gemm && GLASSNET_GEMM_KERNEL=avx2 ./test_gemm && GLASSNET_GEMM_KERNEL=portable ./test_gemm
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gemm/gemm.h"
#include "gemm/kernel.h"
#include "parallel.h"

using namespace glassnet::gemm;
using detail::Path;

namespace {

int g_failures = 0, g_checks = 0;
std::mt19937_64 g_rng(12345);

double uniform() { return std::uniform_real_distribution<double>(-1.0, 1.0)(g_rng); }
int64_t randint(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(g_rng); }

// A matrix view rows×cols inside a larger buffer: offset, row/column strides,
// row-major or column-major, with padding between rows/columns.
template <class T>
struct View {
  std::vector<T> buf;
  int64_t off = 0, rs = 0, cs = 0, rows = 0, cols = 0;
  T* ptr() { return buf.data() + off; }
  T& at(int64_t i, int64_t j) { return buf[off + i * rs + j * cs]; }
};

template <class T>
View<T> make_view(int64_t rows, int64_t cols, bool col_major, int64_t pad, int64_t off, T fill_junk) {
  View<T> v;
  v.rows = rows;
  v.cols = cols;
  v.off = off;
  // pad ≥ 5 also makes the unit stride 2: strided in both dimensions.
  const int64_t unit = pad >= 5 ? 2 : 1;
  if (col_major) { v.rs = unit; v.cs = rows * unit + pad; }
  else { v.cs = unit; v.rs = cols * unit + pad; }
  v.buf.assign(off + rows * v.rs + cols * v.cs + 1, fill_junk);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) v.at(i, j) = static_cast<T>(uniform());
  return v;
}

struct Case {
  int64_t M, N, K;
  bool ta, tb, tc;       // column-major A, B, C
  int64_t pad;           // leading-dimension padding
  double alpha, beta;
  int bias;              // 0 none, 1 per column, 2 per row
  bool relu;
  Path path;
  int threads;
};

std::string describe(const Case& c, const char* dtype) {
  char s[256];
  std::snprintf(s, sizeof s, "%s M=%lld N=%lld K=%lld ta=%d tb=%d tc=%d pad=%lld alpha=%g beta=%g bias=%d relu=%d path=%d thr=%d",
                dtype, (long long)c.M, (long long)c.N, (long long)c.K, c.ta, c.tb, c.tc, (long long)c.pad,
                c.alpha, c.beta, c.bias, c.relu, int(c.path), c.threads);
  return s;
}

template <class T>
void check_case(const Case& c) {
  const char* dtype = sizeof(T) == 4 ? "float32" : "float64";
  ++g_checks;
  auto A = make_view<T>(c.M, c.K, c.ta, c.pad, 3, T(7));
  auto B = make_view<T>(c.K, c.N, c.tb, c.pad, 5, T(7));
  const T junk = c.beta == 0 ? std::numeric_limits<T>::quiet_NaN() : T(0);
  auto C = make_view<T>(c.M, c.N, c.tc, c.pad, 1, T(-3));
  if (c.beta == 0)
    for (int64_t i = 0; i < c.M; ++i)
      for (int64_t j = 0; j < c.N; ++j) C.at(i, j) = junk;
  auto C_ref = C;
  std::vector<T> bias(c.bias == 2 ? c.M : c.N);
  for (auto& b : bias) b = static_cast<T>(uniform());
  Epilogue<T> ep;
  if (c.bias) { ep.bias = bias.data(); ep.bias_per_row = c.bias == 2; }
  if (c.relu) ep.act = Activation::ReLU;

  detail::gemm_with<T>(c.path, c.threads, c.M, c.N, c.K, T(c.alpha), A.ptr(), A.rs, A.cs, B.ptr(),
                       B.rs, B.cs, T(c.beta), C.ptr(), C.rs, C.cs, ep);
  gemm_reference<T>(c.M, c.N, c.K, T(c.alpha), A.ptr(), A.rs, A.cs, B.ptr(), B.rs, B.cs,
                    T(c.beta), C_ref.ptr(), C_ref.rs, C_ref.cs, ep);
  // Entries are in [-1, 1], so each product sum is bounded by K.
  const double eps = std::numeric_limits<T>::epsilon();
  const double tol = 4 * eps * (std::abs(c.alpha) * (c.K + 2) + std::abs(c.beta) + 1);
  for (size_t idx = 0; idx < C.buf.size(); ++idx) {
    const double got = C.buf[idx], want = C_ref.buf[idx];
    const bool ok = (std::isnan(got) && std::isnan(want)) || std::abs(got - want) <= tol;
    if (!ok) {
      if (g_failures < 20)
        std::printf("FAIL %s: buf[%zu] got %.9g want %.9g\n", describe(c, dtype).c_str(), idx, got, want);
      ++g_failures;
      return;
    }
  }
}

template <class T>
void check_both(const Case& c) { check_case<T>(c); }

// Residual test for large shapes: ‖C·t − A·(B·t)‖ relative to ‖|A|·(|B|·|t|)‖.
template <class T>
void check_residual(int64_t M, int64_t N, int64_t K, bool ta, bool tb, int threads) {
  ++g_checks;
  auto A = make_view<T>(M, K, ta, 0, 0, T(0));
  auto B = make_view<T>(K, N, tb, 0, 0, T(0));
  std::vector<T> C(M * N);
  detail::gemm_with<T>(Path::Auto, threads, M, N, K, T(1), A.ptr(), A.rs, A.cs, B.ptr(), B.rs, B.cs,
                       T(0), C.data(), N, 1, {});
  std::vector<double> t(N), Bt(K, 0.0);
  for (auto& x : t) x = uniform();
  for (int64_t k = 0; k < K; ++k)
    for (int64_t j = 0; j < N; ++j) Bt[k] += double(B.at(k, j)) * t[j];
  double worst = 0;
  for (int64_t i = 0; i < M; ++i) {
    double ct = 0, abt = 0;
    for (int64_t j = 0; j < N; ++j) ct += double(C[i * N + j]) * t[j];
    for (int64_t k = 0; k < K; ++k) abt += double(A.at(i, k)) * Bt[k];
    worst = std::max(worst, std::abs(ct - abt));
  }
  // Each C entry has error ≲ K·eps·K^(1/2)-ish; summed over N with |t| ≤ 1.
  const double bound = 4 * std::numeric_limits<T>::epsilon() * double(K) * std::sqrt(double(N)) * 4;
  if (!(worst <= bound)) {
    std::printf("FAIL residual %s M=%lld N=%lld K=%lld ta=%d tb=%d thr=%d: %.3g > %.3g\n",
                sizeof(T) == 4 ? "float32" : "float64", (long long)M, (long long)N, (long long)K,
                ta, tb, threads, worst, bound);
    ++g_failures;
  }
}

template <class T>
void run_all() {
  // The largest of the AVX2/portable packed tile, the AVX-512 packed tile
  // and the AVX-512 sup tile, so every kernel sees every edge.
  constexpr int MR = std::max({detail::Tile<T>::MR, detail::SupTile<T>::MR, detail::PackedTile512<T>::MR});
  constexpr int NR = std::max({detail::Tile<T>::NR, detail::SupTile<T>::NR, detail::PackedTile512<T>::NR});
  const Path paths[] = {Path::Small, Path::Packed, Path::Auto};
  // 1. Every edge tile below MR×NR (and one past), both paths, all transposes.
  for (Path path : paths)
    for (int64_t m = 1; m <= MR + 1; ++m)
      for (int64_t n = 1; n <= NR + 1; ++n)
        for (int64_t k : {1, 7})
          for (int tr = 0; tr < 8; ++tr)
            check_both<T>({m, n, k, bool(tr & 1), bool(tr & 2), bool(tr & 4), 0, 1.0, 0.0, 0, false, path, 1});
  // 2. Random sizes 1..300 (primes included by chance and explicitly), every
  //    option combination drawn at random.
  const int64_t primes[] = {1, 2, 3, 5, 7, 13, 17, 31, 61, 97, 127, 211, 257, 293};
  for (int it = 0; it < 400; ++it) {
    Case c;
    auto pick = [&](void) { return it % 3 == 0 ? primes[randint(0, 13)] : randint(1, 300); };
    c.M = pick(); c.N = pick(); c.K = pick();
    if (it % 17 == 0) c.K = 1;
    if (it % 19 == 0) c.M = 1;
    if (it % 23 == 0) c.N = 1;
    if (it % 29 == 0) c.K = randint(257, 700);  // several KC blocks
    c.ta = randint(0, 1); c.tb = randint(0, 1); c.tc = randint(0, 1);
    c.pad = randint(0, 1) ? 0 : randint(1, 9);
    const double alphas[] = {1.0, -0.5, 2.0}, betas[] = {0.0, 1.0, 0.75};
    c.alpha = alphas[randint(0, 2)]; c.beta = betas[randint(0, 2)];
    c.bias = randint(0, 2); c.relu = randint(0, 1);
    c.path = paths[randint(0, 2)];
    c.threads = randint(1, 2);
    check_both<T>(c);
  }
  // 3. Degenerate: K = 0 (beta·C then epilogue), alpha = 0, M or N = 0.
  check_both<T>({5, 9, 0, false, false, false, 0, 1.0, 0.0, 1, true, Path::Auto, 0});
  check_both<T>({5, 9, 0, false, false, false, 0, 1.0, 0.5, 2, false, Path::Auto, 0});
  check_both<T>({5, 9, 4, false, false, false, 0, 0.0, 2.0, 0, false, Path::Auto, 0});
  check_both<T>({0, 9, 4, false, false, false, 0, 1.0, 0.0, 0, false, Path::Auto, 0});
  check_both<T>({5, 0, 4, false, false, false, 0, 1.0, 0.0, 0, false, Path::Auto, 0});
  // Training-like shapes through the automatic choice, epilogue on.
  for (int64_t batch : {32, 64, 128, 256})
    for (int64_t feat : {64, 256, 1024})
      for (int tr = 0; tr < 4; ++tr)
        check_both<T>({batch, feat / 2 + 1, feat, bool(tr & 1), bool(tr & 2), false, 0, 1.0, 0.0, 1, true, Path::Auto, 0});
  // Narrow N (the classifier layer's N = 10) and one-row problems on every
  // path, with the epilogue, on 1 and 2 threads.
  for (Path path : paths)
    for (int64_t n : {1, 10, 17, 33})
      for (int64_t m : {1, 9, 32, 100})
        for (int tr = 0; tr < 4; ++tr)
          check_both<T>({m, n, 128, bool(tr & 1), bool(tr & 2), false, 0, 1.0, 0.0, 1, true, path, 1 + (tr & 1)});
  // The packed drivers past every cache block edge (KC, the part-owning
  // driver's NC, rows not a multiple of MR split over threads, columns not a
  // multiple of NR split over threads when N > M, depth not a multiple of 8
  // split when K is the longest), with beta, bias and ReLU, on 1 and 2
  // threads, all transposes.
  for (int thr : {1, 2})
    for (int tr = 0; tr < 4; ++tr) {
      check_both<T>({530, 77, 401, bool(tr & 1), bool(tr & 2), false, 0, -0.5, 0.75, 1, true, Path::Packed, thr});
      check_both<T>({263, 531, 389, bool(tr & 1), bool(tr & 2), tr == 3, 3, 1.0, 0.0, 2, false, Path::Packed, thr});
      check_both<T>({530, 40, 1030, bool(tr & 1), bool(tr & 2), false, 0, 1.0, 0.5, 0, tr == 1, Path::Packed, thr});
      check_both<T>({70, 45, 1030, bool(tr & 1), bool(tr & 2), false, 0, 1.0, 0.0, 1, false, Path::Packed, thr});
      check_both<T>({100, 530, 401, bool(tr & 1), bool(tr & 2), tr == 2, 0, -0.5, 0.75, 1, true, Path::Packed, thr});
      check_both<T>({37, 1100, 600, bool(tr & 1), bool(tr & 2), false, 1, 1.0, 0.0, 2, tr == 0, Path::Packed, thr});
      check_both<T>({90, 45, 1203, bool(tr & 1), bool(tr & 2), tr == 1, 0, 0.5, 0.25, tr & 1 ? 1 : 2, tr == 3, Path::Packed, thr});
      check_both<T>({610, 33, 2050, bool(tr & 1), bool(tr & 2), false, 2, 1.0, 0.0, 1, true, Path::Packed, thr});
    }
  // Narrow N on the small path: every N up to 13, row counts with and
  // without a remainder, K past the sup KC, beta, both bias kinds and ReLU.
  for (int64_t n = 1; n <= 13; ++n)
    for (int64_t m : {32, 45, 64})
      for (int tr = 0; tr < 4; ++tr) {
        check_both<T>({m, n, 37, bool(tr & 1), bool(tr & 2), false, 0, 1.0, 0.0, 0, false, Path::Small, 1});
        check_both<T>({m, n, 600, bool(tr & 1), bool(tr & 2), false, tr, -0.5, 0.75, 1 + (tr & 1), tr == 2, Path::Small, 1 + (tr & 1)});
      }
  // 4. Large shapes by residual, 1 and 2 threads, all transposes.
  for (int thr : {1, 2}) {
    check_residual<T>(1024, 1024, 1024, false, false, thr);
    check_residual<T>(4096, 256, 784, false, false, thr);
    check_residual<T>(784, 256, 4096, true, false, thr);   // Aᵀ·B (grad_W)
    check_residual<T>(4096, 784, 256, false, true, thr);   // A·Bᵀ (grad_x of linear)
    check_residual<T>(517, 4111, 300, true, true, thr);    // crosses NC
  }
}

}  // namespace

int main() {
  std::printf("kernel: %s, threads: %d\n", kernel_name(), glassnet::get_num_threads());
  run_all<float>();
  run_all<double>();
  std::printf("%d checks, %d failures\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}

// Internal to src/gemm: the micro-kernel contract, the blocking table and the
// kernel chosen at start-up. Nothing outside src/gemm includes this.
//
// Micro-kernel contract (after BLIS docs/KernelsHowTo.md):
//
//   c[m×n] = alpha · Σ_{p<k} a(i,p)·b(p,j) + beta · c      (i < m ≤ MR, j < n ≤ NR)
//   then, when ep != nullptr, c += bias and c = act(c).
//
//  - a(i,p) = a[i·rsA + p·csA]. Packed A is rsA = 1, csA = MR; the unpacked
//    small-problem path passes the user's strides. Rows i ≥ m are never read
//    (the kernel reuses row m-1 for them), so an unpacked edge is safe.
//  - b(p,j) = b[p·rsB + j] with NR readable columns per row: a packed,
//    zero-padded panel (rsB = NR) or an unpacked B with unit column stride
//    and n == NR.
//  - c(i,j) = c[i·rsC + j·csC]; only the m×n tile is written. beta == 0
//    never reads C.
//  - k ≥ 0 (k == 0 gives beta·C, then the epilogue); no m/n loops inside.
#pragma once

#include <cstdint>

#include "gemm.h"

namespace glassnet::gemm::detail {

// The epilogue of one tile: bias already offset to the tile's first row
// (per_row) or first column.
template <class T>
struct TileEpilogue {
  const T* bias = nullptr;
  bool per_row = false;
  bool relu = false;
};

template <class T>
using MicroKernel = void (*)(int64_t k, const T* a, int64_t rsA, int64_t csA, const T* b,
                             int64_t rsB, T alpha, T beta, T* c, int64_t rsC, int64_t csC, int m,
                             int n, const TileEpilogue<T>* ep);

// Register tile per dtype. The AVX2 and the portable kernels share it, so the
// packing routines and the blocking do not depend on which kernel runs.
//   float:  6×16 = 12 ymm accumulators (2 per row), 2 for B, 1 broadcast.
//   double: 6×8  = the same 12 accumulators with 4 lanes each.
template <class T> struct Tile;
template <> struct Tile<float> { static constexpr int MR = 6, NR = 16; };
template <> struct Tile<double> { static constexpr int MR = 6, NR = 8; };

// Register tile of the AVX-512 sup kernels: 8 rows × two zmm vectors (16
// accumulators). MR = 8 divides the usual batch sizes, so the small
// training shapes have no edge rows. KC bounds the packed Bᵀ panel (KC×NR:
// 64 KiB for float, in L2); an unpacked B panel is streamed from L2.
template <class T> struct SupTile;
template <> struct SupTile<float> { static constexpr int MR = 8, NR = 32; static constexpr int64_t KC = 512; };
template <> struct SupTile<double> { static constexpr int MR = 8, NR = 16; static constexpr int64_t KC = 512; };

// Cache blocking, from the analytical model of Low et al. (TOMS 2016) for
// Zen (the values of BLIS config/zen*): the KC×NR panel of B is half of L1d
// (32 KiB), the MC×KC block of A about a quarter of L2 (512 KiB), the KC×NC
// block of B a slice of L3. Measured on the 2-core EPYC (Zen 3) dev VM with
// bench_gemm and an interleaved A/B against numpy: KC = 384 (MC = 168) was
// within noise of KC = 256 on squares and the 4096×784×256 shapes, so the
// model's values stay. Re-sweep MC/KC on a quiet machine before changing.
template <class T> struct Blocking;
template <> struct Blocking<float> { static constexpr int64_t MC = 144, KC = 256, NC = 4080; };
template <> struct Blocking<double> { static constexpr int64_t MC = 72, KC = 256, NC = 4080; };

// Register tile and blocking of the AVX-512 packed kernels
// (microkernel_avx512.cpp): 12 rows × two zmm vectors, 24 accumulators.
// Blocks for the part-owning driver (gemm_packed_parts, the BLIS zen4 order
// transposed; BLIS zen4 sgemm: KC 480, L2 block 512, L3 block 6144):
//  - the A micro-panel MR×KC (float: 24 KiB) stays in L1 (32 KiB on Zen 4),
//  - the B block KC×RowsNC (float: 768 KiB) in L2 (1 MiB per core),
//  - the A block RowsMC×KC in L3 (32 MiB shared).
// MC/NC are those of the cooperative driver (gemm_packed), used for
// problems with too few rows to give each thread its own.
// Float values from a sweep of KC ∈ {256, 384, 480, 512} × NC ∈ {256, 384,
// 512} on 512², 1024², 2048² (CPU time, one core, the shared Zen 4 at load
// ~2): KC 512 × NC 384 was best in both rounds (by 2-5%, noise ±4%).
// Double keeps the A micro-panel under L1 with KC 256.
template <class T> struct PackedTile512;
template <> struct PackedTile512<float> {
  static constexpr int MR = 12, NR = 32;
  static constexpr int64_t MC = 144, KC = 512, NC = 4096, RowsMC = 3456, RowsNC = 384;
};
template <> struct PackedTile512<double> {
  static constexpr int MR = 12, NR = 16;
  static constexpr int64_t MC = 96, KC = 256, NC = 4096, RowsMC = 2304, RowsNC = 256;
};

// The kernels on this machine, picked once from CPUID (use_avx2() also
// chooses the packing routines).
template <class T> MicroKernel<T> micro_kernel();
bool use_avx2();
bool use_avx512();  // the sup kernels for the small path

// Portable C++ kernels (microkernel_ref.cpp) and AVX2/FMA ones
// (microkernel_avx2.cpp, x86-64 only).
template <class T>
void micro_kernel_portable(int64_t k, const T* a, int64_t rsA, int64_t csA, const T* b,
                           int64_t rsB, T alpha, T beta, T* c, int64_t rsC, int64_t csC, int m,
                           int n, const TileEpilogue<T>* ep);
#if defined(__x86_64__) || defined(_M_X64)
#define GLASSNET_GEMM_HAVE_AVX2 1
template <class T>
void micro_kernel_avx2(int64_t k, const T* a, int64_t rsA, int64_t csA, const T* b, int64_t rsB,
                       T alpha, T beta, T* c, int64_t rsC, int64_t csC, int m, int n,
                       const TileEpilogue<T>* ep);
// AVX-512 kernels of the unpacked small-problem path (sup_avx512.cpp):
// the contract above for a column of m rows of any count (tiles of
// SupTile::MR inside, so the call per tile stays in one translation unit)
// and n ≤ SupTile::NR columns; B columns ≥ n are never read (masked loads)
// and edge rows are exact. ep is the epilogue of the first row.
template <class T>
void sup_rows_avx512(int64_t k, const T* a, int64_t rsA, int64_t csA, const T* b, int64_t rsB,
                     T alpha, T beta, T* c, int64_t rsC, int64_t csC, int64_t m, int n,
                     const TileEpilogue<T>* ep);
// AVX-512 kernels of the packed path (microkernel_avx512.cpp): the contract
// above with MR×NR = PackedTile512 and packed A only (rsA = 1, csA = MR).
template <class T>
void micro_kernel_avx512(int64_t k, const T* a, int64_t rsA, int64_t csA, const T* b, int64_t rsB,
                         T alpha, T beta, T* c, int64_t rsC, int64_t csC, int m, int n,
                         const TileEpilogue<T>* ep);
// Transposing float32 packers for that tile, full panels only. `next`, when
// not null, is the next panel's source (same strides), prefetched meanwhile.
void pack_a12_rowmajor_avx512(int64_t kc, const float* a, int64_t rsA, float* ap, const float* next);
void pack_b32_colmajor_avx512(int64_t kc, const float* b, int64_t csB, float* bp, const float* next);
// bp[p·NR + j] = b[j·csB + p] for j < n ≤ NR, p < kc (Bᵀ of a row-major
// matrix into one sup panel); columns ≥ n are not written.
template <class T>
void sup_pack_b_colmajor_avx512(int64_t kc, int n, const T* b, int64_t csB, T* bp);
// Transposing float32 packers (pack_avx2.cpp), full panels only.
void pack_a6_rowmajor_avx2(int64_t kc, const float* a, int64_t rsA, float* ap);
void pack_b16_colmajor_avx2(int64_t kc, const float* b, int64_t csB, float* bp);
#endif

// The driver with its decisions forced, for tests and benchmarks: which
// path (Auto = what gemm() picks) and how many threads (0 = what gemm() picks).
enum class Path : uint8_t { Auto, Small, Packed };
template <class T>
void gemm_with(Path path, int threads, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
               int64_t rsA, int64_t csA, const T* B, int64_t rsB, int64_t csB, T beta, T* C,
               int64_t rsC, int64_t csC, const Epilogue<T>& ep);

// Writes one accumulated tile acc[MR×NR] (row-major) to c with alpha, beta
// and the epilogue: the scalar tail shared by every kernel for edge tiles and
// general C strides.
template <class T, int MR, int NR>
inline void store_tile_scalar(const T* acc, T alpha, T beta, T* c, int64_t rsC, int64_t csC,
                              int m, int n, const TileEpilogue<T>* ep) {
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      T* cij = c + i * rsC + j * csC;
      T v = alpha * acc[i * NR + j];
      if (beta != T(0)) v += beta * *cij;
      if (ep) {
        if (ep->bias) v += ep->per_row ? ep->bias[i] : ep->bias[j];
        if (ep->relu) v = v < T(0) ? T(0) : v;  // NaN stays NaN, as torch.relu
      }
      *cij = v;
    }
  }
}

}  // namespace glassnet::gemm::detail

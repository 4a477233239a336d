// The GEMM driver: the five BLIS loops around the micro-kernel (Van Zee & van
// de Geijn, TOMS 2015; the shape of BLIS sandbox/gemmlike/bls_gemm_bp_var1.c),
// the unpacked path for small problems, threading and kernel selection.
//
//   jc (NC columns of C)  → pc (KC of k: pack B)  → ic (MC rows: pack A)
//     → jr (NR columns)   → ir (MR rows: micro-kernel)
//
// Threads (Smith et al., IPDPS 2014): the B block is packed cooperatively,
// then the ic loop is split among threads; when M has too few MC blocks to
// feed every thread, the jr loop is split too. Both decisions live in
// gemm_packed and nowhere else.
#include "gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "cpu.h"
#include "kernel.h"
#include "pack.h"
#include "parallel.h"

namespace glassnet::gemm {
namespace detail {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

template <class T>
struct Problem {
  int64_t M, N, K;
  T alpha;
  const T* A;
  int64_t rsA, csA;
  const T* B;
  int64_t rsB, csB;
  T beta;
  T* C;
  int64_t rsC, csC;
  Epilogue<T> ep;
};

// The epilogue of the tile at (i0, j0), or null when none applies (not the
// last k block, or no bias and no activation).
template <class T>
const TileEpilogue<T>* tile_epilogue(const Epilogue<T>& ep, bool last_k, int64_t i0, int64_t j0,
                                     TileEpilogue<T>& out) {
  if (!last_k || (!ep.bias && ep.act == Activation::None)) return nullptr;
  out.bias = ep.bias ? ep.bias + (ep.bias_per_row ? i0 : j0) : nullptr;
  out.per_row = ep.bias_per_row;
  out.relu = ep.act == Activation::ReLU;
  return &out;
}

// f(begin, end) over [0, n) on `threads` threads (1: inline, no pool wake-up).
template <class F>
void run(int threads, int64_t n, const F& f) {
  if (threads <= 1 || n <= 1) f(int64_t(0), n);
  else parallel_for(0, n, 1, f);
}

// Below this much work a second thread costs more (pool hand-off, cache
// traffic) than it saves: 3 MFLOP is ~35 µs on one Zen 3 core against a
// few µs to wake and join a pool worker. An estimate, not yet swept: the
// shared dev machine was too loaded for stable two-thread timings.
constexpr double kFlopsPerThread = 3.0e6;

int choose_threads(int64_t M, int64_t N, int64_t K) {
  const double flops = 2.0 * double(M) * double(N) * double(K);
  const int max_threads = in_parallel_region() ? 1 : get_num_threads();
  const int64_t by_work = static_cast<int64_t>(flops / kFlopsPerThread);
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(max_threads, by_work)));
}

// C = beta·C then the epilogue: the whole answer when K == 0 or alpha == 0.
template <class T>
void scale_c(const Problem<T>& p) {
  for (int64_t i = 0; i < p.M; ++i) {
    for (int64_t j = 0; j < p.N; ++j) {
      T* c = p.C + i * p.rsC + j * p.csC;
      T v = p.beta == T(0) ? T(0) : p.beta * *c;
      if (p.ep.bias) v += p.ep.bias_per_row ? p.ep.bias[i] : p.ep.bias[j];
      if (p.ep.act == Activation::ReLU && v < T(0)) v = T(0);
      *c = v;
    }
  }
}

// The loop nest of the unpacked small-problem paths below: column panels of
// NR (and row parts as well when there are too few panels) over threads, K in
// KC blocks. `rows(kc, a, rsA, csA, b, rsB, alpha, beta, c, rsC, csC, m, n,
// ep)` computes m rows of one panel (in tiles of MR; ep is that of the first
// row). `b_panel(kc, n, b, panel)` decides how it reads B's kc×n block at b:
// it returns false to read it in place, or packs it into `panel` (rows NR
// apart) and returns true. `panel_needed` says whether B ever has to be
// packed (the scratch panel is skipped otherwise).
template <class T, int MR, int NR, int64_t KC, class Rows, class BPanel>
void small_loop_nest(const Problem<T>& p, int threads, bool panel_needed, const Rows& rows,
                     const BPanel& b_panel) {
  const int64_t n_panels = ceil_div(p.N, NR), m_tiles = ceil_div(p.M, MR);
  // Split columns first; split rows as well when there are too few panels.
  const int64_t m_parts = threads > 1 && n_panels < 2 * threads ? std::min<int64_t>(m_tiles, threads) : 1;

  run(threads, n_panels * m_parts, [&](int64_t t0, int64_t t1) {
    static thread_local PackBuffer panel_buf;
    T* panel = panel_needed ? panel_buf.get<T>(KC * NR) : nullptr;
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t j0 = (t / m_parts) * NR, part = t % m_parts;
      const int n = static_cast<int>(std::min<int64_t>(NR, p.N - j0));
      const int64_t i_begin = part * m_tiles / m_parts * MR;
      const int64_t i_end = std::min(p.M, (part + 1) * m_tiles / m_parts * MR);
      for (int64_t pc = 0; pc < p.K; pc += KC) {
        const int64_t kc = std::min(KC, p.K - pc);
        const T* b = p.B + pc * p.rsB + j0 * p.csB;
        int64_t rsb = p.rsB;
        if (b_panel(kc, n, b, panel)) {
          b = panel;
          rsb = NR;
        }
        const T beta = pc == 0 ? p.beta : T(1);
        TileEpilogue<T> tep;
        rows(kc, p.A + i_begin * p.rsA + pc * p.csA, p.rsA, p.csA, b, rsb, p.alpha, beta,
             p.C + i_begin * p.rsC + j0 * p.csC, p.rsC, p.csC, i_end - i_begin, n,
             tile_epilogue(p.ep, pc + kc == p.K, i_begin, j0, tep));
      }
    }
  });
}

// Small and skinny problems (BLIS kernels/haswell/3/sup): A is read in place
// by the micro-kernel, B is used in place when its rows are unit-stride and
// otherwise packed one KC×NR panel at a time. No MC blocking: the whole
// M×KC slab of A stays in L2 while each B panel sits in L1.
template <class T>
void gemm_small(const Problem<T>& p, int threads) {
  constexpr int MR = Tile<T>::MR, NR = Tile<T>::NR;
  const MicroKernel<T> kernel = micro_kernel<T>();
  auto rows = [&](int64_t kc, const T* a, int64_t rsA, int64_t csA, const T* b, int64_t rsB,
                  T alpha, T beta, T* c, int64_t rsC, int64_t csC, int64_t m, int n,
                  const TileEpilogue<T>* ep) {
    TileEpilogue<T> shifted;
    for (int64_t i = 0; i < m; i += MR) {
      const TileEpilogue<T>* tile_ep = ep;
      if (ep && ep->bias && ep->per_row) {  // the bias of this tile's first row
        shifted = *ep;
        shifted.bias = ep->bias + i;
        tile_ep = &shifted;
      }
      kernel(kc, a + i * rsA, rsA, csA, b, rsB, alpha, beta, c + i * rsC, rsC, csC,
             static_cast<int>(std::min<int64_t>(MR, m - i)), n, tile_ep);
    }
  };
  small_loop_nest<T, MR, NR, Blocking<T>::KC>(
      p, threads, true, rows, [&](int64_t kc, int n, const T* b, T* panel) {
        if (p.csB == 1 && n == NR) return false;  // a full panel of unit-stride rows
        pack_b<T, NR>(kc, n, b, p.rsB, p.csB, panel);
        return true;
      });
}

#ifdef GLASSNET_GEMM_HAVE_AVX2
// The small path on AVX-512 machines: the same loops as gemm_small around
// the 8×32 (float) masked sup kernel. B is read in place when its rows are
// unit-stride, whatever N (masked loads, no zero padding); a transposed B
// (the Wᵀ of x·Wᵀ) is transposed one KC×NR panel at a time; A is always
// read in place.
template <class T>
void gemm_sup(const Problem<T>& p, int threads) {
  constexpr int NR = SupTile<T>::NR;
  small_loop_nest<T, SupTile<T>::MR, NR, SupTile<T>::KC>(
      p, threads, p.csB != 1, &sup_rows_avx512<T>, [&](int64_t kc, int n, const T* b, T* panel) {
        if (p.csB == 1) return false;
        if (p.rsB == 1) sup_pack_b_colmajor_avx512<T>(kc, n, b, p.csB, panel);
        else pack_b<T, NR>(kc, n, b, p.rsB, p.csB, panel);
        return true;
      });
}
#endif

// Tile and cache blocks of one packed kernel.
template <class T>
struct PackedConfig {
  int MR, NR;
  int64_t MC, KC, NC;
  MicroKernel<T> kernel;
};

template <class T>
PackedConfig<T> packed_config() {
#ifdef GLASSNET_GEMM_HAVE_AVX2
  if (use_avx512()) {
    using P = PackedTile512<T>;
    PackedConfig<T> cfg{P::MR, P::NR, P::MC, P::KC, P::NC, &micro_kernel_avx512<T>};
    return cfg;
  }
#endif
  return {Tile<T>::MR, Tile<T>::NR, Blocking<T>::MC, Blocking<T>::KC, Blocking<T>::NC,
          micro_kernel<T>()};
}

// Packs one MR- or NR-wide block with the routine for that tile width.
template <class T>
void pack_a_for(int MR, int64_t mc, int64_t kc, const T* a, int64_t rsA, int64_t csA, T* ap) {
  if (MR == PackedTile512<T>::MR) pack_a<T, PackedTile512<T>::MR>(mc, kc, a, rsA, csA, ap);
  else pack_a<T, Tile<T>::MR>(mc, kc, a, rsA, csA, ap);
}
template <class T>
void pack_b_for(int NR, int64_t kc, int64_t nc, const T* b, int64_t rsB, int64_t csB, T* bp) {
  if (NR == PackedTile512<T>::NR) pack_b<T, PackedTile512<T>::NR>(kc, nc, b, rsB, csB, bp);
  else pack_b<T, Tile<T>::NR>(kc, nc, b, rsB, csB, bp);
}

// The five loops with packed A and B.
template <class T>
void gemm_packed(const Problem<T>& p, int threads) {
  const PackedConfig<T> cfg = packed_config<T>();
  const int MR = cfg.MR, NR = cfg.NR;
  const int64_t MC = cfg.MC, KC = cfg.KC, NC = cfg.NC;
  const MicroKernel<T> kernel = cfg.kernel;

  // Rows per ic block: at most MC, and the blocks a multiple of the thread
  // count so no thread idles at the end (M = 256 on 2 threads: 2 × 128, not 144 + 112).
  int64_t m_blocks = ceil_div(p.M, MC);
  if (threads > 1) m_blocks = round_up(m_blocks, threads);
  const int64_t mc_step = std::min(round_up(ceil_div(p.M, m_blocks), MR), round_up(MC, MR));
  m_blocks = ceil_div(p.M, mc_step);

  static thread_local PackBuffer b_buf;
  T* bp = b_buf.get<T>(KC * round_up(std::min(NC, p.N), NR));

  for (int64_t jc = 0; jc < p.N; jc += NC) {
    const int64_t nc = std::min(NC, p.N - jc);
    const int64_t n_panels = ceil_div(nc, NR);
    const int64_t n_parts = m_blocks < threads ? std::min<int64_t>(n_panels, ceil_div(threads, m_blocks)) : 1;
    for (int64_t pc = 0; pc < p.K; pc += KC) {
      const int64_t kc = std::min(KC, p.K - pc);
      const T* b = p.B + pc * p.rsB + jc * p.csB;
      // Pack B cooperatively; parallel_for returning is the barrier that
      // keeps the ic loop from reading a half-packed block.
      run(threads, n_panels, [&](int64_t q0, int64_t q1) {
        const int64_t j0 = q0 * NR, cols = std::min(nc, q1 * NR) - j0;
        pack_b_for<T>(NR, kc, cols, b + j0 * p.csB, p.rsB, p.csB, bp + q0 * NR * kc);
      });
      const T beta = pc == 0 ? p.beta : T(1);
      const bool last = pc + kc == p.K;
      run(threads, m_blocks * n_parts, [&](int64_t t0, int64_t t1) {
        static thread_local PackBuffer a_buf;
        T* ap = a_buf.get<T>(round_up(mc_step, MR) * KC + 8);  // + 8: pack_a6_rowmajor_avx2 writes 2 past
        int64_t packed_ic = -1;
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t ic = (t / n_parts) * mc_step, part = t % n_parts;
          const int64_t mc = std::min(mc_step, p.M - ic);
          if (ic != packed_ic) {
            pack_a_for<T>(MR, mc, kc, p.A + ic * p.rsA + pc * p.csA, p.rsA, p.csA, ap);
            packed_ic = ic;
          }
          const int64_t q_begin = part * n_panels / n_parts, q_end = (part + 1) * n_panels / n_parts;
          for (int64_t q = q_begin; q < q_end; ++q) {
            const int64_t jr = q * NR;
            const int n = static_cast<int>(std::min<int64_t>(NR, nc - jr));
            const T* bpanel = bp + q * NR * kc;
            for (int64_t ir = 0; ir < mc; ir += MR) {
              const int m = static_cast<int>(std::min<int64_t>(MR, mc - ir));
              const int64_t i0 = ic + ir, j0 = jc + jr;
              TileEpilogue<T> tep;
              kernel(kc, ap + ir * kc, 1, MR, bpanel, NR, p.alpha, beta,
                     p.C + i0 * p.rsC + j0 * p.csC, p.rsC, p.csC, m, n,
                     tile_epilogue(p.ep, last, i0, j0, tep));
            }
          }
        }
      });
    }
  }
}

#ifdef GLASSNET_GEMM_HAVE_AVX2
// The packed loops for the AVX-512 tile, in the order of BLIS's zen4
// kernels (there column-major, here transposed): each thread owns a part of
// the product (a range of C's rows, of its columns, or of the depth K) and
// packs its own A block (MC×KC, L3) and its own B block (KC×NC, L2);
// inside, the A micro-panel (MR×KC, L1) stays put while the B micro-panels
// stream from L2 under it, walking C along its rows.
//
//   part of this thread → ic (MC) → pc (KC) → pack A → jc (NC) → pack B → ir (MR) → jr (NR)
//
// No barriers: the threads share nothing but the read-only inputs, so a
// thread that the OS deschedules delays only its own part, and a pool worker
// that has not woken up yet leaves its part to the caller (parallel_for hands
// out the parts one by one). The price is some copying that one thread would
// not do; choose_split picks the split where it is least.
enum class Split { Rows, Columns, Depth };

// Extra elements copied per thread by each split: splitting the rows makes
// every thread pack all of B (K·N), splitting the columns all of A (M·K);
// splitting K packs nothing twice but writes a partial M×N product per extra
// thread and reads it back to add it up (2·M·N). Depth wins for the Aᵀ·B of
// a weight gradient, (784×4096)ᵀ·(4096×256): 0.4 M against 1 M for rows.
Split choose_split(int64_t M, int64_t N, int64_t K) {
  const double rows = double(K) * double(N), columns = double(M) * double(K), depth = 2.0 * double(M) * double(N);
  if (depth < rows && depth < columns) return Split::Depth;
  return rows <= columns ? Split::Rows : Split::Columns;
}

// C += the partial products of a depth split (each M×N, rows N apart), then
// the epilogue, which the parts left out.
template <class T>
void add_partials(const Problem<T>& p, const T* partial, int64_t count, int threads) {
  const int64_t MN = p.M * p.N;
  run(threads, p.M, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      T* c = p.C + i * p.rsC;
      for (int64_t j = 0; j < p.N; ++j) {
        T v = c[j * p.csC];
        for (int64_t q = 0; q < count; ++q) v += partial[q * MN + i * p.N + j];
        if (p.ep.bias) v += p.ep.bias_per_row ? p.ep.bias[i] : p.ep.bias[j];
        if (p.ep.act == Activation::ReLU && v < T(0)) v = T(0);
        c[j * p.csC] = v;
      }
    }
  });
}

template <class T>
void gemm_packed_parts(const Problem<T>& p, int threads) {
  using P = PackedTile512<T>;
  constexpr int MR = P::MR, NR = P::NR;
  constexpr int64_t MC = P::RowsMC, KC = P::KC, NC = P::RowsNC;
  const MicroKernel<T> kernel = &micro_kernel_avx512<T>;
  const int64_t m_tiles = ceil_div(p.M, MR), n_panels = ceil_div(p.N, NR), k_octets = ceil_div(p.K, 8);
  const Split split = threads > 1 ? choose_split(p.M, p.N, p.K) : Split::Rows;
  const int64_t units = split == Split::Rows ? m_tiles : split == Split::Columns ? n_panels : k_octets;
  const int64_t parts = std::min<int64_t>(threads, units);
  // A depth split's part 0 accumulates into C; every other part writes its
  // own partial product, added into C at the end.
  static thread_local PackBuffer partial_buf;
  T* partial = split == Split::Depth ? partial_buf.get<T>((parts - 1) * p.M * p.N) : nullptr;

  run(static_cast<int>(parts), parts, [&](int64_t t0, int64_t t1) {
    static thread_local PackBuffer a_buf, b_buf;
    for (int64_t t = t0; t < t1; ++t) {
      // This part's rows [r0, r1), columns [c0, c1) and depth [k0, k1): whole
      // tiles, panels and multiples of 8 (the packers' vector width).
      int64_t r0 = 0, r1 = p.M, c0 = 0, c1 = p.N, k0 = 0, k1 = p.K;
      T* C = p.C;
      int64_t rsC = p.rsC, csC = p.csC;
      T beta0 = p.beta;
      if (split == Split::Rows) {
        r0 = t * m_tiles / parts * MR;
        r1 = std::min(p.M, (t + 1) * m_tiles / parts * MR);
      } else if (split == Split::Columns) {
        c0 = t * n_panels / parts * NR;
        c1 = std::min(p.N, (t + 1) * n_panels / parts * NR);
      } else {
        k0 = t * k_octets / parts * 8;
        k1 = std::min(p.K, (t + 1) * k_octets / parts * 8);
        if (t > 0) {
          C = partial + (t - 1) * p.M * p.N;
          rsC = p.N;
          csC = 1;
          beta0 = T(0);
        }
      }
      const bool epilogue = split != Split::Depth;
      // Equal k and column blocks (K = 512 as 256 + 256, not 384 + 128): the
      // short last block would pay the C update and the kernel's ramp for
      // few flops. Multiples of 8 (k) and NR (columns) keep the packers on
      // their vector loops; neither can exceed KC or NC.
      const int64_t kc_step = round_up(ceil_div(k1 - k0, ceil_div(k1 - k0, KC)), 8);
      const int64_t nc_step = round_up(ceil_div(c1 - c0, ceil_div(c1 - c0, NC)), NR);
      const int64_t mc_max = std::min(round_up(MC, MR), round_up(r1 - r0, MR));
      T* ap = a_buf.get<T>(mc_max * kc_step);
      T* bp = b_buf.get<T>(kc_step * std::min(nc_step, round_up(c1 - c0, NR)));
      for (int64_t ic = r0; ic < r1; ic += mc_max) {
        const int64_t mc = std::min(mc_max, r1 - ic);
        for (int64_t pc = k0; pc < k1; pc += kc_step) {
          const int64_t kc = std::min(kc_step, k1 - pc);
          pack_a_for<T>(MR, mc, kc, p.A + ic * p.rsA + pc * p.csA, p.rsA, p.csA, ap);
          const T beta = pc == k0 ? beta0 : T(1);
          const bool last = epilogue && pc + kc == k1;
          for (int64_t jc = c0; jc < c1; jc += nc_step) {
            const int64_t nc = std::min(nc_step, c1 - jc);
            pack_b_for<T>(NR, kc, nc, p.B + pc * p.rsB + jc * p.csB, p.rsB, p.csB, bp);
            for (int64_t ir = 0; ir < mc; ir += MR) {
              const int m = static_cast<int>(std::min<int64_t>(MR, mc - ir));
              for (int64_t jr = 0; jr < nc; jr += NR) {
                const int n = static_cast<int>(std::min<int64_t>(NR, nc - jr));
                const int64_t i0 = ic + ir, j0 = jc + jr;
                TileEpilogue<T> tep;
                kernel(kc, ap + ir * kc, 1, MR, bp + jr * kc, NR, p.alpha, beta,
                       C + i0 * rsC + j0 * csC, rsC, csC, m, n, tile_epilogue(p.ep, last, i0, j0, tep));
              }
            }
          }
        }
      }
    }
  });
  if (split == Split::Depth) add_partials(p, partial, parts - 1, threads);
}
#endif

// Small-path thresholds, measured with bench_gemm (gemm/path) on Zen 3 for
// the AVX2 kernel: the unpacked path wins only while packing cannot be
// amortised, i.e. at most two MR row tiles or a product below 64³. Past
// that, reading A in place costs more (rows a power-of-two apart share L1
// sets) than packing it.
// With the AVX-512 sup kernel (Zen 4): 8 rows × 32 columns per step hide
// the in-place reads of A; against the AVX2 packed path it won on every
// training shape up to 256×1024·1024×1024 and on 256³, in all three
// transpose forms, and from M = 512 packing won again. Narrow N (≤ NR: one
// panel, A streamed once) always takes it.
// Against the AVX-512 packed kernel (12×32), measured by CPU time on the
// loaded Zen 4: a row-major B read in place streams with its row stride,
// which for large K·N (past L2) and more than a few row tiles costs more
// than packing it (256×1024·1024×1024: 6.4 ms packed vs
// 6.9 ms in place; 128×784·784×1024: 2.6 vs 2.9), while up to M = 64 the
// in-place path still wins (64×1024·1024×1024: 2.09 vs 2.23 ms). On two
// threads the same holds now that the packed driver splits the columns of
// such wide products (each thread packs only its half of B); before, the
// small path's in-place B made 256×1024·1024×1024 0.85× the peers there.
template <class T>
bool use_small_path(const Problem<T>& p) {
  const double mnk = double(p.M) * double(p.N) * double(p.K);
  if (use_avx512()) {
    const bool b_fits = p.csB != 1 || p.M <= 96 || double(p.K) * double(p.N) <= 256.0 * 1024.0;
    return p.N <= SupTile<T>::NR || (p.M <= 256 && mnk <= 256.0 * 1024.0 * 1024.0 && b_fits) ||
           mnk <= 64.0 * 64.0 * 64.0;
  }
  return p.M <= 2 * Tile<T>::MR + 4 || mnk <= 64.0 * 64.0 * 64.0;
}

}  // namespace

// GLASSNET_GEMM_KERNEL=portable forces the portable kernel (tests use it to
// cover that kernel on AVX2 machines).
bool use_avx2() {
  static const bool yes = [] {
    const char* env = std::getenv("GLASSNET_GEMM_KERNEL");
    if (env && std::strcmp(env, "portable") == 0) return false;
    return glassnet::cpu_has_avx2_fma();
  }();
  return yes;
}

// GLASSNET_GEMM_KERNEL=avx2 (or portable) keeps the AVX-512 sup kernels off.
bool use_avx512() {
  static const bool yes = [] {
    const char* env = std::getenv("GLASSNET_GEMM_KERNEL");
    if (env && (std::strcmp(env, "portable") == 0 || std::strcmp(env, "avx2") == 0)) return false;
    return use_avx2() && cpu_has_avx512();
  }();
  return yes;
}

template <class T>
MicroKernel<T> micro_kernel() {
#ifdef GLASSNET_GEMM_HAVE_AVX2
  if (use_avx2()) return &micro_kernel_avx2<T>;
#endif
  return &micro_kernel_portable<T>;
}

template MicroKernel<float> micro_kernel<float>();
template MicroKernel<double> micro_kernel<double>();

}  // namespace detail

const char* kernel_name() {
  if (detail::use_avx512()) return "avx512 (packed and small)";
  return detail::use_avx2() ? "avx2-fma" : "portable";
}

namespace detail {

template <class T>
void gemm_with(Path path, int threads, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
               int64_t rsA, int64_t csA, const T* B, int64_t rsB, int64_t csB, T beta, T* C,
               int64_t rsC, int64_t csC, const Epilogue<T>& ep) {
  if (M <= 0 || N <= 0) return;
  Problem<T> p{M, N, K, alpha, A, rsA, csA, B, rsB, csB, beta, C, rsC, csC, ep};
  if (K <= 0 || alpha == T(0)) {
    scale_c(p);
    return;
  }
  // The kernels store rows of C with unit stride. For a column-major C solve
  // Cᵀ = op(B)ᵀ·op(A)ᵀ instead: swap the operands and every stride pair.
  if (csC != 1 && (rsC == 1 || N == 1)) {
    p = Problem<T>{N, M, K, alpha, B, csB, rsB, A, csA, rsA, beta, C, csC, rsC, ep};
    p.ep.bias_per_row = !ep.bias_per_row;
  }
  if (threads <= 0) threads = choose_threads(p.M, p.N, p.K);
  if (path == Path::Auto) path = use_small_path(p) ? Path::Small : Path::Packed;
  if (path == Path::Small) {
#ifdef GLASSNET_GEMM_HAVE_AVX2
    if (use_avx512()) return gemm_sup(p, threads);
#endif
    gemm_small(p, threads);
  }
  else {
#ifdef GLASSNET_GEMM_HAVE_AVX2
    // Each thread its own part when it gets enough rows, columns or depth
    // that the copying this adds stays a small fraction of its flops.
    if (use_avx512() && (threads == 1 || std::max(p.M, p.N) >= 256 * threads ||
                         (p.K >= 256 * threads && choose_split(p.M, p.N, p.K) == Split::Depth)))
      return gemm_packed_parts(p, threads);
#endif
    gemm_packed(p, threads);
  }
}

template void gemm_with<float>(Path, int, int64_t, int64_t, int64_t, float, const float*, int64_t,
                               int64_t, const float*, int64_t, int64_t, float, float*, int64_t,
                               int64_t, const Epilogue<float>&);
template void gemm_with<double>(Path, int, int64_t, int64_t, int64_t, double, const double*,
                                int64_t, int64_t, const double*, int64_t, int64_t, double, double*,
                                int64_t, int64_t, const Epilogue<double>&);

}  // namespace detail

template <class T>
void gemm(int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t rsA, int64_t csA,
          const T* B, int64_t rsB, int64_t csB, T beta, T* C, int64_t rsC, int64_t csC,
          const Epilogue<T>& ep) {
  detail::gemm_with(detail::Path::Auto, 0, M, N, K, alpha, A, rsA, csA, B, rsB, csB, beta, C, rsC,
                    csC, ep);
}

template void gemm<float>(int64_t, int64_t, int64_t, float, const float*, int64_t, int64_t,
                          const float*, int64_t, int64_t, float, float*, int64_t, int64_t,
                          const Epilogue<float>&);
template void gemm<double>(int64_t, int64_t, int64_t, double, const double*, int64_t, int64_t,
                           const double*, int64_t, int64_t, double, double*, int64_t, int64_t,
                           const Epilogue<double>&);

}  // namespace glassnet::gemm

// The portable micro-kernel: plain C++ over the same MR×NR tile as the AVX2
// kernel (BLIS ref_kernels/3/bli_gemm_ref.c), for CPUs without AVX2/FMA. The
// inner loop over NR is written so the compiler vectorises it with whatever
// the baseline ISA offers.
#include <algorithm>

#include "kernel.h"

namespace glassnet::gemm::detail {

template <class T>
void micro_kernel_portable(int64_t k, const T* a, int64_t rsA, int64_t csA, const T* b,
                           int64_t rsB, T alpha, T beta, T* c, int64_t rsC, int64_t csC, int m,
                           int n, const TileEpilogue<T>* ep) {
  constexpr int MR = Tile<T>::MR, NR = Tile<T>::NR;
  alignas(64) T acc[MR * NR] = {};
  const T* arow[MR];
  for (int i = 0; i < MR; ++i) arow[i] = a + std::min(i, m - 1) * rsA;
  for (int64_t p = 0; p < k; ++p) {
    const T* bp = b + p * rsB;
    for (int i = 0; i < MR; ++i) {
      const T ai = arow[i][p * csA];
      for (int j = 0; j < NR; ++j) acc[i * NR + j] += ai * bp[j];
    }
  }
  store_tile_scalar<T, MR, NR>(acc, alpha, beta, c, rsC, csC, m, n, ep);
}

template void micro_kernel_portable<float>(int64_t, const float*, int64_t, int64_t, const float*,
                                           int64_t, float, float, float*, int64_t, int64_t, int,
                                           int, const TileEpilogue<float>*);
template void micro_kernel_portable<double>(int64_t, const double*, int64_t, int64_t,
                                            const double*, int64_t, double, double, double*,
                                            int64_t, int64_t, int, int,
                                            const TileEpilogue<double>*);

}  // namespace glassnet::gemm::detail

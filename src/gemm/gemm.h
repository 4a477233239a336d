// General matrix multiply for the CPU, after Goto & van de Geijn (TOMS 2008)
// and BLIS (Van Zee & van de Geijn, TOMS 2015).
//
//   C[M×N] = act(alpha·op(A)·op(B) + beta·C + bias)
//
// Every matrix is addressed by (row stride, column stride) in elements, so a
// transposed operand is the same memory with its two strides swapped (BLIS
// style): A·Bᵀ with B stored (N, K) row-major is rsB = 1, csB = K. No
// transposed copy is ever made; the packing routines read any strides.
//
// Contract:
//  - M, N, K ≥ 0. M == 0 or N == 0 touches nothing. K == 0 (or alpha == 0)
//    gives beta·C followed by the epilogue.
//  - beta == 0 never reads C, so C may hold NaN or uninitialised memory.
//  - The epilogue acts on the final C: bias (length N, added to every row, or
//    length M added to every column when bias_per_row) and then the
//    activation, while the C tile is still in registers.
//  - C must not overlap A or B. Strides may be any non-zero values for
//    dimensions larger than 1, including negative.
//  - Threads come from glassnet::parallel_for; small problems stay on the
//    calling thread. Safe to call concurrently from several threads.
#pragma once

#include <cstdint>

namespace glassnet::gemm {

enum class Activation : uint8_t { None, ReLU };

template <class T>
struct Epilogue {  // applied to the final C after alpha*AB + beta*C
  const T* bias = nullptr;  // length N (added to every row) when bias_per_row == false, length M otherwise
  bool bias_per_row = false;
  Activation act = Activation::None;
};

// The fast path: packed BLIS-style blocking around a register-blocked
// micro-kernel picked once at start-up from the CPU's features, or an
// unpacked path for small and skinny shapes (on AVX-512 CPUs with its own
// masked 8×32 kernel: batch ≤ 256 training shapes and narrow N).
template <class T>
void gemm(int64_t M, int64_t N, int64_t K, T alpha,
          const T* A, int64_t rsA, int64_t csA,
          const T* B, int64_t rsB, int64_t csB,
          T beta, T* C, int64_t rsC, int64_t csC,
          const Epilogue<T>& ep = {});

// Reference triple loop with the same contract: the test oracle and the
// fallback. Accumulates in double.
template <class T>
void gemm_reference(int64_t M, int64_t N, int64_t K, T alpha,
                    const T* A, int64_t rsA, int64_t csA,
                    const T* B, int64_t rsB, int64_t csB,
                    T beta, T* C, int64_t rsC, int64_t csC,
                    const Epilogue<T>& ep = {});

// Name of the kernels the fast path uses on this CPU ("avx512 (packed and
// small)", "avx2-fma" or "portable"), for benchmarks and logs.
const char* kernel_name();

extern template void gemm<float>(int64_t, int64_t, int64_t, float, const float*, int64_t, int64_t,
                                 const float*, int64_t, int64_t, float, float*, int64_t, int64_t,
                                 const Epilogue<float>&);
extern template void gemm<double>(int64_t, int64_t, int64_t, double, const double*, int64_t,
                                  int64_t, const double*, int64_t, int64_t, double, double*,
                                  int64_t, int64_t, const Epilogue<double>&);
extern template void gemm_reference<float>(int64_t, int64_t, int64_t, float, const float*, int64_t,
                                           int64_t, const float*, int64_t, int64_t, float, float*,
                                           int64_t, int64_t, const Epilogue<float>&);
extern template void gemm_reference<double>(int64_t, int64_t, int64_t, double, const double*,
                                            int64_t, int64_t, const double*, int64_t, int64_t,
                                            double, double*, int64_t, int64_t,
                                            const Epilogue<double>&);

}  // namespace glassnet::gemm

// The reference GEMM: a plain triple loop with the contract of gemm.h, in the
// spirit of llm.c's matmul_forward_naive. It is the oracle the tests compare
// the fast path against, so it accumulates in double and is kept obvious.
#include "gemm.h"

namespace glassnet::gemm {

template <class T>
void gemm_reference(int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t rsA,
                    int64_t csA, const T* B, int64_t rsB, int64_t csB, T beta, T* C,
                    int64_t rsC, int64_t csC, const Epilogue<T>& ep) {
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      double sum = 0;
      for (int64_t k = 0; k < K; ++k)
        sum += static_cast<double>(A[i * rsA + k * csA]) * static_cast<double>(B[k * rsB + j * csB]);
      T* c = C + i * rsC + j * csC;
      double v = static_cast<double>(alpha) * sum;
      if (beta != T(0)) v += static_cast<double>(beta) * static_cast<double>(*c);
      if (ep.bias) v += static_cast<double>(ep.bias_per_row ? ep.bias[i] : ep.bias[j]);
      if (ep.act == Activation::ReLU && v < 0) v = 0;
      *c = static_cast<T>(v);
    }
  }
}

template void gemm_reference<float>(int64_t, int64_t, int64_t, float, const float*, int64_t,
                                    int64_t, const float*, int64_t, int64_t, float, float*,
                                    int64_t, int64_t, const Epilogue<float>&);
template void gemm_reference<double>(int64_t, int64_t, int64_t, double, const double*, int64_t,
                                     int64_t, const double*, int64_t, int64_t, double, double*,
                                     int64_t, int64_t, const Epilogue<double>&);

}  // namespace glassnet::gemm

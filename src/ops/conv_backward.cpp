// conv2d backward (Chellapilla et al. 2006, §3): both gradients are GEMMs on
// the same lowering as the forward, with the transposes read through strides.
//   data:   col (Cg·kh·kw, P) = w_gᵀ · gy_n,g,  then gx_n,g = col2im(col)
//   weight: gw_g (Kg, Cg·kh·kw) += gy_n,g · im2col(x_n,g)ᵀ, summed over the batch
// The weight sum runs over batch slices, one per thread, each into its own
// partial buffer; the partials are added at the end, so no thread waits.
#include <algorithm>
#include <vector>

#include "dispatch.h"
#include "gemm/gemm.h"
#include "ops/conv.h"
#include "ops/conv_depthwise.h"
#include "ops/conv_im2col.h"
#include "parallel.h"

namespace glassnet {
namespace conv_detail {

template <class T>
void conv_backward_data_kernel(const ConvShape& s, const T* gy, const T* w, T* gx) {
  if (is_depthwise(s)) return depthwise_backward_data(s, gy, w, gx);
  const int64_t G = s.a.groups, Cg = s.Cg(), Kg = s.Kg(), R = s.rows(), P = s.P(), HW = s.H * s.W;
  const bool pointwise = is_pointwise(s);
  const int64_t nb = samples_per_gemm(s, sizeof(T));
  const int64_t slices = batch_slices(s.N, 2.0 * s.K * P * R);
  for_batch_slices(s.N, slices, [&](int64_t, int64_t n0, int64_t n1) {
    const int64_t m_max = std::min(nb, n1 - n0);
    if (m_max < 1) return;
    std::vector<T> col(pointwise && m_max == 1 ? 0 : R * P * m_max);
    std::vector<T> gyb(m_max > 1 ? Kg * P * m_max : 0);
    for (int64_t b = n0; b < n1; b += m_max) {
      const int64_t m = std::min(m_max, n1 - b), cols = m * P;
      for (int64_t g = 0; g < G; ++g) {
        const T* gyg = gy + (b * s.K + g * Kg) * P;
        if (m > 1) {
          gather_planes(gyg, s.K * P, Kg, P, m, gyb.data());
          gyg = gyb.data();
        }
        T* gxg = gx + (b * s.C + g * Cg) * HW;
        const bool direct = pointwise && m == 1;
        // wᵀ: the (Kg, R) block read with its strides swapped.
        gemm::gemm<T>(R, cols, Kg, T(1), w + g * Kg * R, 1, R, gyg, cols, 1, T(0), direct ? gxg : col.data(), cols,
                      1);
        if (!direct)
          for (int64_t j = 0; j < m; ++j) col2im(s, col.data() + j * P, gxg + j * s.C * HW, cols);
      }
    }
  });
}

template <class T>
void conv_backward_weight_kernel(const ConvShape& s, const T* gy, const T* x, T* gw) {
  if (is_depthwise(s)) return depthwise_backward_weight(s, gy, x, gw);
  const int64_t G = s.a.groups, Cg = s.Cg(), Kg = s.Kg(), R = s.rows(), P = s.P(), HW = s.H * s.W;
  const bool pointwise = is_pointwise(s);
  const int64_t nb = samples_per_gemm(s, sizeof(T));
  const int64_t slices = batch_slices(s.N, 2.0 * s.K * P * R);
  const int64_t wsize = s.K * R;
  // Slice 0 writes gw itself; the others write partials added afterwards.
  std::vector<T> partial((slices - 1) * wsize);
  for_batch_slices(s.N, slices, [&](int64_t t, int64_t n0, int64_t n1) {
    T* out = t == 0 ? gw : partial.data() + (t - 1) * wsize;
    const int64_t m_max = std::min(nb, n1 - n0);
    if (m_max < 1) {
      std::fill(out, out + wsize, T(0));
      return;
    }
    std::vector<T> col(pointwise && m_max == 1 ? 0 : R * P * m_max);
    std::vector<T> gyb(m_max > 1 ? Kg * P * m_max : 0);
    for (int64_t b = n0; b < n1; b += m_max) {
      const int64_t m = std::min(m_max, n1 - b), cols = m * P;
      for (int64_t g = 0; g < G; ++g) {
        const T* xg = x + (b * s.C + g * Cg) * HW;
        const T* c = xg;
        if (!(pointwise && m == 1)) {
          for (int64_t j = 0; j < m; ++j) im2col(s, xg + j * s.C * HW, col.data() + j * P, cols);
          c = col.data();
        }
        const T* gyg = gy + (b * s.K + g * Kg) * P;
        if (m > 1) {
          gather_planes(gyg, s.K * P, Kg, P, m, gyb.data());
          gyg = gyb.data();
        }
        // colᵀ: (R, m·P) read as (m·P, R) through swapped strides.
        gemm::gemm<T>(Kg, R, cols, T(1), gyg, cols, 1, c, 1, cols, b == n0 ? T(0) : T(1), out + g * Kg * R, R, 1);
      }
    }
  });
  for (int64_t t = 1; t < slices; ++t) {
    const T* p = partial.data() + (t - 1) * wsize;
    for (int64_t i = 0; i < wsize; ++i) gw[i] += p[i];
  }
}

template <class T>
void conv_backward_bias_kernel(int64_t N, int64_t K, int64_t P, const T* gy, T* gb) {
  parallel_for(0, K, std::max<int64_t>(1, 65536 / std::max<int64_t>(1, N * P)), [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      double acc = 0;
      for (int64_t n = 0; n < N; ++n) {
        const T* g = gy + (n * K + k) * P;
        T row = 0;
        for (int64_t p = 0; p < P; ++p) row += g[p];
        acc += row;
      }
      gb[k] = static_cast<T>(acc);
    }
  });
}

template void conv_backward_data_kernel<float>(const ConvShape&, const float*, const float*, float*);
template void conv_backward_data_kernel<double>(const ConvShape&, const double*, const double*, double*);
template void conv_backward_weight_kernel<float>(const ConvShape&, const float*, const float*, float*);
template void conv_backward_weight_kernel<double>(const ConvShape&, const double*, const double*, double*);
template void conv_backward_bias_kernel<float>(int64_t, int64_t, int64_t, const float*, float*);
template void conv_backward_bias_kernel<double>(int64_t, int64_t, int64_t, const double*, double*);

}  // namespace conv_detail

using namespace conv_detail;

std::tuple<Tensor, Tensor, Tensor> conv2d_backward(const Tensor& grad, const Tensor& x, const Tensor& weight,
                                                   const Conv2dArgs& a, bool need_input, bool need_weight,
                                                   bool need_bias) {
  const char* op = "conv2d_backward";
  const ConvShape s = conv2d_shape(x, weight, nullptr, a, op);
  check_grad(grad, x, {s.N, s.K, s.Ho, s.Wo}, op);
  const Tensor gc = grad.contiguous();
  Tensor gx, gw, gb;
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* gp = gc.template data<T>();
    if (need_input) {
      gx = Tensor::zeros(x.shape(), x.dtype());
      if (gx.numel() && s.K) conv_backward_data_kernel<T>(s, gp, weight.contiguous().template data<T>(),
                                                          gx.template data<T>());
    }
    if (need_weight) {
      gw = Tensor::zeros(weight.shape(), x.dtype());
      if (gw.numel() && s.N) conv_backward_weight_kernel<T>(s, gp, x.contiguous().template data<T>(),
                                                            gw.template data<T>());
    }
    if (need_bias) {
      gb = Tensor::zeros({s.K}, x.dtype());
      conv_backward_bias_kernel<T>(s.N, s.K, s.P(), gp, gb.template data<T>());
    }
  });
  return {gx, gw, gb};
}

}  // namespace glassnet

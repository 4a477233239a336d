// conv2d backward (Chellapilla et al. 2006, §3): both gradients are GEMMs on
// the same lowering as the forward, with the transposes read through strides.
//   data:   col (Cg·kh·kw, P) = w_gᵀ · gy_n,g,  then gx_n,g = col2im(col)
//   weight: gw_g (Kg, Cg·kh·kw) += gy_n,g · im2col(x_n,g)ᵀ, summed over the batch
// The weight sum runs over batch slices, one per thread, each into its own
// partial buffer; the partials are added at the end, so no thread waits.
#include <algorithm>
#include <memory>
#include <vector>

#include "dispatch.h"
#include "gemm/gemm.h"
#include "ops/conv.h"
#include "ops/conv_depthwise.h"
#include "ops/conv_im2col.h"
#include "ops/conv_winograd.h"
#include "parallel.h"

namespace glassnet {
namespace conv_detail {

namespace {

// w (K, Cg, kh, kw) -> (C, Kg, kh, kw): per group, channels swapped, taps reversed.
template <class T>
std::vector<T> flipped_weight(const ConvShape& s, const T* w) {
  const int64_t G = s.a.groups, Cg = s.Cg(), Kg = s.Kg(), taps = s.kh * s.kw;
  std::vector<T> f(s.K * Cg * taps);
  for (int64_t g = 0; g < G; ++g)
    for (int64_t k = 0; k < Kg; ++k)
      for (int64_t c = 0; c < Cg; ++c) {
        const T* src = w + ((g * Kg + k) * Cg + c) * taps;
        T* dst = f.data() + ((g * Cg + c) * Kg + k) * taps;
        for (int64_t t = 0; t < taps; ++t) dst[t] = src[taps - 1 - t];
      }
  return f;
}

}  // namespace

template <class T>
void conv_backward_data_kernel(const ConvShape& s, const T* gy, const T* w, T* gx) {
  if (is_depthwise(s)) return depthwise_backward_data(s, gy, w, gx);
  if (use_winograd(s)) {
    // A stride-1 convolution's data gradient is a stride-1 convolution of gy,
    // padded by 2 - pad, with the filters flipped and their channel dims
    // swapped: the Winograd forward applies.
    Conv2dArgs a = s.a;
    a.pad_h = 2 - a.pad_h;
    a.pad_w = 2 - a.pad_w;
    const ConvShape t{s.N, s.K, s.Ho, s.Wo, s.C, s.H, s.W, 3, 3, a};
    const std::vector<T> f = flipped_weight(s, w);
    return winograd_forward(t, gy, f.data(), static_cast<const T*>(nullptr), gx);
  }
  const int64_t Cg = s.Cg(), Kg = s.Kg(), R = s.rows(), P = s.P(), HW = s.H * s.W;
  const bool pointwise = is_pointwise(s);
  for_each_gemm_block<T>(s, batch_slices(s.N, 2.0 * s.K * P * R), [&](const GemmBlock<T>& k) {
    const int64_t cols = k.m * P;
    const T* gyg = gy + (k.b * s.K + k.g * Kg) * P;
    if (k.m > 1) {
      gather_planes(gyg, s.K * P, Kg, P, k.m, k.planes);
      gyg = k.planes;
    }
    T* gxg = gx + (k.b * s.C + k.g * Cg) * HW;
    const bool direct = pointwise && k.m == 1;
    // wᵀ: the (Kg, R) block read with its strides swapped.
    gemm::gemm<T>(R, cols, Kg, T(1), w + k.g * Kg * R, 1, R, gyg, cols, 1, T(0), direct ? gxg : k.col, cols, 1);
    if (!direct)
      for (int64_t j = 0; j < k.m; ++j) col2im(s, k.col + j * P, gxg + j * s.C * HW, cols);
  });
}

template <class T>
void conv_backward_weight_kernel(const ConvShape& s, const T* gy, const T* x, T* gw) {
  if (is_depthwise(s)) return depthwise_backward_weight(s, gy, x, gw);
  if (use_winograd(s)) return winograd_backward_weight(s, gy, x, gw);
  const int64_t Cg = s.Cg(), Kg = s.Kg(), R = s.rows(), P = s.P(), HW = s.H * s.W;
  const int64_t slices = batch_slices(s.N, 2.0 * s.K * P * R);
  const int64_t wsize = s.K * R;
  // Slice 0 writes gw itself; the others write partials added afterwards.
  // Uninitialised: every slice's first GEMM (beta 0) writes its part whole,
  // and only an empty batch (one empty slice) has no GEMM at all.
  if (s.N == 0) std::fill(gw, gw + wsize, T(0));
  const std::unique_ptr<T[]> partial(new T[(slices - 1) * wsize]);
  for_each_gemm_block<T>(s, slices, [&](const GemmBlock<T>& k) {
    T* out = k.slice == 0 ? gw : partial.get() + (k.slice - 1) * wsize;
    const int64_t cols = k.m * P;
    const T* c = col_matrix(s, x + (k.b * s.C + k.g * Cg) * HW, k);
    const T* gyg = gy + (k.b * s.K + k.g * Kg) * P;
    if (k.m > 1) {
      gather_planes(gyg, s.K * P, Kg, P, k.m, k.planes);
      gyg = k.planes;
    }
    // colᵀ: (R, m·P) read as (m·P, R) through swapped strides.
    gemm::gemm<T>(Kg, R, cols, T(1), gyg, cols, 1, c, 1, cols, k.first_in_slice ? T(0) : T(1), out + k.g * Kg * R,
                  R, 1);
  });
  for (int64_t t = 1; t < slices; ++t) {
    const T* p = partial.get() + (t - 1) * wsize;
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

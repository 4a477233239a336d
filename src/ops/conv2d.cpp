// conv2d forward: operand checks, the per-shape choice of algorithm, and the
// forward kernel. A 1×1 stride-1 unpadded convolution multiplies the weight
// by the input plane directly; depthwise goes to conv_depthwise.cpp; the rest is
// im2col into a per-thread buffer and one packed GEMM per (block of samples, group):
//   y_g (Kg, m·P) = w_g (Kg, Cg·kh·kw) · col (Cg·kh·kw, m·P)   (+ bias in the epilogue)
// with m > 1 samples side by side only when an output plane P is small, so
// the GEMM stays wide (LeNet's late layers would otherwise be GEMVs).
#include <algorithm>
#include <vector>

#include "dispatch.h"
#include "errors.h"
#include "gemm/gemm.h"
#include "ops/conv.h"
#include "ops/conv_depthwise.h"
#include "ops/conv_im2col.h"
#include "ops/conv_winograd.h"
#include "parallel.h"

namespace glassnet {
namespace conv_detail {

namespace {

void check_common(const Tensor& x, const Tensor& weight, const Tensor* bias, const Conv2dArgs& a, const char* op) {
  if (!x.defined() || !weight.defined()) fail<ValueError>("[", op, "] undefined input or weight");
  if (x.device().is_cuda() || weight.device().is_cuda())
    fail<RuntimeError>("[", op, "] not implemented for cuda tensors yet");
  if (!is_floating(x.dtype()))
    fail<TypeError>("[", op, "] expected a float32 or float64 input, got ", dtype_name(x.dtype()));
  if (weight.dtype() != x.dtype() || (bias && bias->dtype() != x.dtype()))
    fail<TypeError>("[", op, "] expected input, weight and bias of one dtype, got ", dtype_name(x.dtype()), ", ",
                    dtype_name(weight.dtype()), bias ? std::string(" and ") + dtype_name(bias->dtype()) : "");
  if (x.dim() != 4)
    fail<ValueError>("[", op, "] expected a 4-D input (N, C, H, W), got input of shape ", shape_str(x.shape()));
  if (weight.dim() != 4)
    fail<ValueError>("[", op, "] expected a 4-D weight, got weight of shape ", shape_str(weight.shape()));
  if (a.stride_h < 1 || a.stride_w < 1 || a.dilation_h < 1 || a.dilation_w < 1 || a.pad_h < 0 || a.pad_w < 0 ||
      a.groups < 1)
    fail<ValueError>("[", op, "] expected positive stride, dilation and groups and non-negative padding, got stride (",
                     a.stride_h, ", ", a.stride_w, "), padding (", a.pad_h, ", ", a.pad_w, "), dilation (",
                     a.dilation_h, ", ", a.dilation_w, "), groups ", a.groups);
  if (x.size(1) % a.groups != 0)
    fail<ValueError>("[", op, "] input channels ", x.size(1), " of input ", shape_str(x.shape()),
                     " are not divisible by groups=", a.groups);
}

void check_bias(const Tensor* bias, int64_t channels, const char* op) {
  if (bias && bias->shape() != Shape{channels})
    fail<ValueError>("[", op, "] expected bias of shape (", channels, ",), got ", shape_str(bias->shape()));
}

}  // namespace

ConvShape conv2d_shape(const Tensor& x, const Tensor& weight, const Tensor* bias, const Conv2dArgs& a,
                       const char* op) {
  check_common(x, weight, bias, a, op);
  ConvShape s{x.size(0), x.size(1), x.size(2), x.size(3), weight.size(0), 0, 0, weight.size(2), weight.size(3), a};
  if (weight.size(1) * a.groups != s.C)
    fail<ValueError>("[", op, "] weight ", shape_str(weight.shape()), " with groups=", a.groups, " expects ",
                     weight.size(1) * a.groups, " input channels, got input of shape ", shape_str(x.shape()));
  if (s.K % a.groups != 0)
    fail<ValueError>("[", op, "] output channels ", s.K, " of weight ", shape_str(weight.shape()),
                     " are not divisible by groups=", a.groups);
  check_bias(bias, s.K, op);
  const int64_t eh = a.dilation_h * (s.kh - 1) + 1, ew = a.dilation_w * (s.kw - 1) + 1;
  const int64_t ph = s.H + 2 * a.pad_h, pw = s.W + 2 * a.pad_w;
  if (eh > ph || ew > pw)
    fail<ValueError>("[", op, "] kernel size (", eh, ", ", ew, ") (dilated) of weight ", shape_str(weight.shape()),
                     " is larger than the padded input size (", ph, ", ", pw, ") of input ", shape_str(x.shape()));
  s.Ho = (ph - eh) / a.stride_h + 1;
  s.Wo = (pw - ew) / a.stride_w + 1;
  return s;
}

ConvShape conv_transpose2d_shape(const Tensor& x, const Tensor& weight, const Tensor* bias, const Conv2dArgs& a,
                                 int64_t oph, int64_t opw, const char* op) {
  check_common(x, weight, bias, a, op);
  if (weight.size(0) != x.size(1))
    fail<ValueError>("[", op, "] weight ", shape_str(weight.shape()), " expects ", weight.size(0),
                     " input channels, got input of shape ", shape_str(x.shape()));
  if (oph < 0 || opw < 0 || (oph >= a.stride_h && oph >= a.dilation_h) || (opw >= a.stride_w && opw >= a.dilation_w))
    fail<ValueError>("[", op, "] output_padding (", oph, ", ", opw,
                     ") must be non-negative and smaller than either stride or dilation, got stride (", a.stride_h,
                     ", ", a.stride_w, ") and dilation (", a.dilation_h, ", ", a.dilation_w, ")");
  const int64_t Cout = weight.size(1) * a.groups;
  check_bias(bias, Cout, op);
  const int64_t kh = weight.size(2), kw = weight.size(3);
  const int64_t Ho = (x.size(2) - 1) * a.stride_h - 2 * a.pad_h + a.dilation_h * (kh - 1) + oph + 1;
  const int64_t Wo = (x.size(3) - 1) * a.stride_w - 2 * a.pad_w + a.dilation_w * (kw - 1) + opw + 1;
  if (Ho < 1 || Wo < 1)
    fail<ValueError>("[", op, "] input ", shape_str(x.shape()), " with weight ", shape_str(weight.shape()),
                     " and padding (", a.pad_h, ", ", a.pad_w, ") gives an empty output of size (", Ho, ", ", Wo, ")");
  // The transposed convolution's output is the input of the convolution it is the adjoint of.
  return ConvShape{x.size(0), Cout, Ho, Wo, x.size(1), x.size(2), x.size(3), kh, kw, a};
}

void check_grad(const Tensor& grad, const Tensor& x, const Shape& expected, const char* op) {
  if (!grad.defined()) fail<ValueError>("[", op, "] undefined grad");
  if (grad.dtype() != x.dtype())
    fail<TypeError>("[", op, "] expected grad of dtype ", dtype_name(x.dtype()), ", got ", dtype_name(grad.dtype()));
  if (grad.shape() != expected)
    fail<ValueError>("[", op, "] expected grad of shape ", shape_str(expected), ", got ", shape_str(grad.shape()));
}

int64_t batch_slices(int64_t N, double flops_per_sample) {
  const int64_t threads = get_num_threads();
  if (threads <= 1 || N < threads) return 1;
  // Below ~1 MFLOP in all, waking the pool costs more than it saves.
  if (flops_per_sample * static_cast<double>(N) < 1e6) return 1;
  // A few slices per thread, handed out one at a time: a thread that the OS
  // deschedules (the machine is shared) then holds up one slice, not half the batch.
  return std::min<int64_t>(N, threads * 4);
}

void for_batch_slices(int64_t N, int64_t slices, const std::function<void(int64_t, int64_t, int64_t)>& f) {
  if (slices <= 1) {
    f(0, 0, N);
    return;
  }
  parallel_for(0, slices, 1, [&](int64_t s0, int64_t s1) {
    for (int64_t t = s0; t < s1; ++t) f(t, N * t / slices, N * (t + 1) / slices);
  });
}

bool is_pointwise(const ConvShape& s) {
  const Conv2dArgs& a = s.a;
  return s.kh == 1 && s.kw == 1 && a.stride_h == 1 && a.stride_w == 1 && a.pad_h == 0 && a.pad_w == 0;
}

// One input channel per group, groups > 1. A single-channel first layer
// (LeNet's C1) stays on the GEMM: measured, the direct loop over its short
// rows (28 wide) ran at about half the GEMM path's speed.
bool is_depthwise(const ConvShape& s) { return s.Cg() == 1 && s.a.groups > 1; }

template <class T>
void conv_forward_kernel(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  if (is_depthwise(s)) return depthwise_forward(s, x, w, bias, y);
  if (use_winograd(s)) return winograd_forward(s, x, w, bias, y);
  const int64_t Cg = s.Cg(), Kg = s.Kg(), R = s.rows(), P = s.P(), HW = s.H * s.W;
  for_each_gemm_block<T>(s, batch_slices(s.N, 2.0 * s.K * P * R), [&](const GemmBlock<T>& k) {
    const int64_t cols = k.m * P;
    const T* src = col_matrix(s, x + (k.b * s.C + k.g * Cg) * HW, k);
    T* yg = y + (k.b * s.K + k.g * Kg) * P;
    gemm::Epilogue<T> ep;
    ep.bias = bias ? bias + k.g * Kg : nullptr;
    ep.bias_per_row = true;
    gemm::gemm<T>(Kg, cols, R, T(1), w + k.g * Kg * R, R, 1, src, cols, 1, T(0), k.m == 1 ? yg : k.planes, cols, 1,
                  ep);
    if (k.m > 1) scatter_planes(k.planes, Kg, P, k.m, yg, s.K * P);
  });
}

template void conv_forward_kernel<float>(const ConvShape&, const float*, const float*, const float*, float*);
template void conv_forward_kernel<double>(const ConvShape&, const double*, const double*, const double*, double*);

}  // namespace conv_detail

using namespace conv_detail;

Tensor conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, const Conv2dArgs& a) {
  const ConvShape s = conv2d_shape(x, weight, bias, a, "conv2d");
  Tensor y = Tensor::empty({s.N, s.K, s.Ho, s.Wo}, x.dtype());
  if (y.numel() == 0) return y;
  const Tensor xc = x.contiguous(), wc = weight.contiguous();
  const Tensor bc = bias ? bias->contiguous() : Tensor();
  dispatch_float(x.dtype(), "conv2d", [&](auto tag) {
    using T = decltype(tag);
    conv_forward_kernel<T>(s, xc.template data<T>(), wc.template data<T>(), bias ? bc.template data<T>() : nullptr,
                           y.template data<T>());
  });
  return y;
}

}  // namespace glassnet

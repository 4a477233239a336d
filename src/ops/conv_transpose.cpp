// conv_transpose2d: the adjoint of conv2d, so it reuses conv2d's kernels with
// the roles of input and output exchanged. In conv2d's terms (ConvShape s),
// the transposed convolution's input x is the convolution's output and its
// output y is the convolution's input:
//   forward       y  = conv backward-data(x, w) + bias
//   grad_x           = conv forward(grad_y, w)
//   grad_w           = conv backward-weight(gy = x, input = grad_y)
#include "dispatch.h"
#include "ops/conv.h"

namespace glassnet {

using namespace conv_detail;

Tensor conv_transpose2d_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, const Conv2dArgs& a,
                                int64_t output_padding_h, int64_t output_padding_w) {
  const char* op = "conv_transpose2d";
  const ConvShape s = conv_transpose2d_shape(x, weight, bias, a, output_padding_h, output_padding_w, op);
  Tensor y = Tensor::zeros({s.N, s.C, s.H, s.W}, x.dtype());
  if (y.numel() == 0) return y;
  const Tensor xc = x.contiguous(), wc = weight.contiguous();
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    T* yp = y.template data<T>();
    if (s.K > 0) conv_backward_data_kernel<T>(s, xc.template data<T>(), wc.template data<T>(), yp);
    if (bias) {
      const Tensor bc = bias->contiguous();
      const T* b = bc.template data<T>();
      const int64_t HW = s.H * s.W;
      for (int64_t n = 0; n < s.N; ++n)
        for (int64_t c = 0; c < s.C; ++c) {
          T* plane = yp + (n * s.C + c) * HW;
          for (int64_t i = 0; i < HW; ++i) plane[i] += b[c];
        }
    }
  });
  return y;
}

std::tuple<Tensor, Tensor, Tensor> conv_transpose2d_backward(const Tensor& grad, const Tensor& x,
                                                             const Tensor& weight, const Conv2dArgs& a,
                                                             bool need_input, bool need_weight, bool need_bias) {
  const char* op = "conv_transpose2d_backward";
  // The output size is read off grad: output_padding only decides it.
  if (!grad.defined() || grad.dim() != 4 || x.dim() != 4)
    fail<ValueError>("[", op, "] expected 4-D grad and input, got grad ", grad.defined() ? shape_str(grad.shape()) : "()",
                     " and input ", shape_str(x.shape()));
  const int64_t kh = weight.dim() == 4 ? weight.size(2) : 0, kw = weight.dim() == 4 ? weight.size(3) : 0;
  const int64_t oph = grad.size(2) - ((x.size(2) - 1) * a.stride_h - 2 * a.pad_h + a.dilation_h * (kh - 1) + 1);
  const int64_t opw = grad.size(3) - ((x.size(3) - 1) * a.stride_w - 2 * a.pad_w + a.dilation_w * (kw - 1) + 1);
  const ConvShape s = conv_transpose2d_shape(x, weight, nullptr, a, oph, opw, op);
  check_grad(grad, x, {s.N, s.C, s.H, s.W}, op);
  const Tensor gc = grad.contiguous();
  Tensor gx, gw, gb;
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* gp = gc.template data<T>();
    if (need_input) {
      gx = Tensor::zeros(x.shape(), x.dtype());
      if (gx.numel() && s.C) conv_forward_kernel<T>(s, gp, weight.contiguous().template data<T>(), nullptr,
                                                    gx.template data<T>());
    }
    if (need_weight) {
      gw = Tensor::zeros(weight.shape(), x.dtype());
      if (gw.numel() && s.N) conv_backward_weight_kernel<T>(s, x.contiguous().template data<T>(), gp,
                                                            gw.template data<T>());
    }
    if (need_bias) {
      gb = Tensor::zeros({s.C}, x.dtype());
      conv_backward_bias_kernel<T>(s.N, s.C, s.H * s.W, gp, gb.template data<T>());
    }
  });
  return {gx, gw, gb};
}

}  // namespace glassnet

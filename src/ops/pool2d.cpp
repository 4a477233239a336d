// Pooling kernels (see pool.h). Each (n, c) plane is independent, so threads
// take whole planes; backward kernels write only their own plane of grad_x.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "dispatch.h"
#include "errors.h"
#include "ops/pool.h"
#include "parallel.h"

namespace glassnet {
namespace {

struct Planes {
  int64_t NC, H, W, Ho, Wo;
};

void check_input(const Tensor& x, const char* op) {
  if (!x.defined()) fail<ValueError>("[", op, "] undefined input");
  if (x.device().is_cuda()) fail<RuntimeError>("[", op, "] not implemented for cuda tensors yet");
  if (!is_floating(x.dtype()))
    fail<TypeError>("[", op, "] expected a float32 or float64 input, got ", dtype_name(x.dtype()));
  if (x.dim() != 4)
    fail<ValueError>("[", op, "] expected a 4-D input (N, C, H, W), got input of shape ", shape_str(x.shape()));
}

// torch's pooling_output_shape for one dim.
int64_t out_size(int64_t in, int64_t k, int64_t pad, int64_t stride, int64_t dil, bool ceil_mode) {
  const int64_t span = in + 2 * pad - dil * (k - 1) - 1;
  if (span < 0) return 0;  // the kernel does not fit the padded input
  int64_t out = (span + (ceil_mode ? stride - 1 : 0)) / stride + 1;
  // The last window must start inside the input or the left padding.
  if (ceil_mode && out > 0 && (out - 1) * stride >= in + pad) --out;
  return out;
}

// The plane count and output size for an input of shape (N, C, H, W).
Planes pool_planes(const Shape& x, const Pool2dArgs& a, bool dilated, const char* op) {
  if (a.kh < 1 || a.kw < 1 || a.stride_h < 1 || a.stride_w < 1 || a.dilation_h < 1 || a.dilation_w < 1)
    fail<ValueError>("[", op, "] expected positive kernel_size, stride and dilation, got kernel_size (", a.kh, ", ",
                     a.kw, "), stride (", a.stride_h, ", ", a.stride_w, "), dilation (", a.dilation_h, ", ",
                     a.dilation_w, ")");
  const int64_t eh = dilated ? a.dilation_h * (a.kh - 1) + 1 : a.kh, ew = dilated ? a.dilation_w * (a.kw - 1) + 1 : a.kw;
  if (a.pad_h < 0 || a.pad_w < 0 || a.pad_h > eh / 2 || a.pad_w > ew / 2)
    fail<ValueError>("[", op, "] padding (", a.pad_h, ", ", a.pad_w,
                     ") should be non-negative and at most half of the kernel size (", eh, ", ", ew, ")");
  const int64_t dh = dilated ? a.dilation_h : 1, dw = dilated ? a.dilation_w : 1;
  Planes p{x[0] * x[1], x[2], x[3], out_size(x[2], a.kh, a.pad_h, a.stride_h, dh, a.ceil_mode),
           out_size(x[3], a.kw, a.pad_w, a.stride_w, dw, a.ceil_mode)};
  if (p.Ho < 1 || p.Wo < 1)
    fail<ValueError>("[", op, "] kernel size (", eh, ", ", ew, ") is larger than the padded input size (",
                     x[2] + 2 * a.pad_h, ", ", x[3] + 2 * a.pad_w, ") of input ", shape_str(x),
                     " (output size (", p.Ho, ", ", p.Wo, "))");
  return p;
}

void check_grad(const Tensor& grad, const Shape& input_shape, const Shape& expected, const char* op) {
  if (!grad.defined() || grad.shape() != expected)
    fail<ValueError>("[", op, "] expected grad of shape ", shape_str(expected), " for input of shape ",
                     shape_str(input_shape), ", got ", grad.defined() ? shape_str(grad.shape()) : "()");
  if (!is_floating(grad.dtype()))
    fail<TypeError>("[", op, "] expected a float32 or float64 grad, got ", dtype_name(grad.dtype()));
}

// The taps [lo, hi) of a window starting at `start` that fall inside [0, n),
// for every output along one dim: the inner loops then need no bounds tests.
struct Taps {
  int64_t start, lo, hi;
};
std::vector<Taps> all_taps(int64_t out, int64_t stride, int64_t pad, int64_t dil, int64_t k, int64_t n) {
  std::vector<Taps> t(out);
  for (int64_t o = 0; o < out; ++o) {
    const int64_t start = o * stride - pad;
    const int64_t lo = start >= 0 ? 0 : (-start + dil - 1) / dil;
    const int64_t hi = start >= n ? 0 : std::min(k, (n - 1 - start) / dil + 1);
    t[o] = {start, lo, std::max(lo, hi)};
  }
  return t;
}

int64_t plane_grain(int64_t plane_work) { return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, plane_work)); }

// Average pooling's window for output o along one dim (torch's rule): the
// divisor counts the part of the window inside input + padding.
struct Window {
  int64_t begin, end, padded_size;
};
std::vector<Window> avg_windows(int64_t out, int64_t stride, int64_t pad, int64_t k, int64_t in) {
  std::vector<Window> w(out);
  for (int64_t o = 0; o < out; ++o) {
    const int64_t b = o * stride - pad, e = std::min(b + k, in + pad);
    w[o] = {std::max<int64_t>(b, 0), std::min(e, in), e - b};
  }
  return w;
}

}  // namespace

// x (N, C, H, W) -> y, indices (N, C, Ho, Wo)
std::tuple<Tensor, Tensor> max_pool2d_forward(const Tensor& x, const Pool2dArgs& a) {
  const char* op = "max_pool2d";
  check_input(x, op);
  const Planes p = pool_planes(x.shape(), a, true, op);
  const Shape out_shape{x.size(0), x.size(1), p.Ho, p.Wo};
  Tensor y = Tensor::empty(out_shape, x.dtype()), idx = Tensor::empty(out_shape, DType::Int64);
  const Tensor xc = x.contiguous();
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = xc.template data<T>();
    T* yp = y.template data<T>();
    int64_t* ip = idx.template data<int64_t>();
    const std::vector<Taps> rows = all_taps(p.Ho, a.stride_h, a.pad_h, a.dilation_h, a.kh, p.H);
    const std::vector<Taps> cols = all_taps(p.Wo, a.stride_w, a.pad_w, a.dilation_w, a.kw, p.W);
    parallel_for(0, p.NC, plane_grain(p.Ho * p.Wo * a.kh * a.kw), [&](int64_t q0, int64_t q1) {
      for (int64_t q = q0; q < q1; ++q) {
        const T* src = xp + q * p.H * p.W;
        T* yq = yp + q * p.Ho * p.Wo;
        int64_t* iq = ip + q * p.Ho * p.Wo;
        for (int64_t oh = 0; oh < p.Ho; ++oh) {
          const Taps r = rows[oh];
          for (int64_t ow = 0; ow < p.Wo; ++ow) {
            const Taps c = cols[ow];
            // The first tap seeds the maximum; NaN wins and stays (v != v), as in torch.
            int64_t at = (r.start + r.lo * a.dilation_h) * p.W + c.start + c.lo * a.dilation_w;
            T best = src[at];
            for (int64_t i = r.lo; i < r.hi; ++i) {
              const int64_t row = (r.start + i * a.dilation_h) * p.W;
              for (int64_t j = c.lo; j < c.hi; ++j) {
                const int64_t k = row + c.start + j * a.dilation_w;
                const T v = src[k];
                if (v > best || (v != v && best == best)) {
                  best = v;
                  at = k;
                }
              }
            }
            yq[oh * p.Wo + ow] = best;
            iq[oh * p.Wo + ow] = at;
          }
        }
      }
    });
  });
  return {y, idx};
}

// grad, indices (N, C, Ho, Wo) -> grad_x (N, C, H, W)
Tensor max_pool2d_backward(const Tensor& grad, const Tensor& indices, const Shape& input_shape) {
  const char* op = "max_pool2d_backward";
  if (input_shape.size() != 4 || !indices.defined() || indices.dim() != 4 || indices.dtype() != DType::Int64 ||
      indices.size(0) != input_shape[0] || indices.size(1) != input_shape[1])
    fail<ValueError>("[", op, "] expected int64 indices (N, C, Ho, Wo) for input of shape ", shape_str(input_shape),
                     ", got ", indices.defined() ? shape_str(indices.shape()) : "()");
  check_grad(grad, input_shape, indices.shape(), op);
  const int64_t NC = input_shape[0] * input_shape[1], HW = input_shape[2] * input_shape[3];
  const int64_t PO = indices.size(2) * indices.size(3);
  Tensor gx = Tensor::zeros(input_shape, grad.dtype());
  const Tensor gc = grad.contiguous(), ic = indices.contiguous();
  dispatch_float(grad.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* gp = gc.template data<T>();
    const int64_t* ip = ic.template data<int64_t>();
    T* dst = gx.template data<T>();
    parallel_for(0, NC, plane_grain(PO), [&](int64_t q0, int64_t q1) {
      for (int64_t q = q0; q < q1; ++q)
        for (int64_t o = 0; o < PO; ++o) {
          const int64_t at = ip[q * PO + o];
          if (at >= 0 && at < HW) dst[q * HW + at] += gp[q * PO + o];
        }
    });
  });
  return gx;
}

namespace {

// Average pooling as separable loops: the divisor is a product of a row and a
// column factor (padded or valid window sizes, or divisor_override), so each
// output is sum · row_scale[oh] · col_scale[ow]; inside a row the taps are
// walked one kernel column at a time over the outputs whose tap lies inside
// the image, so the inner loops carry no bounds tests.
struct AvgPlan {
  std::vector<Window> rows;
  std::vector<double> row_scale, col_scale;
  std::vector<int64_t> col_off, col_lo, col_hi;  // per kernel column j
};

AvgPlan avg_plan(const Planes& p, const Pool2dArgs& a) {
  AvgPlan plan;
  plan.rows = avg_windows(p.Ho, a.stride_h, a.pad_h, a.kh, p.H);
  const std::vector<Window> cols = avg_windows(p.Wo, a.stride_w, a.pad_w, a.kw, p.W);
  auto scale = [&](const Window& w, double override_root) {
    if (a.divisor_override > 0) return override_root;
    const int64_t n = a.count_include_pad ? w.padded_size : w.end - w.begin;
    return n > 0 ? 1.0 / static_cast<double>(n) : 0.0;
  };
  for (const Window& w : plan.rows) plan.row_scale.push_back(scale(w, 1.0 / static_cast<double>(a.divisor_override)));
  for (const Window& w : cols) plan.col_scale.push_back(scale(w, 1.0));
  for (int64_t j = 0; j < a.kw; ++j) {
    const int64_t off = j - a.pad_w;
    // Outputs ow whose column ow·stride + off is inside [0, W) and inside the window's
    // clipped extent (ceil_mode windows can end before kw taps).
    int64_t lo = 0, hi = p.Wo;
    while (lo < hi && (lo * a.stride_w + off < cols[lo].begin || lo * a.stride_w + off >= cols[lo].end)) ++lo;
    while (hi > lo && (( hi - 1) * a.stride_w + off < cols[hi - 1].begin ||
                       (hi - 1) * a.stride_w + off >= cols[hi - 1].end)) --hi;
    plan.col_off.push_back(off);
    plan.col_lo.push_back(lo);
    plan.col_hi.push_back(hi);
  }
  return plan;
}

}  // namespace

// x (N, C, H, W) -> y (N, C, Ho, Wo)
Tensor avg_pool2d_forward(const Tensor& x, const Pool2dArgs& a) {
  const char* op = "avg_pool2d";
  check_input(x, op);
  const Planes p = pool_planes(x.shape(), a, false, op);
  Tensor y = Tensor::empty({x.size(0), x.size(1), p.Ho, p.Wo}, x.dtype());
  const Tensor xc = x.contiguous();
  const AvgPlan plan = avg_plan(p, a);
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = xc.template data<T>();
    T* yp = y.template data<T>();
    const std::vector<T> col_scale(plan.col_scale.begin(), plan.col_scale.end());
    parallel_for(0, p.NC, plane_grain(p.Ho * p.Wo * a.kh * a.kw), [&](int64_t q0, int64_t q1) {
      for (int64_t q = q0; q < q1; ++q) {
        const T* src = xp + q * p.H * p.W;
        for (int64_t oh = 0; oh < p.Ho; ++oh) {
          T* out = yp + (q * p.Ho + oh) * p.Wo;
          std::fill(out, out + p.Wo, T(0));
          for (int64_t ih = plan.rows[oh].begin; ih < plan.rows[oh].end; ++ih) {
            const T* in = src + ih * p.W;
            for (int64_t j = 0; j < a.kw; ++j) {
              const T* tap = in + plan.col_off[j];
              for (int64_t ow = plan.col_lo[j]; ow < plan.col_hi[j]; ++ow) out[ow] += tap[ow * a.stride_w];
            }
          }
          const T rs = static_cast<T>(plan.row_scale[oh]);
          for (int64_t ow = 0; ow < p.Wo; ++ow) out[ow] *= rs * col_scale[ow];
        }
      }
    });
  });
  return y;
}

// grad (N, C, Ho, Wo) -> grad_x (N, C, H, W)
Tensor avg_pool2d_backward(const Tensor& grad, const Shape& input_shape, const Pool2dArgs& a) {
  const char* op = "avg_pool2d_backward";
  if (input_shape.size() != 4)
    fail<ValueError>("[", op, "] expected a 4-D input shape, got ", shape_str(input_shape));
  const Planes p = pool_planes(input_shape, a, false, op);
  check_grad(grad, input_shape, {input_shape[0], input_shape[1], p.Ho, p.Wo}, op);
  Tensor gx = Tensor::zeros(input_shape, grad.dtype());
  const Tensor gc = grad.contiguous();
  const AvgPlan plan = avg_plan(p, a);
  dispatch_float(grad.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* gp = gc.template data<T>();
    T* dst = gx.template data<T>();
    const std::vector<T> col_scale(plan.col_scale.begin(), plan.col_scale.end());
    parallel_for(0, p.NC, plane_grain(p.Ho * p.Wo * a.kh * a.kw), [&](int64_t q0, int64_t q1) {
      std::vector<T> g(p.Wo);
      for (int64_t q = q0; q < q1; ++q) {
        T* plane = dst + q * p.H * p.W;
        for (int64_t oh = 0; oh < p.Ho; ++oh) {
          const T* go = gp + (q * p.Ho + oh) * p.Wo;
          const T rs = static_cast<T>(plan.row_scale[oh]);
          for (int64_t ow = 0; ow < p.Wo; ++ow) g[ow] = go[ow] * rs * col_scale[ow];
          for (int64_t ih = plan.rows[oh].begin; ih < plan.rows[oh].end; ++ih) {
            T* in = plane + ih * p.W;
            for (int64_t j = 0; j < a.kw; ++j) {
              T* tap = in + plan.col_off[j];
              for (int64_t ow = plan.col_lo[j]; ow < plan.col_hi[j]; ++ow) tap[ow * a.stride_w] += g[ow];
            }
          }
        }
      }
    });
  });
  return gx;
}

namespace {
int64_t adaptive_begin(int64_t o, int64_t in, int64_t out) { return (o * in) / out; }
int64_t adaptive_end(int64_t o, int64_t in, int64_t out) { return ((o + 1) * in + out - 1) / out; }
}  // namespace

// x (N, C, H, W) -> y (N, C, out_h, out_w)
Tensor adaptive_avg_pool2d_forward(const Tensor& x, int64_t out_h, int64_t out_w) {
  const char* op = "adaptive_avg_pool2d";
  check_input(x, op);
  if (out_h < 1 || out_w < 1)
    fail<ValueError>("[", op, "] expected a positive output_size, got (", out_h, ", ", out_w, ")");
  if (x.size(2) < 1 || x.size(3) < 1)
    fail<ValueError>("[", op, "] expected non-empty spatial dims, got input of shape ", shape_str(x.shape()));
  const int64_t NC = x.size(0) * x.size(1), H = x.size(2), W = x.size(3);
  Tensor y = Tensor::empty({x.size(0), x.size(1), out_h, out_w}, x.dtype());
  const Tensor xc = x.contiguous();
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = xc.template data<T>();
    T* yp = y.template data<T>();
    parallel_for(0, NC, plane_grain(H * W), [&](int64_t q0, int64_t q1) {
      for (int64_t q = q0; q < q1; ++q) {
        const T* src = xp + q * H * W;
        for (int64_t oh = 0; oh < out_h; ++oh) {
          const int64_t h0 = adaptive_begin(oh, H, out_h), h1 = adaptive_end(oh, H, out_h);
          for (int64_t ow = 0; ow < out_w; ++ow) {
            const int64_t w0 = adaptive_begin(ow, W, out_w), w1 = adaptive_end(ow, W, out_w);
            T sum = 0;
            for (int64_t ih = h0; ih < h1; ++ih)
              for (int64_t iw = w0; iw < w1; ++iw) sum += src[ih * W + iw];
            yp[(q * out_h + oh) * out_w + ow] = sum / static_cast<T>((h1 - h0) * (w1 - w0));
          }
        }
      }
    });
  });
  return y;
}

// grad (N, C, out_h, out_w) -> grad_x (N, C, H, W)
Tensor adaptive_avg_pool2d_backward(const Tensor& grad, const Shape& input_shape) {
  const char* op = "adaptive_avg_pool2d_backward";
  if (input_shape.size() != 4 || !grad.defined() || grad.dim() != 4 || grad.size(0) != input_shape[0] ||
      grad.size(1) != input_shape[1])
    fail<ValueError>("[", op, "] grad ", grad.defined() ? shape_str(grad.shape()) : "()",
                     " does not fit input of shape ", shape_str(input_shape));
  check_grad(grad, input_shape, grad.shape(), op);
  const int64_t NC = input_shape[0] * input_shape[1], H = input_shape[2], W = input_shape[3];
  const int64_t out_h = grad.size(2), out_w = grad.size(3);
  Tensor gx = Tensor::zeros(input_shape, grad.dtype());
  const Tensor gc = grad.contiguous();
  dispatch_float(grad.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* gp = gc.template data<T>();
    T* dst = gx.template data<T>();
    parallel_for(0, NC, plane_grain(H * W), [&](int64_t q0, int64_t q1) {
      for (int64_t q = q0; q < q1; ++q) {
        T* plane = dst + q * H * W;
        for (int64_t oh = 0; oh < out_h; ++oh) {
          const int64_t h0 = adaptive_begin(oh, H, out_h), h1 = adaptive_end(oh, H, out_h);
          for (int64_t ow = 0; ow < out_w; ++ow) {
            const int64_t w0 = adaptive_begin(ow, W, out_w), w1 = adaptive_end(ow, W, out_w);
            const T g = gp[(q * out_h + oh) * out_w + ow] / static_cast<T>((h1 - h0) * (w1 - w0));
            for (int64_t ih = h0; ih < h1; ++ih)
              for (int64_t iw = w0; iw < w1; ++iw) plane[ih * W + iw] += g;
          }
        }
      }
    });
  });
  return gx;
}

}  // namespace glassnet

// F.pad (see pad.h). The padded dims are the last m; every output row (one
// index into all dims but the last) maps to one input row or to padding, and
// inside a row each output column maps to one input column. The mapping is
// the same in both directions: forward gathers along it, backward scatters
// (adds) back, so reflect/replicate/circular sum the copies of an element.
#include "ops/pad.h"

#include <algorithm>

#include "dispatch.h"
#include "errors.h"
#include "parallel.h"

namespace glassnet {
namespace {

const char* mode_name(PadMode m) {
  switch (m) {
    case PadMode::Constant: return "constant";
    case PadMode::Reflect: return "reflect";
    case PadMode::Replicate: return "replicate";
    case PadMode::Circular: return "circular";
  }
  return "?";
}

struct PadPlan {
  Shape in, out;
  Shape before;  // per dim (0 for dims not padded)
  int64_t m;      // number of padded (trailing) dims
};

PadPlan plan(const Shape& in, const std::vector<int64_t>& pads, PadMode mode, const char* op) {
  const int64_t D = static_cast<int64_t>(in.size()), m = static_cast<int64_t>(pads.size()) / 2;
  if (pads.size() % 2 != 0 || m > D)
    fail<ValueError>("[", op, "] padding of length ", pads.size(), " must be even and at most twice the ", D,
                     " dims of input ", shape_str(in));
  if (mode != PadMode::Constant && (m > 3 || D < m + 1))
    fail<ValueError>("[", op, "] ", mode_name(mode), " padding pads at most the last 3 dims and needs a batch or "
                     "channel dim before them; got padding of length ", pads.size(), " for input ", shape_str(in));
  PadPlan p{in, in, Shape(D, 0), m};
  for (int64_t k = 0; k < m; ++k) {
    const int64_t d = D - 1 - k, b = pads[2 * k], e = pads[2 * k + 1], n = in[d];
    p.before[d] = b;
    p.out[d] = n + b + e;
    if (p.out[d] < 0)
      fail<ValueError>("[", op, "] padding (", b, ", ", e, ") of dim ", d, " leaves a negative size for input ",
                       shape_str(in));
    if (mode == PadMode::Constant) continue;
    if (b < 0 || e < 0)
      fail<ValueError>("[", op, "] ", mode_name(mode), " padding must be non-negative, got (", b, ", ", e,
                       ") for dim ", d);
    if ((mode == PadMode::Reflect && (b >= n || e >= n)) || (mode == PadMode::Circular && (b > n || e > n)) ||
        (mode == PadMode::Replicate && n == 0 && b + e > 0))
      fail<ValueError>("[", op, "] ", mode_name(mode), " padding (", b, ", ", e, ") of dim ", d,
                       " is too large for input ", shape_str(in), mode == PadMode::Reflect ? " (must be < size)" : "");
  }
  return p;
}

// Input index along one dim for output index o, or -1 for constant padding.
inline int64_t source(int64_t o, int64_t before, int64_t n, PadMode mode) {
  int64_t i = o - before;
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case PadMode::Constant: return -1;
    case PadMode::Reflect: return i < 0 ? -i : 2 * (n - 1) - i;
    case PadMode::Replicate: return i < 0 ? 0 : n - 1;
    case PadMode::Circular: return ((i % n) + n) % n;
  }
  return -1;
}

// Dims [first, D-1) vary inside a slice (the padded ones but the last);
// dims before `first` index the slices, which own disjoint input rows.
int64_t first_row_dim(const PadPlan& p) {
  const int64_t D = static_cast<int64_t>(p.in.size());
  return std::max<int64_t>(0, std::min(D - 1, D - p.m));
}

int64_t slice_count(const PadPlan& p) {
  int64_t s = 1;
  for (int64_t d = 0; d < first_row_dim(p); ++d) s *= p.in[d];
  return s;
}

// f(out_row, in_row or -1 for a padding row) for every output row of the slices [s0, s1).
template <class F>
void for_rows(const PadPlan& p, PadMode mode, int64_t s0, int64_t s1, const F& f) {
  const int64_t D = static_cast<int64_t>(p.in.size()), first = first_row_dim(p);
  if (D == 0) return f(0, 0);
  int64_t rows_out = 1, rows_in = 1;
  for (int64_t d = first; d < D - 1; ++d) {
    rows_out *= p.out[d];
    rows_in *= p.in[d];
  }
  for (int64_t s = s0; s < s1; ++s) {
    for (int64_t r = 0; r < rows_out; ++r) {
      int64_t rem = r, in_row = 0, scale = 1;
      bool pad = false;
      for (int64_t d = D - 2; d >= first; --d) {
        const int64_t i = source(rem % p.out[d], p.before[d], p.in[d], mode);
        rem /= p.out[d];
        pad = pad || i < 0;
        in_row += i * scale;
        scale *= p.in[d];
      }
      f(s * rows_out + r, pad ? -1 : s * rows_in + in_row);
    }
  }
}

}  // namespace

// x (*, d_1 .. d_m) -> padded
Tensor pad_forward(const Tensor& x, const std::vector<int64_t>& pads, PadMode mode, double value) {
  const char* op = "pad";
  if (!x.defined()) fail<ValueError>("[", op, "] undefined input");
  if (x.device().is_cuda()) fail<RuntimeError>("[", op, "] not implemented for cuda tensors yet");
  const PadPlan p = plan(x.shape(), pads, mode, op);
  Tensor y = Tensor::empty(p.out, x.dtype());
  if (y.numel() == 0) return y;
  const Tensor xc = x.contiguous();
  const int64_t D = x.dim();
  const int64_t win = D ? p.in[D - 1] : 1, wout = D ? p.out[D - 1] : 1, b = D ? p.before[D - 1] : 0;
  const int64_t slices = slice_count(p);
  const int64_t row_work = std::max<int64_t>(1, y.numel() / std::max<int64_t>(1, slices));
  dispatch_all(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = xc.template data<T>();
    T* yp = y.template data<T>();
    const T fill = static_cast<T>(value);
    parallel_for(0, slices, std::max<int64_t>(1, 65536 / row_work), [&](int64_t s0, int64_t s1) {
      for_rows(p, mode, s0, s1, [&](int64_t orow, int64_t irow) {
        T* dst = yp + orow * wout;
        if (irow < 0) {
          std::fill(dst, dst + wout, fill);
          return;
        }
        const T* src = xp + irow * win;
        // The interior is a copy; only the pads need the mapping.
        const int64_t lo = std::clamp<int64_t>(b, 0, wout), hi = std::clamp<int64_t>(b + win, lo, wout);
        for (int64_t o = 0; o < lo; ++o) {
          const int64_t i = source(o, b, win, mode);
          dst[o] = i < 0 ? fill : src[i];
        }
        std::copy(src + (lo - b), src + (hi - b), dst + lo);
        for (int64_t o = hi; o < wout; ++o) {
          const int64_t i = source(o, b, win, mode);
          dst[o] = i < 0 ? fill : src[i];
        }
      });
    });
  });
  return y;
}

// grad (padded) -> grad_x (input_shape)
Tensor pad_backward(const Tensor& grad, const Shape& input_shape, const std::vector<int64_t>& pads, PadMode mode) {
  const char* op = "pad_backward";
  if (!grad.defined()) fail<ValueError>("[", op, "] undefined grad");
  const PadPlan p = plan(input_shape, pads, mode, op);
  if (grad.shape() != p.out)
    fail<ValueError>("[", op, "] expected grad of shape ", shape_str(p.out), " for input of shape ",
                     shape_str(input_shape), ", got ", shape_str(grad.shape()));
  Tensor gx = Tensor::zeros(input_shape, grad.dtype());
  if (gx.numel() == 0 || grad.numel() == 0) return gx;
  const Tensor gc = grad.contiguous();
  const int64_t D = static_cast<int64_t>(input_shape.size());
  const int64_t win = D ? p.in[D - 1] : 1, wout = D ? p.out[D - 1] : 1, b = D ? p.before[D - 1] : 0;
  const int64_t slices = slice_count(p);
  const int64_t row_work = std::max<int64_t>(1, grad.numel() / std::max<int64_t>(1, slices));
  dispatch_float(grad.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* gp = gc.template data<T>();
    T* dst = gx.template data<T>();
    // Slices own disjoint input rows, so threads never add into one element.
    parallel_for(0, slices, std::max<int64_t>(1, 65536 / row_work), [&](int64_t s0, int64_t s1) {
      for_rows(p, mode, s0, s1, [&](int64_t orow, int64_t irow) {
        if (irow < 0) return;
        const T* g = gp + orow * wout;
        T* in = dst + irow * win;
        for (int64_t o = 0; o < wout; ++o) {
          const int64_t i = source(o, b, win, mode);
          if (i >= 0) in[i] += g[o];
        }
      });
    });
  });
  return gx;
}

}  // namespace glassnet

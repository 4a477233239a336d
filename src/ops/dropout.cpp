// Dropout forward (mask drawn and applied in one pass) and backward.
#include "ops/dropout.h"

#include <algorithm>

#include "dispatch.h"
#include "errors.h"
#include "ops/copy.h"
#include "parallel.h"
#include "random.h"

namespace glassnet {
namespace {

void check_p(double p, const char* op) {
  if (!(p >= 0.0 && p <= 1.0)) fail<ValueError>("[", op, "] dropout probability has to be between 0 and 1, but got ", p);
}

// The multiplier of kept elements, rounded in T as torch's noise.div_(1 - p).
template <class T>
T keep_scale(double p) {
  return p == 1.0 ? T(0) : T(1) / static_cast<T>(1.0 - p);
}

// (number of mask entries, elements per entry, mask shape) for x and mask_dims.
struct MaskLayout {
  int64_t entries = 1, group = 1;
  Shape shape;
};

MaskLayout layout(const Tensor& x, int64_t mask_dims, const char* op) {
  if (mask_dims < 0 || mask_dims > x.dim())
    fail<ValueError>("[", op, "] mask_dims=", mask_dims, " out of range for input of shape ", shape_str(x.shape()));
  MaskLayout m;
  for (int64_t d = 0; d < x.dim(); ++d) {
    const bool own = d < mask_dims;
    m.shape.push_back(own ? x.size(d) : 1);
    (own ? m.entries : m.group) *= x.size(d);
  }
  return m;
}

// out[i] = x[i]·m(i / group) for contiguous x and out (out may alias x); fills mask.
template <class T>
void apply_mask(const T* x, T* out, bool* mask, const MaskLayout& m, double p) {
  const GeneratorState rng = reserve_random(m.entries);
  const T scale = keep_scale<T>(p);
  const float pf = static_cast<float>(p);
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(m.group, 1));
  parallel_for(0, m.entries, grain, [&](int64_t e0, int64_t e1) {
    for (int64_t e = e0; e < e1; ++e) {
      // keep with probability 1 - p; p == 1 drops all (u < 1 always).
      const bool keep = p < 1.0 && uniform_float(random_word(rng, e)) >= pf;
      mask[e] = keep;
      const T f = keep ? scale : T(0);
      const T* xr = x + e * m.group;
      T* yr = out + e * m.group;
      for (int64_t j = 0; j < m.group; ++j) yr[j] = xr[j] * f;
    }
  });
}

void check_input(const Tensor& x, const char* op) {
  if (x.device().is_cuda()) fail<RuntimeError>("[", op, "] not implemented for cuda tensors yet");
  if (!is_floating(x.dtype()))
    fail<TypeError>("[", op, "] expected a float32 or float64 input, got ", dtype_name(x.dtype()));
}

}  // namespace

// x (...) -> out like x, mask (leading mask_dims of x, then 1s)
std::tuple<Tensor, Tensor> dropout_forward(const Tensor& x, double p, int64_t mask_dims) {
  check_input(x, "dropout");
  check_p(p, "dropout");
  const MaskLayout m = layout(x, mask_dims, "dropout");
  const Tensor xc = x.contiguous();
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  Tensor mask = Tensor::empty(m.shape, DType::Bool);
  dispatch_float(x.dtype(), "dropout", [&](auto tag) {
    using T = decltype(tag);
    apply_mask<T>(xc.template data<T>(), out.template data<T>(), mask.data<bool>(), m, p);
  });
  return {out, mask};
}

Tensor dropout_(Tensor& x, double p, int64_t mask_dims) {
  check_input(x, "dropout_");
  check_p(p, "dropout_");
  const MaskLayout m = layout(x, mask_dims, "dropout_");
  Tensor mask = Tensor::empty(m.shape, DType::Bool);
  // A strided x is processed in a contiguous buffer and copied back.
  Tensor work = x.is_contiguous() ? x : x.contiguous();
  dispatch_float(x.dtype(), "dropout_", [&](auto tag) {
    using T = decltype(tag);
    apply_mask<T>(work.template data<T>(), work.template data<T>(), mask.data<bool>(), m, p);
  });
  if (!x.is_contiguous()) copy_(x, work);
  return mask;
}

// grad like x, mask (leading dims of x, then 1s) -> grad·m
Tensor dropout_backward(const Tensor& grad, const Tensor& mask, double p) {
  check_input(grad, "dropout_backward");
  check_p(p, "dropout_backward");
  if (mask.dtype() != DType::Bool || mask.dim() != grad.dim())
    fail<ValueError>("[dropout_backward] expected a bool mask with grad's rank, got ", dtype_name(mask.dtype()),
                     " mask of shape ", shape_str(mask.shape()), " for grad of shape ", shape_str(grad.shape()));
  // The mask must match grad on some leading dims and be 1 on the rest.
  int64_t d = 0;
  while (d < grad.dim() && mask.size(d) == grad.size(d)) ++d;
  for (; d < grad.dim(); ++d)
    if (mask.size(d) != 1)
      fail<ValueError>("[dropout_backward] mask of shape ", shape_str(mask.shape()), " does not fit grad of shape ",
                       shape_str(grad.shape()));
  MaskLayout m;
  m.entries = mask.numel();
  m.group = m.entries ? grad.numel() / m.entries : 0;
  const Tensor gc = grad.contiguous(), mc = mask.contiguous();
  Tensor out = Tensor::empty(grad.shape(), grad.dtype());
  dispatch_float(grad.dtype(), "dropout_backward", [&](auto tag) {
    using T = decltype(tag);
    const T scale = keep_scale<T>(p);
    const T* g = gc.template data<T>();
    const bool* k = mc.data<bool>();
    T* o = out.template data<T>();
    const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(m.group, 1));
    parallel_for(0, m.entries, grain, [&](int64_t e0, int64_t e1) {
      for (int64_t e = e0; e < e1; ++e) {
        const T f = k[e] ? scale : T(0);
        for (int64_t j = 0; j < m.group; ++j) o[e * m.group + j] = g[e * m.group + j] * f;
      }
    });
  });
  return out;
}

}  // namespace glassnet

// linear_backward: three products of the chain rule for y = x·Wᵀ + b, each a
// single GEMM (or a column sum) on 2-D views of the operands, so a batch of
// any rank costs the same as a matrix.
#include "ops/linear.h"

#include <algorithm>
#include <vector>

#include "dispatch.h"
#include "errors.h"
#include "ops/matmul.h"
#include "ops/shape.h"
#include "parallel.h"

namespace glassnet {

template <class T>
void column_sums(const T* a, int64_t rows, int64_t cols, int64_t row_stride, T* out) {
  // Threads split the columns; each walks every row over its column block, so
  // the inner loop is contiguous and the sums need no merging.
  const int64_t grain = std::max<int64_t>(16, 65536 / std::max<int64_t>(rows, 1));
  parallel_for(0, cols, grain, [&](int64_t c0, int64_t c1) {
    std::vector<double> acc(c1 - c0, 0.0);
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = a + r * row_stride + c0;
      for (int64_t j = 0; j < c1 - c0; ++j) acc[j] += row[j];
    }
    for (int64_t j = c0; j < c1; ++j) out[j] = static_cast<T>(acc[j - c0]);
  });
}
template void column_sums<float>(const float*, int64_t, int64_t, int64_t, float*);
template void column_sums<double>(const double*, int64_t, int64_t, int64_t, double*);

namespace {

// t (..., n) as a (rows, n) matrix: a view when the batch dims fold, else a copy.
Tensor as_matrix(const Tensor& t) {
  const int64_t n = t.size(t.dim() - 1);
  if (t.dim() == 1) return t.as_strided({1, n}, {n, t.strides()[0]}, t.offset());
  if (t.dim() == 2) return t;
  return reshape(t, {shape_numel(Shape(t.shape().begin(), t.shape().end() - 1)), n});
}

}  // namespace

std::tuple<Tensor, Tensor, Tensor> linear_backward(const Tensor& grad, const Tensor& x, const Tensor& weight,
                                                   bool need_input, bool need_weight, bool need_bias) {
  if (grad.dtype() != x.dtype() || weight.dtype() != x.dtype())
    fail<TypeError>("[linear_backward] expected grad, input and weight of one dtype, got ", dtype_name(grad.dtype()),
                    ", ", dtype_name(x.dtype()), " and ", dtype_name(weight.dtype()));
  if (weight.dim() != 2 || x.dim() < 1 || grad.dim() != x.dim() || x.size(x.dim() - 1) != weight.size(1) ||
      grad.size(grad.dim() - 1) != weight.size(0))
    fail<ValueError>("[linear_backward] grad ", shape_str(grad.shape()), ", input ", shape_str(x.shape()),
                     " and weight ", shape_str(weight.shape()), " do not fit y = x·Wᵀ + b");
  for (int64_t d = 0; d + 1 < x.dim(); ++d)
    if (grad.size(d) != x.size(d))
      fail<ValueError>("[linear_backward] grad ", shape_str(grad.shape()), " and input ", shape_str(x.shape()),
                       " differ in the batch dims");
  Tensor grad_x, grad_w, grad_b;
  const Tensor g2 = (need_weight || need_bias) ? as_matrix(grad) : Tensor();
  if (need_input) grad_x = matmul(grad, weight);
  if (need_weight) grad_w = mm_tn(g2, as_matrix(x));
  if (need_bias) {
    const int64_t rows = g2.size(0), out_f = g2.size(1);
    grad_b = Tensor::empty({out_f}, grad.dtype());
    // The column sum wants unit column stride; a transposed grad is copied (rare).
    const Tensor gc = g2.strides()[1] == 1 ? g2 : g2.contiguous();
    dispatch_float(grad.dtype(), "linear_backward", [&](auto tag) {
      using T = decltype(tag);
      column_sums<T>(gc.template data<T>(), rows, out_f, gc.strides()[0], grad_b.template data<T>());
    });
  }
  return {grad_x, grad_w, grad_b};
}

}  // namespace glassnet

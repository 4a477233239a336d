#include "ops/reduce_plan.h"

#include "errors.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace glassnet {

namespace {

std::vector<bool> reduced_mask(int64_t ndim, const std::vector<int64_t>& dims, const char* op) {
  std::vector<bool> mask(static_cast<size_t>(ndim), dims.empty());
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, ndim, op);
    if (ndim == 0) continue;  // dim 0 / -1 of a 0-d tensor names the tensor itself
    if (mask[w] && !dims.empty()) {
      for (int64_t e : dims)
        if (e != d && wrap_dim(e, ndim, op) == w)
          fail<ValueError>("[", op, "] dim ", w, " appears multiple times in the list of dims");
    }
    mask[w] = true;
  }
  return mask;
}

}  // namespace

Shape reduced_shape(const Shape& shape, const std::vector<int64_t>& dims, bool keepdim, const char* op) {
  const auto mask = reduced_mask(static_cast<int64_t>(shape.size()), dims, op);
  Shape out;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (!mask[d]) out.push_back(shape[d]);
    else if (keepdim) out.push_back(1);
  }
  return out;
}

ReducePlan plan_reduction(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim, const char* op) {
  const int64_t ndim = x.dim();
  const auto mask = reduced_mask(ndim, dims, op);
  ReducePlan plan;
  for (int64_t d = 0; d < ndim; ++d) {
    if (!mask[d]) plan.out_shape.push_back(x.size(d));
    else if (keepdim) plan.out_shape.push_back(1);
    plan.keep_shape.push_back(mask[d] ? 1 : x.size(d));
  }
  // Ignoring size-1 dims, do the reduced dims form one run? Then the
  // contiguous input already is (outer, len, inner) and needs no permutation.
  int first = -1, last = -1;
  bool one_run = true;
  for (int64_t d = 0; d < ndim; ++d) {
    if (x.size(d) == 1 || !mask[d]) continue;
    if (first < 0) first = static_cast<int>(d);
    else if (last != static_cast<int>(d) - 1) {
      // A kept non-1 dim lies between two reduced ones.
      for (int64_t e = last + 1; e < d; ++e)
        if (!mask[e] && x.size(e) != 1) one_run = false;
    }
    last = static_cast<int>(d);
  }
  if (one_run) {
    plan.x = x.contiguous();
    for (int64_t d = 0; d < ndim; ++d) {
      const int64_t s = x.size(d);
      if (first < 0 || d < first) plan.outer *= s;
      else if (d > last) plan.inner *= s;
      else if (mask[d] || s == 1) plan.len *= s;
    }
    return plan;
  }
  // Kept dims first, reduced dims last, then one contiguous copy.
  for (int64_t d = 0; d < ndim; ++d)
    if (!mask[d]) plan.perm.push_back(d);
  for (int64_t d = 0; d < ndim; ++d)
    if (mask[d]) plan.perm.push_back(d);
  plan.x = permute(x, plan.perm).contiguous();
  for (int64_t d = 0; d < ndim; ++d) {
    if (mask[d]) plan.len *= x.size(d);
    else plan.outer *= x.size(d);
  }
  return plan;
}

Tensor unplan(const ReducePlan& plan, const Tensor& data) {
  if (plan.perm.empty()) return data;
  std::vector<int64_t> inverse(plan.perm.size());
  for (size_t i = 0; i < plan.perm.size(); ++i) inverse[plan.perm[i]] = static_cast<int64_t>(i);
  return permute(data, inverse);
}

}  // namespace glassnet

// Advanced (integer-array) indexing, numpy/torch rules: index, index_put_ and
// index_backward. A plan turns the index list into the result shape, a view
// of x with stride 0 on the broadcast index dims B, and one int64 element
// offset into x per position of B; then get, put and accumulate are plain
// strided loops. See numpy's "Integer array indexing" for the placement rule.
#include <algorithm>

#include "dispatch.h"
#include "errors.h"
#include "ops/copy.h"
#include "ops/elementwise.h"
#include "ops/index.h"
#include "ops/iter.h"

namespace glassnet {

namespace {

struct Plan {
  bool any = false;    // false: no index tensors, the result is x itself
  Shape shape;         // result shape
  Shape x_strides;     // x's element strides per result dim; 0 on B's dims
  int64_t b_start = 0; // B occupies result dims [b_start, b_start + b_shape.size())
  Shape b_shape;
  Tensor offsets;      // int64, contiguous, shape b_shape: element offsets into x
};

std::string shapes_str(const std::vector<Tensor>& ts) {
  std::string s;
  for (size_t i = 0; i < ts.size(); ++i) s += (i ? ", " : "") + shape_str(ts[i].shape());
  return s;
}

Plan make_plan(const Tensor& x, const IndexList& indices, const char* op) {
  // One slot per dim of x; bool masks become one int64 index per dim they cover.
  std::vector<std::optional<Tensor>> per_dim;
  for (const auto& entry : indices) {
    if (!entry) {
      per_dim.emplace_back();
      continue;
    }
    const Tensor& t = *entry;
    detail::check_cpu(t, op);
    const int64_t d = static_cast<int64_t>(per_dim.size());
    if (t.dtype() == DType::Bool) {
      if (t.dim() == 0) fail<IndexError>("[", op, "] 0-d bool masks are not supported here; index with None first");
      if (d + t.dim() > x.dim())
        fail<IndexError>("[", op, "] too many indices for tensor of dimension ", x.dim());
      const Shape covered(x.shape().begin() + d, x.shape().begin() + d + t.dim());
      if (covered != t.shape())
        fail<IndexError>("[", op, "] the shape of the mask ", shape_str(t.shape()), " at index ", d,
                         " does not match the shape of the indexed tensor ", shape_str(x.shape()));
      const Tensor nz = nonzero(t);
      const int64_t k = t.dim();
      for (int64_t j = 0; j < k; ++j) per_dim.emplace_back(nz.as_strided({nz.size(0)}, {k}, nz.offset() + j));
    } else if (t.dtype() == DType::Int64) {
      per_dim.emplace_back(t);
    } else {
      fail<IndexError>("[", op, "] tensors used as indices must be int64 or bool, got ", dtype_name(t.dtype()));
    }
  }
  if (static_cast<int64_t>(per_dim.size()) > x.dim())
    fail<IndexError>("[", op, "] too many indices for tensor of dimension ", x.dim());
  per_dim.resize(x.dim());

  Plan p;
  std::vector<int64_t> adv;
  std::vector<Tensor> idx;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (per_dim[d]) {
      adv.push_back(d);
      idx.push_back(*per_dim[d]);
    }
  if (adv.empty()) return p;
  p.any = true;
  try {
    for (const auto& t : idx) p.b_shape = broadcast_shapes(p.b_shape, t.shape(), op);
  } catch (const ValueError&) {
    fail<IndexError>("[", op, "] shape mismatch: indexing tensors could not be broadcast together with shapes ",
                     shapes_str(idx));
  }
  for (size_t k = 0; k < adv.size(); ++k)
    detail::check_index_range(idx[k], x.size(adv[k]), adv[k], true, op);

  // Adjacent index tensors put B where they stood; otherwise B goes first.
  const bool adjacent = adv.back() - adv.front() + 1 == static_cast<int64_t>(adv.size());
  auto push_b = [&] {
    p.b_start = static_cast<int64_t>(p.shape.size());
    for (int64_t s : p.b_shape) {
      p.shape.push_back(s);
      p.x_strides.push_back(0);
    }
  };
  if (!adjacent) push_b();
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (adjacent && d == adv.front()) push_b();
    if (per_dim[d]) continue;
    p.shape.push_back(x.size(d));
    p.x_strides.push_back(x.strides()[d]);
  }

  // offsets[b] = sum_k wrap(idx_k[b]) * x.stride(adv_k); indices already checked.
  p.offsets = Tensor::zeros(p.b_shape, DType::Int64);
  if (p.offsets.numel() > 0) {
    for (size_t k = 0; k < adv.size(); ++k) {
      const int64_t size = x.size(adv[k]), stride = x.strides()[adv[k]];
      auto loop = make_loop<2>(p.offsets, {&idx[k]});
      loop.run([&](char* const* ptr, const int64_t* s, int64_t n) {
        char* o = ptr[0];
        const char* i = ptr[1];
        for (int64_t e = 0; e < n; ++e, o += s[0], i += s[1]) {
          int64_t v = *reinterpret_cast<const int64_t*>(i);
          if (v < 0) v += size;
          *reinterpret_cast<int64_t*>(o) += v * stride;
        }
      });
    }
  }
  return p;
}

// Strides that place the offsets tensor (shape B) in the result's dims.
Shape offset_strides(const Plan& p) {
  Shape s(p.shape.size(), 0);
  const Shape bs = contiguous_strides(p.b_shape);
  for (size_t i = 0; i < bs.size(); ++i) s[p.b_start + i] = p.b_shape[i] == 1 ? 0 : bs[i];
  return s;
}

}  // namespace

Tensor index(const Tensor& x, const IndexList& indices) {
  detail::check_cpu(x, "index");
  Plan p = make_plan(x, indices, "index");
  if (!p.any) return x;
  Tensor out = Tensor::empty(p.shape, x.dtype());
  if (out.numel() == 0) return out;
  const int64_t esz = static_cast<int64_t>(x.itemsize());
  StridedLoop<3> loop(p.shape,
                      {static_cast<char*>(out.raw_data()), static_cast<char*>(x.raw_data()),
                       static_cast<char*>(p.offsets.raw_data())},
                      {out.strides(), p.x_strides, offset_strides(p)}, {esz, esz, 8});
  dispatch_all(x.dtype(), "index", [&](auto tag) {
    using T = decltype(tag);
    loop.run([&](char* const* ptr, const int64_t* s, int64_t n) {
      for (int64_t e = 0; e < n; ++e) {
        const int64_t off = *reinterpret_cast<const int64_t*>(ptr[2] + e * s[2]);
        *reinterpret_cast<T*>(ptr[0] + e * s[0]) =
            *reinterpret_cast<const T*>(ptr[1] + e * s[1] + off * esz);
      }
    });
  });
  return out;
}

void index_put_(Tensor& x, const IndexList& indices, const Tensor& values, bool accumulate) {
  const char* op = accumulate ? "index_put_(accumulate)" : "index_put_";
  detail::check_cpu(x, op);
  detail::check_cpu(values, op);
  Plan p = make_plan(x, indices, op);
  const Shape& shape = p.any ? p.shape : x.shape();
  bool fits = true;
  try {
    fits = broadcast_shapes(shape, values.shape(), op) == shape;
  } catch (const ValueError&) {
    fits = false;
  }
  if (!fits)
    fail<ValueError>("[", op, "] shape mismatch: values of shape ", shape_str(values.shape()),
                     " cannot be broadcast to indexing result of shape ", shape_str(shape));
  Tensor v = to_dtype(values, x.dtype());
  if (v.storage() == x.storage()) v = clone(v);  // x's writes must not change the values read
  if (!p.any) {
    if (accumulate) binary_(BinaryOp::Add, x, v);
    else copy_(x, v);
    return;
  }
  if (shape_numel(p.shape) == 0) return;
  const int64_t esz = static_cast<int64_t>(x.itemsize());
  const Shape v_strides = broadcast_strides(v, p.shape);
  std::array<char*, 2> base2{static_cast<char*>(x.raw_data()), static_cast<char*>(v.raw_data())};
  if (!accumulate) {
    // Duplicate indices: one of the values wins, as in torch.
    StridedLoop<3> loop(p.shape, {base2[0], base2[1], static_cast<char*>(p.offsets.raw_data())},
                        {p.x_strides, v_strides, offset_strides(p)}, {esz, esz, 8});
    dispatch_all(x.dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      loop.run([&](char* const* ptr, const int64_t* s, int64_t n) {
        for (int64_t e = 0; e < n; ++e) {
          const int64_t off = *reinterpret_cast<const int64_t*>(ptr[2] + e * s[2]);
          *reinterpret_cast<T*>(ptr[0] + e * s[0] + off * esz) = *reinterpret_cast<const T*>(ptr[1] + e * s[1]);
        }
      });
    });
    return;
  }
  // Accumulate: duplicates in B hit the same element, so threads split the
  // other (slice) dims, whose elements are all distinct, and each walks all of B.
  Shape slice_shape = p.shape;
  const int64_t nb_dims = static_cast<int64_t>(p.b_shape.size());
  for (int64_t i = 0; i < nb_dims; ++i) slice_shape[p.b_start + i] = 1;
  const int64_t NB = shape_numel(p.b_shape);
  std::vector<int64_t> v_off(NB);  // byte offset of values at each b
  {
    std::vector<int64_t> b(nb_dims, 0);
    for (int64_t k = 0; k < NB; ++k) {
      int64_t off = 0;
      for (int64_t i = 0; i < nb_dims; ++i) off += b[i] * v_strides[p.b_start + i];
      v_off[k] = off * esz;
      for (int64_t i = nb_dims - 1; i >= 0; --i) {
        if (++b[i] < p.b_shape[i]) break;
        b[i] = 0;
      }
    }
  }
  const int64_t* x_off = p.offsets.data<int64_t>();
  StridedLoop<2> loop(slice_shape, base2, {p.x_strides, v_strides}, {esz, esz});
  dispatch_all(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    loop.run([&](char* const* ptr, const int64_t* s, int64_t n) {
      for (int64_t k = 0; k < NB; ++k) {
        char* xp = ptr[0] + x_off[k] * esz;
        const char* vp = ptr[1] + v_off[k];
        for (int64_t e = 0; e < n; ++e) {
          T& dst = *reinterpret_cast<T*>(xp + e * s[0]);
          dst = static_cast<T>(dst + *reinterpret_cast<const T*>(vp + e * s[1]));
        }
      }
    }, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, NB)));
  });
}

Tensor index_put(const Tensor& x, const IndexList& indices, const Tensor& values, bool accumulate) {
  Tensor out = clone(x);
  index_put_(out, indices, values, accumulate);
  return out;
}

Tensor index_backward(const Tensor& grad, const Shape& input_shape, const IndexList& indices) {
  Tensor out = Tensor::zeros(input_shape, grad.dtype());
  index_put_(out, indices, grad, true);
  return out;
}

}  // namespace glassnet

// Validation and layout of an attention problem (attention_plan.h), and the
// dropout decisions both kernels draw.
#include "ops/attention_plan.h"

#include <cmath>

#include "errors.h"
#include "ops/iter.h"

namespace glassnet::attention_detail {

namespace {

Shape leading(const Tensor& t) { return Shape(t.shape().begin(), t.shape().end() - 2); }

}  // namespace

Tensor unit_last(const Tensor& t) {
  if (t.dim() == 0 || t.size(t.dim() - 1) <= 1 || t.strides().back() == 1) return t;
  return t.contiguous();
}

std::vector<int64_t> batch_offsets(const Tensor& t, const Shape& batch) {
  const int64_t nb = static_cast<int64_t>(batch.size());
  const int64_t tb = t.dim() - 2;  // t's own batch dims, right-aligned to batch
  Shape stride(batch.size(), 0);
  for (int64_t d = 0; d < nb; ++d) {
    const int64_t td = d - (nb - tb);
    if (td >= 0 && t.size(td) != 1) stride[d] = t.strides()[td];
  }
  const int64_t B = shape_numel(batch);
  std::vector<int64_t> off(static_cast<size_t>(B));
  Shape idx(batch.size(), 0);
  int64_t cur = 0;
  for (int64_t b = 0; b < B; ++b) {
    off[b] = cur;
    // Odometer step over the batch coordinates, last dim fastest.
    for (int64_t d = nb - 1; d >= 0; --d) {
      cur += stride[d];
      if (++idx[d] < batch[d]) break;
      cur -= stride[d] * batch[d];
      idx[d] = 0;
    }
  }
  return off;
}

Plan make_plan(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask, double scale, bool is_causal,
               double dropout_p, const char* op) {
  for (const Tensor* t : {&q, &k, &v, mask}) {
    if (t && t->device().is_cuda()) fail<RuntimeError>("[", op, "] not implemented for cuda tensors yet");
  }
  if (!is_floating(q.dtype()))
    fail<TypeError>("[", op, "] expected a float32 or float64 query, got ", dtype_name(q.dtype()));
  if (k.dtype() != q.dtype() || v.dtype() != q.dtype())
    fail<TypeError>("[", op, "] query, key and value must have the same dtype, got ", dtype_name(q.dtype()), ", ",
                    dtype_name(k.dtype()), " and ", dtype_name(v.dtype()));
  if (q.dim() < 2 || k.dim() < 2 || v.dim() < 2)
    fail<ValueError>("[", op, "] query ", shape_str(q.shape()), ", key ", shape_str(k.shape()), " and value ",
                     shape_str(v.shape()), " must have at least 2 dims (..., length, features)");
  Plan p;
  p.L = q.size(q.dim() - 2);
  p.E = q.size(q.dim() - 1);
  p.S = k.size(k.dim() - 2);
  p.Ev = v.size(v.dim() - 1);
  if (k.size(k.dim() - 1) != p.E)
    fail<ValueError>("[", op, "] query ", shape_str(q.shape()), " and key ", shape_str(k.shape()),
                     " must have the same last dim (embedding size)");
  if (v.size(v.dim() - 2) != p.S)
    fail<ValueError>("[", op, "] key ", shape_str(k.shape()), " and value ", shape_str(v.shape()),
                     " must have the same sequence length (dim -2)");
  p.batch = broadcast_shapes(broadcast_shapes(leading(q), leading(k), op), leading(v), op);
  p.B = shape_numel(p.batch);
  if (!(dropout_p >= 0.0 && dropout_p <= 1.0))
    fail<ValueError>("[", op, "] dropout_p has to be between 0 and 1, but got ", dropout_p);
  if (mask) {
    if (is_causal)
      fail<ValueError>("[", op, "] an explicit attn_mask ", shape_str(mask->shape()),
                       " should not be set when is_causal=True");
    if (mask->dtype() != DType::Bool && mask->dtype() != q.dtype())
      fail<TypeError>("[", op, "] attn_mask must be bool or match the query dtype ", dtype_name(q.dtype()),
                      ", got ", dtype_name(mask->dtype()));
    Shape full = p.batch;
    full.push_back(p.L);
    full.push_back(p.S);
    bool fits = mask->dim() <= static_cast<int64_t>(full.size());
    for (int64_t d = 0; fits && d < mask->dim(); ++d) {
      const int64_t m = mask->size(mask->dim() - 1 - d), f = full[full.size() - 1 - d];
      fits = m == f || m == 1;
    }
    if (!fits)
      fail<ValueError>("[", op, "] attn_mask of shape ", shape_str(mask->shape()),
                       " cannot be broadcast to the attention shape ", shape_str(full), " (query ",
                       shape_str(q.shape()), ", key ", shape_str(k.shape()), ")");
    p.mask = mask;
    p.mask_bool = mask->dtype() == DType::Bool;
    // Pad the mask to (..., rows, cols) with broadcast dims so the batch offsets come out of batch_offsets.
    Shape shape = mask->shape(), strides = mask->strides();
    while (shape.size() < 2) {
      shape.insert(shape.begin(), 1);
      strides.insert(strides.begin(), 0);
    }
    const Tensor padded = mask->as_strided(shape, strides, mask->offset());
    p.m_rs = shape[shape.size() - 2] == 1 ? 0 : strides[strides.size() - 2];
    p.m_cs = shape.back() == 1 ? 0 : strides.back();
    p.m_off = batch_offsets(padded, p.batch);
  }
  p.causal = is_causal;
  p.dropout_p = dropout_p;
  p.scale = std::isnan(scale) ? 1.0 / std::sqrt(static_cast<double>(p.E)) : scale;
  p.q = unit_last(q);
  p.k = unit_last(k);
  p.v = unit_last(v);
  p.q_rs = p.q.strides()[q.dim() - 2];
  p.k_rs = p.k.strides()[k.dim() - 2];
  p.v_rs = p.v.strides()[v.dim() - 2];
  p.q_off = batch_offsets(p.q, p.batch);
  p.k_off = batch_offsets(p.k, p.batch);
  p.v_off = batch_offsets(p.v, p.batch);
  return p;
}

void dropout_keep_block(const GeneratorState& rng, float p, int64_t L, int64_t S, int64_t b, int64_t i0, int64_t j0,
                        int64_t rows, int64_t cols, uint8_t* keep) {
  for (int64_t r = 0; r < rows; ++r) {
    int64_t idx = ((b * L + i0 + r) * S) + j0;
    const int64_t end = idx + cols;
    uint8_t* out = keep + r * cols;
    while (idx < end) {
      const std::array<uint32_t, 4> w = philox4x32(rng.offset + static_cast<uint64_t>(idx) / 4, rng.seed);
      for (int64_t lane = idx % 4; lane < 4 && idx < end; ++lane, ++idx) *out++ = uniform_float(w[lane]) >= p;
    }
  }
}

}  // namespace glassnet::attention_detail

namespace glassnet {

Tensor attention_dropout_mask(const Shape& batch, int64_t L, int64_t S, double dropout_p, GeneratorState rng) {
  for (int64_t d : batch)
    if (d < 0) fail<ValueError>("[attention_dropout_mask] negative batch size in ", shape_str(batch));
  if (L < 0 || S < 0) fail<ValueError>("[attention_dropout_mask] negative length L=", L, " S=", S);
  Shape shape = batch;
  shape.push_back(L);
  shape.push_back(S);
  Tensor mask = Tensor::empty(shape, DType::Bool);
  const int64_t B = shape_numel(batch);
  // bool is one byte holding 0 or 1, so the decisions are written straight into it.
  auto* keep = reinterpret_cast<uint8_t*>(mask.data<bool>());
  for (int64_t b = 0; b < B; ++b)
    attention_detail::dropout_keep_block(rng, static_cast<float>(dropout_p), L, S, b, 0, 0, L, S, keep + b * L * S);
  return mask;
}

}  // namespace glassnet

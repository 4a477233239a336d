// Bindings for the fused attention kernels (src/ops/attention.h). The dropout
// stream travels to Python as (seed, offset) and back into the backward.
#include "bindings.h"
#include "ops/attention.h"

namespace glassnet::bindings {

namespace {

using MaybeTensor = std::optional<Tensor>;
const Tensor* ptr(const MaybeTensor& t) { return t ? &*t : nullptr; }

}  // namespace

void init_attention(py::module_& m) {
  const auto nogil = py::call_guard<py::gil_scoped_release>();

  m.def("attention_forward", [](const Tensor& q, const Tensor& k, const Tensor& v, const MaybeTensor& mask,
                                double scale, bool is_causal, double dropout_p) {
    AttentionForward r = attention_forward(q, k, v, ptr(mask), scale, is_causal, dropout_p);
    return std::make_tuple(r.out, r.lse, r.rng.seed, r.rng.offset);
  }, py::arg("q"), py::arg("k"), py::arg("v"), py::arg("mask"), py::arg("scale"), py::arg("is_causal"),
        py::arg("dropout_p"), nogil);

  m.def("attention_backward", [](const Tensor& grad, const Tensor& q, const Tensor& k, const Tensor& v,
                                 const MaybeTensor& mask, const Tensor& out, const Tensor& lse, double scale,
                                 bool is_causal, double dropout_p, uint64_t seed, uint64_t offset,
                                 bool need_mask_grad) {
    AttentionGrads g = attention_backward(grad, q, k, v, ptr(mask), out, lse, scale, is_causal, dropout_p,
                                          GeneratorState{seed, offset}, need_mask_grad);
    MaybeTensor gm = g.grad_mask.defined() ? MaybeTensor(g.grad_mask) : std::nullopt;
    return std::make_tuple(g.grad_q, g.grad_k, g.grad_v, gm);
  }, py::arg("grad"), py::arg("q"), py::arg("k"), py::arg("v"), py::arg("mask"), py::arg("out"), py::arg("lse"),
        py::arg("scale"), py::arg("is_causal"), py::arg("dropout_p"), py::arg("seed"), py::arg("offset"),
        py::arg("need_mask_grad"), nogil);

  m.def("attention_dropout_mask", [](const Shape& batch, int64_t L, int64_t S, double dropout_p, uint64_t seed,
                                     uint64_t offset) {
    return attention_dropout_mask(batch, L, S, dropout_p, GeneratorState{seed, offset});
  }, py::arg("batch"), py::arg("L"), py::arg("S"), py::arg("dropout_p"), py::arg("seed"), py::arg("offset"), nogil);
}

}  // namespace glassnet::bindings

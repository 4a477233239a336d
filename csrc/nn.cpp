// Bindings for the nn.functional kernels: linear's backward, batch/layer/group
// norm, dropout, embedding. Optional tensors arrive as None; gradients a
// backward was not asked for come back as None.
#include "bindings.h"
#include "ops/dropout.h"
#include "ops/embedding.h"
#include "ops/linear.h"
#include "ops/norm.h"

namespace glassnet::bindings {

namespace {

using MaybeTensor = std::optional<Tensor>;
using Grads = std::tuple<MaybeTensor, MaybeTensor, MaybeTensor>;

const Tensor* ptr(const MaybeTensor& t) { return t ? &*t : nullptr; }
MaybeTensor maybe(const Tensor& t) { return t.defined() ? MaybeTensor(t) : std::nullopt; }
Grads grads(const std::tuple<Tensor, Tensor, Tensor>& g) {
  return {maybe(std::get<0>(g)), maybe(std::get<1>(g)), maybe(std::get<2>(g))};
}

}  // namespace

void init_nn(py::module_& m) {
  const auto nogil = py::call_guard<py::gil_scoped_release>();

  m.def("linear_backward", [](const Tensor& grad, const Tensor& x, const Tensor& weight, bool need_input,
                              bool need_weight, bool need_bias) {
    return grads(linear_backward(grad, x, weight, need_input, need_weight, need_bias));
  }, py::arg("grad"), py::arg("x"), py::arg("weight"), py::arg("need_input"), py::arg("need_weight"),
        py::arg("need_bias"), nogil);

  m.def("batch_norm_forward", [](const Tensor& x, const MaybeTensor& running_mean, const MaybeTensor& running_var,
                                 const MaybeTensor& weight, const MaybeTensor& bias, bool training, double momentum,
                                 double eps) {
    return batch_norm_forward(x, ptr(running_mean), ptr(running_var), ptr(weight), ptr(bias), training, momentum,
                              eps);
  }, py::arg("x"), py::arg("running_mean"), py::arg("running_var"), py::arg("weight"), py::arg("bias"),
        py::arg("training"), py::arg("momentum"), py::arg("eps"), nogil);
  m.def("batch_norm_backward", [](const Tensor& grad, const Tensor& x, const MaybeTensor& weight, const Tensor& mean,
                                  const Tensor& rstd, bool training, bool need_input, bool need_weight,
                                  bool need_bias) {
    return grads(batch_norm_backward(grad, x, ptr(weight), mean, rstd, training, need_input, need_weight, need_bias));
  }, py::arg("grad"), py::arg("x"), py::arg("weight"), py::arg("mean"), py::arg("rstd"), py::arg("training"),
        py::arg("need_input"), py::arg("need_weight"), py::arg("need_bias"), nogil);

  m.def("layer_norm_forward", [](const Tensor& x, const Shape& normalized_shape, const MaybeTensor& weight,
                                 const MaybeTensor& bias, double eps) {
    return layer_norm_forward(x, normalized_shape, ptr(weight), ptr(bias), eps);
  }, py::arg("x"), py::arg("normalized_shape"), py::arg("weight"), py::arg("bias"), py::arg("eps"), nogil);
  m.def("layer_norm_backward", [](const Tensor& grad, const Tensor& x, const Shape& normalized_shape,
                                  const MaybeTensor& weight, const Tensor& mean, const Tensor& rstd, bool need_input,
                                  bool need_weight, bool need_bias) {
    return grads(layer_norm_backward(grad, x, normalized_shape, ptr(weight), mean, rstd, need_input, need_weight,
                                     need_bias));
  }, py::arg("grad"), py::arg("x"), py::arg("normalized_shape"), py::arg("weight"), py::arg("mean"), py::arg("rstd"),
        py::arg("need_input"), py::arg("need_weight"), py::arg("need_bias"), nogil);

  m.def("group_norm_forward", [](const Tensor& x, int64_t num_groups, const MaybeTensor& weight,
                                 const MaybeTensor& bias, double eps) {
    return group_norm_forward(x, num_groups, ptr(weight), ptr(bias), eps);
  }, py::arg("x"), py::arg("num_groups"), py::arg("weight"), py::arg("bias"), py::arg("eps"), nogil);
  m.def("group_norm_backward", [](const Tensor& grad, const Tensor& x, int64_t num_groups, const MaybeTensor& weight,
                                  const Tensor& mean, const Tensor& rstd, bool need_input, bool need_weight,
                                  bool need_bias) {
    return grads(group_norm_backward(grad, x, num_groups, ptr(weight), mean, rstd, need_input, need_weight,
                                     need_bias));
  }, py::arg("grad"), py::arg("x"), py::arg("num_groups"), py::arg("weight"), py::arg("mean"), py::arg("rstd"),
        py::arg("need_input"), py::arg("need_weight"), py::arg("need_bias"), nogil);

  m.def("dropout_forward", &dropout_forward, py::arg("x"), py::arg("p"), py::arg("mask_dims"), nogil);
  m.def("dropout_", [](Tensor& x, double p, int64_t mask_dims) { return dropout_(x, p, mask_dims); }, py::arg("x"),
        py::arg("p"), py::arg("mask_dims"), nogil);
  m.def("dropout_backward", &dropout_backward, py::arg("grad"), py::arg("mask"), py::arg("p"), nogil);

  m.def("embedding_forward", &embedding_forward, py::arg("weight"), py::arg("indices"), nogil);
  m.def("embedding_backward", &embedding_backward, py::arg("grad"), py::arg("indices"), py::arg("num_weights"),
        py::arg("padding_idx"), py::arg("scale_grad_by_freq"), nogil);
  m.def("embedding_renorm_", [](Tensor& weight, const Tensor& indices, double max_norm, double norm_type) {
    embedding_renorm_(weight, indices, max_norm, norm_type);
  }, py::arg("weight"), py::arg("indices"), py::arg("max_norm"), py::arg("norm_type"), nogil);
}

}  // namespace glassnet::bindings

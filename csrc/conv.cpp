// Bindings for convolution, pooling and padding (src/ops/conv.h, pool.h,
// pad.h). Sizes arrive as (h, w) pairs already normalised by the Python
// wrappers; gradients a backward was not asked for come back as None.
#include "bindings.h"
#include "errors.h"
#include "ops/conv.h"
#include "ops/pad.h"
#include "ops/pool.h"

namespace glassnet::bindings {

namespace {

using MaybeTensor = std::optional<Tensor>;
using Pair = std::pair<int64_t, int64_t>;

MaybeTensor maybe(const Tensor& t) { return t.defined() ? MaybeTensor(t) : std::nullopt; }
std::tuple<MaybeTensor, MaybeTensor, MaybeTensor> grads(const std::tuple<Tensor, Tensor, Tensor>& g) {
  return {maybe(std::get<0>(g)), maybe(std::get<1>(g)), maybe(std::get<2>(g))};
}

Conv2dArgs conv_args(Pair stride, Pair padding, Pair dilation, int64_t groups) {
  Conv2dArgs a;
  a.stride_h = stride.first, a.stride_w = stride.second;
  a.pad_h = padding.first, a.pad_w = padding.second;
  a.dilation_h = dilation.first, a.dilation_w = dilation.second;
  a.groups = groups;
  return a;
}

Pool2dArgs pool_args(Pair kernel, Pair stride, Pair padding, Pair dilation, bool ceil_mode) {
  Pool2dArgs a;
  a.kh = kernel.first, a.kw = kernel.second;
  a.stride_h = stride.first, a.stride_w = stride.second;
  a.pad_h = padding.first, a.pad_w = padding.second;
  a.dilation_h = dilation.first, a.dilation_w = dilation.second;
  a.ceil_mode = ceil_mode;
  return a;
}

PadMode pad_mode(const std::string& mode) {
  if (mode == "constant") return PadMode::Constant;
  if (mode == "reflect") return PadMode::Reflect;
  if (mode == "replicate") return PadMode::Replicate;
  if (mode == "circular") return PadMode::Circular;
  fail<ValueError>("[pad] unknown mode '", mode, "'; expected constant, reflect, replicate or circular");
}

}  // namespace

void init_conv(py::module_& m) {
  const auto nogil = py::call_guard<py::gil_scoped_release>();

  m.def("conv2d_forward", [](const Tensor& x, const Tensor& weight, const MaybeTensor& bias, Pair stride,
                             Pair padding, Pair dilation, int64_t groups) {
    return conv2d_forward(x, weight, bias ? &*bias : nullptr, conv_args(stride, padding, dilation, groups));
  }, py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("stride"), py::arg("padding"), py::arg("dilation"),
        py::arg("groups"), nogil);
  m.def("conv2d_backward", [](const Tensor& grad, const Tensor& x, const Tensor& weight, Pair stride, Pair padding,
                              Pair dilation, int64_t groups, bool need_input, bool need_weight, bool need_bias) {
    return grads(conv2d_backward(grad, x, weight, conv_args(stride, padding, dilation, groups), need_input,
                                 need_weight, need_bias));
  }, py::arg("grad"), py::arg("x"), py::arg("weight"), py::arg("stride"), py::arg("padding"), py::arg("dilation"),
        py::arg("groups"), py::arg("need_input"), py::arg("need_weight"), py::arg("need_bias"), nogil);

  m.def("conv_transpose2d_forward", [](const Tensor& x, const Tensor& weight, const MaybeTensor& bias, Pair stride,
                                       Pair padding, Pair output_padding, int64_t groups, Pair dilation) {
    return conv_transpose2d_forward(x, weight, bias ? &*bias : nullptr, conv_args(stride, padding, dilation, groups),
                                    output_padding.first, output_padding.second);
  }, py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("stride"), py::arg("padding"),
        py::arg("output_padding"), py::arg("groups"), py::arg("dilation"), nogil);
  m.def("conv_transpose2d_backward", [](const Tensor& grad, const Tensor& x, const Tensor& weight, Pair stride,
                                        Pair padding, int64_t groups, Pair dilation, bool need_input,
                                        bool need_weight, bool need_bias) {
    return grads(conv_transpose2d_backward(grad, x, weight, conv_args(stride, padding, dilation, groups), need_input,
                                           need_weight, need_bias));
  }, py::arg("grad"), py::arg("x"), py::arg("weight"), py::arg("stride"), py::arg("padding"), py::arg("groups"),
        py::arg("dilation"), py::arg("need_input"), py::arg("need_weight"), py::arg("need_bias"), nogil);

  m.def("max_pool2d_forward", [](const Tensor& x, Pair kernel, Pair stride, Pair padding, Pair dilation,
                                 bool ceil_mode) {
    return max_pool2d_forward(x, pool_args(kernel, stride, padding, dilation, ceil_mode));
  }, py::arg("x"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"), py::arg("dilation"),
        py::arg("ceil_mode"), nogil);
  m.def("max_pool2d_backward", &max_pool2d_backward, py::arg("grad"), py::arg("indices"), py::arg("input_shape"),
        nogil);

  m.def("avg_pool2d_forward", [](const Tensor& x, Pair kernel, Pair stride, Pair padding, bool ceil_mode,
                                 bool count_include_pad, int64_t divisor_override) {
    Pool2dArgs a = pool_args(kernel, stride, padding, {1, 1}, ceil_mode);
    a.count_include_pad = count_include_pad;
    a.divisor_override = divisor_override;
    return avg_pool2d_forward(x, a);
  }, py::arg("x"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"), py::arg("ceil_mode"),
        py::arg("count_include_pad"), py::arg("divisor_override"), nogil);
  m.def("avg_pool2d_backward", [](const Tensor& grad, const Shape& input_shape, Pair kernel, Pair stride,
                                  Pair padding, bool ceil_mode, bool count_include_pad, int64_t divisor_override) {
    Pool2dArgs a = pool_args(kernel, stride, padding, {1, 1}, ceil_mode);
    a.count_include_pad = count_include_pad;
    a.divisor_override = divisor_override;
    return avg_pool2d_backward(grad, input_shape, a);
  }, py::arg("grad"), py::arg("input_shape"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"),
        py::arg("ceil_mode"), py::arg("count_include_pad"), py::arg("divisor_override"), nogil);

  m.def("adaptive_avg_pool2d_forward", [](const Tensor& x, Pair output_size) {
    return adaptive_avg_pool2d_forward(x, output_size.first, output_size.second);
  }, py::arg("x"), py::arg("output_size"), nogil);
  m.def("adaptive_avg_pool2d_backward", &adaptive_avg_pool2d_backward, py::arg("grad"), py::arg("input_shape"),
        nogil);

  m.def("pad_forward", [](const Tensor& x, const std::vector<int64_t>& pads, const std::string& mode, double value) {
    return pad_forward(x, pads, pad_mode(mode), value);
  }, py::arg("x"), py::arg("pads"), py::arg("mode"), py::arg("value"), nogil);
  m.def("pad_backward", [](const Tensor& grad, const Shape& input_shape, const std::vector<int64_t>& pads,
                           const std::string& mode) {
    return pad_backward(grad, input_shape, pads, pad_mode(mode));
  }, py::arg("grad"), py::arg("input_shape"), py::arg("pads"), py::arg("mode"), nogil);
}

}  // namespace glassnet::bindings
